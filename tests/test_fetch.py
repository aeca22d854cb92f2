"""
The one fetcher (companion/fetch.py): what it refuses, for feeds, their
transcripts and the audio aligned alike; and how it streams, redirects and
checks certificates. No internet: RoutedNetwork (tests/servers.py) gives
made-up names a public address that leads to a local server.
"""

import http.server
import threading
import tracemalloc

import pytest

from alignment.runs import AudioUnavailable, create_run, download_audio, episode_audio_location, run_alignment
from alignment.models import AlignmentRun
from companion import fetch
from companion.fetch import FetchError, download, fetch_bytes, is_public
from episodes.feeds.imports import import_feed, read_feed_source
from episodes.feeds.parse import FeedError
from episodes.models import Episode, TranscriptLink
from tests.factories import make_episode, make_sentences
from tests.servers import GIGABYTE, PUBLIC_ADDRESS, RoutedNetwork, serve_origin
from tests.testdata import TLS

PUBLIC_NAME = "feeds.example"
CUES = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nStalin met Kirov.\n"
FILES = {"/feed.xml": b"<rss/>", "/transcript.vtt": CUES, "/audio.mp3": b"ID3" + bytes(100), "/file": b"secret"}
REFUSED = "is a local or private address"


@pytest.fixture
def origin():
    with serve_origin(FILES) as origin:
        yield origin


@pytest.fixture
def network(origin, monkeypatch):
    routed = RoutedNetwork([PUBLIC_NAME, "other.example"], origin.port)
    monkeypatch.setattr(fetch, "network", routed)
    return routed


# --- Which addresses are public ----------------------------------------------------------


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "::1",  # loopback
    "10.0.0.1", "172.16.5.4", "192.168.1.20", "fd12::1", "fc00::1",  # private
    "169.254.169.254", "fe80::1", "fe80::1%eth0",  # link-local (a cloud's metadata service)
    "224.0.0.1", "239.255.255.250", "ff02::1",  # multicast
    "240.0.0.1", "255.255.255.255", "0.0.0.0", "::",  # reserved, broadcast, unspecified
    "100.64.0.1", "192.0.2.10", "198.18.0.1",  # shared (carrier NAT), documentation, benchmarking
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1",  # IPv4 inside IPv6: mapped, compatible
    "2002:7f00:1::1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "64:ff9b::7f00:1",  # 6to4, Teredo, NAT64
])
def test_local_private_and_special_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", PUBLIC_ADDRESS, "2606:4700:4700::1111"])
def test_internet_addresses_are_public(address):
    assert is_public(address)


# --- Refused for feeds, transcripts and audio alike -----------------------------------------

def feed_with(enclosure="https://media.example.org/1.mp3", transcript=""):
    transcript = f'<podcast:transcript url="{transcript}" type="text/vtt"/>' if transcript else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <channel><title>A Show</title>
    <item><title>Episode 1 - Kirov</title><guid>show-1</guid><itunes:episode>1</itunes:episode>
      <enclosure url="{enclosure}" length="103" type="audio/mpeg"/>{transcript}</item>
  </channel>
</rss>""".encode()


def fetch_as_feed(url):
    with pytest.raises(FeedError) as refused:
        read_feed_source(url)
    return str(refused.value)


def fetch_as_transcript(url):
    report = import_feed(feed_with(transcript=url))
    assert report.transcripts_failed == 1
    return TranscriptLink.objects.get(url=url).error


def align_to(episode, audio):
    make_sentences(episode, "Stalin met Kirov.")
    run = run_alignment(create_run(episode, audio))
    assert run.status == AlignmentRun.Status.FAILED
    return run.message


def fetch_as_enclosure(url):
    """An item's enclosure becomes the episode's audio; aligning to it fetches it."""
    import_feed(feed_with(enclosure=url))
    episode = Episode.objects.get(guid="show-1")
    return align_to(episode, episode_audio_location(episode))


def fetch_as_alignment_audio(url):
    return align_to(make_episode(), url)


KINDS = {"feed": fetch_as_feed, "transcript": fetch_as_transcript, "enclosure": fetch_as_enclosure,
         "alignment audio": fetch_as_alignment_audio}
TARGETS = {
    "loopback": "http://127.0.0.1:{port}/file",
    "private": "http://10.0.0.1/file",
    "private-192": "http://192.168.1.20:{port}/file",
    "name of loopback": "http://localhost:{port}/file",
    "mapped loopback": "http://[::ffff:127.0.0.1]:{port}/file",
    "redirect to loopback": f"http://{PUBLIC_NAME}/redirect?to=http://127.0.0.1:{{port}}/file",
}


@pytest.mark.django_db
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", KINDS)
def test_local_and_private_addresses_are_refused_before_connecting(kind, target, origin, network):
    url = TARGETS[target].format(port=origin.port)
    message = KINDS[kind](url)
    assert REFUSED in message and "DJANGO_FETCH_ALLOW_PRIVATE" in message
    if target == "redirect to loopback":  # the public first hop is made; the redirect is not followed
        assert origin.paths == [url.removeprefix(f"http://{PUBLIC_NAME}")]
        assert "(redirected from" in message
    else:
        assert origin.paths == []
    assert set(network.connections) <= {PUBLIC_ADDRESS}  # never a connection to anything else


@pytest.mark.django_db
def test_the_same_files_at_a_public_address_are_fetched(origin, network):
    """What the refusals above refuse is the address, not feeds, transcripts or audio."""
    assert read_feed_source(f"http://{PUBLIC_NAME}/feed.xml") == b"<rss/>"
    url = f"http://{PUBLIC_NAME}/transcript.vtt"
    report = import_feed(feed_with(transcript=url))
    assert report.transcripts_imported == 1 and TranscriptLink.objects.get(url=url).error == ""
    path = download_audio(f"http://{PUBLIC_NAME}/audio.mp3")
    try:
        assert path.read_bytes() == FILES["/audio.mp3"] and path.suffix == ".mp3"
    finally:
        path.unlink()
    assert network.connections == [PUBLIC_ADDRESS] * 3


def test_allow_private_lets_fetches_reach_the_local_network(origin, settings):
    settings.FETCH_ALLOW_PRIVATE = True
    assert fetch_bytes(f"http://127.0.0.1:{origin.port}/file", max_bytes=100) == b"secret"


# --- Resolving once, connecting to what was checked ---------------------------------------


class RebindingNetwork(RoutedNetwork):
    """A DNS answer that changes: public when checked, loopback when asked again."""

    def resolve(self, host, port):
        self.resolved.append(host)
        return [PUBLIC_ADDRESS] if len(self.resolved) == 1 else ["127.0.0.1"]


def test_the_name_is_resolved_once_and_the_checked_address_is_the_one_connected(origin, monkeypatch):
    rebinding = RebindingNetwork([], origin.port)
    monkeypatch.setattr(fetch, "network", rebinding)
    assert fetch_bytes(f"http://{PUBLIC_NAME}/file", max_bytes=100) == b"secret"
    assert rebinding.resolved == [PUBLIC_NAME] and rebinding.connections == [PUBLIC_ADDRESS]


# --- Redirects ------------------------------------------------------------------------------


def test_redirects_are_followed_a_few_times_then_refused(origin, network):
    hop = f"http://{PUBLIC_NAME}/file"
    for _ in range(fetch.MAX_REDIRECTS):
        hop = f"http://{PUBLIC_NAME}/redirect?to={hop}"
    assert fetch_bytes(hop, max_bytes=100) == b"secret"
    with pytest.raises(FetchError, match=f"more than {fetch.MAX_REDIRECTS} redirects"):
        fetch_bytes(f"http://{PUBLIC_NAME}/redirect?to={hop}", max_bytes=100)


def test_a_redirect_to_another_scheme_is_refused(origin, network):
    with pytest.raises(FetchError, match=r"file:///etc/passwd \(redirected from .*only http:// and https://"):
        fetch_bytes(f"http://{PUBLIC_NAME}/redirect?to=file:///etc/passwd", max_bytes=100)


def test_only_http_and_https_urls_are_fetched():
    for url in ["file:///etc/passwd", "ftp://feeds.example/feed.xml", "gopher://feeds.example/"]:
        with pytest.raises(FetchError, match="only http:// and https:// URLs are fetched"):
            fetch_bytes(url, max_bytes=100)


# --- Size and time ------------------------------------------------------------------------


def test_a_gigabyte_is_cut_at_the_cap_without_filling_memory(origin, network, tmp_path):
    """Streamed to a file: memory stays flat; the partial file is removed; the server stops early."""
    cap = 16 * 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match=r"the audio is larger than the limit of 16 MB \(16,777,216 bytes\)"):
            download(f"http://{PUBLIC_NAME}/gigabyte", max_bytes=cap, what="audio", folder=tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Far under the 16 MB read (a buffered body would hold all of it). tracemalloc counts every
    # thread of the process, and a test process may still have a live server's threads about.
    assert peak < cap // 4, f"{peak:,} bytes of Python objects at the peak"
    assert origin.stream_ended.wait(10), "the server is still streaming"
    assert cap < origin.sent < GIGABYTE // 8, f"the server sent {origin.sent:,} bytes"
    assert list(tmp_path.iterdir()) == []


def test_a_gigabyte_announced_is_refused_before_it_is_read(origin, network, tmp_path):
    with pytest.raises(FetchError, match=r"the audio is 1,073,741,824 bytes; the limit is 16 MB"):
        download(f"http://{PUBLIC_NAME}/gigabyte-declared", max_bytes=16 * 1024 * 1024, what="audio",
                 folder=tmp_path)
    assert origin.sent < GIGABYTE // 16 and list(tmp_path.iterdir()) == []


def test_the_alignments_download_is_capped_the_same_way(origin, network, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with pytest.raises(AudioUnavailable, match="larger than the limit of 1 MB"):
        download_audio(f"http://{PUBLIC_NAME}/gigabyte", limit=1024 * 1024)
    assert list(tmp_path.iterdir()) == []


def test_a_server_dripping_bytes_is_cut_off_at_the_total_time_limit(origin, network):
    with pytest.raises(FetchError, match="still downloading after 1 seconds; given up"):
        fetch_bytes(f"http://{PUBLIC_NAME}/drip", max_bytes=1000, timeout=1, total_timeout=1)


def test_a_missing_file_and_a_closed_port_are_clear_errors(origin, network, settings):
    with pytest.raises(FetchError, match=f"http://{PUBLIC_NAME}/nowhere: the server answered 404 Not Found"):
        fetch_bytes(f"http://{PUBLIC_NAME}/nowhere", max_bytes=100)
    settings.FETCH_ALLOW_PRIVATE = True
    with pytest.raises(FetchError, match=r"http://127.0.0.1:9/: could not be reached \(the connection was refused\)"):
        fetch_bytes("http://127.0.0.1:9/", max_bytes=100)


# --- TLS: the address is pinned, the name is what is verified --------------------------------


@pytest.fixture
def tls_origin(monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(TLS / "ca.pem"))  # trust the tests' own CA, and only it
    with serve_origin(FILES, certificate=TLS / "feeds.example.pem") as origin:
        monkeypatch.setattr(fetch, "network", RoutedNetwork([PUBLIC_NAME, "other.example"], origin.port))
        yield origin


def test_https_sends_the_name_and_checks_the_certificate_against_it(tls_origin):
    assert fetch_bytes(f"https://{PUBLIC_NAME}/file", max_bytes=100) == b"secret"
    assert tls_origin.sni == [PUBLIC_NAME]


def test_a_certificate_for_another_name_is_refused(tls_origin):
    """other.example reaches the same server; its certificate names feeds.example only."""
    with pytest.raises(FetchError, match="https://other.example/file: the server's certificate is not valid"):
        fetch_bytes("https://other.example/file", max_bytes=100)
    assert tls_origin.paths == []


@pytest.mark.parametrize("declared", ["²", "-1", "9" * 5000])
def test_a_length_that_is_not_a_number_is_ignored_and_the_bytes_counted(declared, settings):
    """"²" is a digit to str.isdigit(), and ten thousand digits are too many for int(): neither may raise."""
    class OddLength(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", declared)
            self.end_headers()
            self.wfile.write(b"x" * 5000)

        def log_message(self, *args):
            pass

    settings.FETCH_ALLOW_PRIVATE = True
    httpd = http.server.HTTPServer(("127.0.0.1", 0), OddLength)
    threading.Thread(target=lambda: [httpd.handle_request() for _ in range(2)], daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        assert len(fetch_bytes(url, max_bytes=10_000, what="feed")) == 5000
        with pytest.raises(FetchError, match="limit"):
            fetch_bytes(url, max_bytes=1000, what="feed")
    finally:
        httpd.server_close()
