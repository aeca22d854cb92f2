"""
/feed.xml as Apple Podcasts, Spotify and the Podcast Index list it: the
machine-checkable lines of docs/feed-directories.md, each a test.
"""

import datetime
import struct
import zlib

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from lxml import etree

from episodes.artwork import cover_problems, jpeg_size, png_size, validate_cover_art
from episodes.models import Episode, Podcast
from episodes.models.show import DEMO_COVER
from tests.test_podcast_feed import FEED, NS, get_feed, item_of, show  # noqa: F401  (show: a fixture)

pytestmark = pytest.mark.django_db


def png(width, height, colour_type=2):
    """A real PNG of that size (one flat colour), as an editor might upload."""
    channels = {0: 1, 2: 3, 6: 4}[colour_type]
    raw = b"".join(b"\0" + b"\x80" * (width * channels) for _ in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def jpeg_header(width, height, components=3):
    """The start of a JPEG: SOI, an APP0 segment, then a baseline start-of-frame."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    frame = struct.pack(">HBHHB", 8 + 3 * components, 8, height, width, components) + b"\x01\x11\x00" * components
    return b"\xff\xd8" + app0 + b"\xff\xc0" + frame


def channel(client):
    return etree.fromstring(get_feed(client)).find("channel")


# --- Artwork ------------------------------------------------------------------------


def test_the_demo_show_has_square_artwork_directories_accept(client):
    """Without a Podcast row the demo's own cover: itunes:image and <image>, a 3000 px square RGB PNG in static/."""
    found = channel(client)
    href = found.find("itunes:image", NS).get("href")
    assert href == f"http://testserver/static/{DEMO_COVER}"
    assert found.findtext("image/url") == href
    assert found.findtext("image/title") == found.findtext("title")
    data = open(finders.find(DEMO_COVER), "rb").read()
    assert png_size(data) == (3000, 3000, True) and cover_problems(data) == []


def test_an_editors_upload_is_the_shows_artwork(client, show):
    podcast = Podcast.objects.get()
    podcast.image = SimpleUploadedFile("cover.png", png(1400, 1400), "image/png")
    podcast.full_clean()
    podcast.save()
    href = channel(client).find("itunes:image", NS).get("href")
    assert href.startswith("http://testserver/media/podcast/cover") and href.endswith(".png")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (png(1400, 1500), "must be square; this one is 1400 × 1500"),
        (png(1000, 1000), "1400 to 3000 pixels a side; this one is 1000 × 1000"),
        (png(3001, 3001), "1400 to 3000 pixels a side"),
        (png(1400, 1400, colour_type=0), "RGB colour"),
        (jpeg_header(2000, 2000, components=4), "RGB colour"),
        (b"GIF89a" + b"\0" * 100, "must be a JPEG or PNG"),
    ],
)
def test_artwork_directories_refuse_is_refused_with_the_reason(data, problem):
    with pytest.raises(ValidationError, match=problem):
        validate_cover_art(SimpleUploadedFile("cover", data))


def test_a_jpeg_is_measured_from_its_frame_header():
    assert jpeg_size(jpeg_header(3000, 3000)) == (3000, 3000, True)
    assert cover_problems(jpeg_header(3000, 3000)) == []


# --- Owner, dates, durations ----------------------------------------------------------


def test_the_owner_is_the_podcasts_or_the_configured_email(client, show):
    assert channel(client).find("itunes:owner", NS) is None  # no address known: no owner to give
    with override_settings(PODCAST_FEED_OWNER_EMAIL="feeds@example.com"):
        owner = channel(client).find("itunes:owner", NS)
    assert (owner.findtext("itunes:name", namespaces=NS), owner.findtext("itunes:email", namespaces=NS)) == (
        "Wesley Livesay", "feeds@example.com")
    Podcast.objects.update(owner_name="Companion editors", owner_email="editors@example.com")
    owner = channel(client).find("itunes:owner", NS)
    assert (owner.findtext("itunes:name", namespaces=NS), owner.findtext("itunes:email", namespaces=NS)) == (
        "Companion editors", "editors@example.com")


def test_every_item_has_a_pub_date(client, show):
    """An episode with no release date is dated by its transcript or last change, and says so."""
    assert show["bare"].published is None
    item = item_of(get_feed(client), show["bare"])
    stamp = show["bare"].updated.date().strftime("%d %b %Y")
    assert stamp in item.findtext("pubDate")
    assert item.findtext("description").endswith("Release date unknown: dated by the day its transcript was added here.")
    dated = item_of(get_feed(client), show["timed"])
    assert "Release date unknown" not in dated.findtext("description")


def test_a_date_marked_as_the_transcripts_is_said_to_be_one(client, show):
    episode = show["timed"]
    Episode.objects.filter(pk=episode.pk).update(published_is_transcript_date=True)
    item = item_of(get_feed(client), episode)
    assert item.findtext("pubDate") == "Sun, 11 Aug 2019 00:00:00 +0000"
    assert "Release date unknown" in item.findtext("description")
    page = client.get(episode.get_absolute_url()).content.decode()
    assert 'transcript added <time datetime="2019-08-11">' in page
    assert '"datePublished"' not in page


def test_durations_are_rounded_to_whole_seconds(client, show):
    Episode.objects.filter(pk=show["timed"].pk).update(duration=datetime.timedelta(seconds=1064.8))
    assert item_of(get_feed(client), show["timed"]).findtext("itunes:duration", namespaces=NS) == "1065"


# --- Validators ------------------------------------------------------------------------


def test_head_answers_with_the_validators_get_sends(client, show):
    got, head = client.get(FEED), client.head(FEED)
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == got["ETag"] and head["Last-Modified"] == got["Last-Modified"]
    assert client.head(FEED, headers={"If-None-Match": got["ETag"]}).status_code == 304
    assert client.get(FEED, headers={"If-Modified-Since": got["Last-Modified"]}).status_code == 304


def test_last_modified_moves_with_an_episode(client, show):
    before = client.get(FEED)["Last-Modified"]
    later = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    Episode.objects.filter(pk=show["bare"].pk).update(updated=later)
    assert client.get(FEED)["Last-Modified"] == "Tue, 01 Jan 2030 00:00:00 GMT" != before


def test_chapters_answer_head_with_their_etag(client, show):
    url = "/episodes/138-the-great-purges/chapters.json"
    assert client.head(url)["ETag"] == client.get(url)["ETag"]


# --- The checklist ------------------------------------------------------------------


REQUIRED_CHANNEL = ["title", "description", "link", "language", "itunes:image", "itunes:category",
                    "itunes:explicit", "itunes:author", "itunes:owner/itunes:email", "podcast:guid"]
REQUIRED_ITEM = ["title", "guid", "pubDate", "enclosure", "itunes:duration", "description"]


@override_settings(PODCAST_FEED_OWNER_EMAIL="feeds@example.com")
def test_the_feed_has_what_every_directory_requires(client, show):
    """docs/feed-directories.md: the tags Apple, Spotify and the Podcast Index require, on the channel and each item."""
    Episode.objects.filter(pk=show["timed"].pk).update(duration=datetime.timedelta(seconds=90.4))
    Episode.objects.filter(pk=show["bare"].pk).update(duration=datetime.timedelta(seconds=61))
    Episode.objects.filter(pk=show["untimed"].pk).update(duration=datetime.timedelta(seconds=3600))
    found = channel(client)
    assert [tag for tag in REQUIRED_CHANNEL if not (found.findtext(tag, namespaces=NS) or
                                                    found.find(tag, NS) is not None)] == []
    assert found.find("itunes:explicit", NS).text in ("true", "false")
    assert found.find("itunes:category", NS).get("text") == "History"  # one of Apple's categories
    items = found.findall("item")
    assert items
    for item in items:
        assert [tag for tag in REQUIRED_ITEM if item.find(tag, NS) is None] == [], item.findtext("title")
        enclosure = item.find("enclosure")
        assert set(enclosure.attrib) == {"url", "length", "type"} and enclosure.get("type").startswith("audio/")
        assert item.findtext("itunes:duration", namespaces=NS).isdigit()
        datetime.datetime.strptime(item.findtext("pubDate"), "%a, %d %b %Y %H:%M:%S %z")
    guids = [item.findtext("guid") for item in items]
    assert len(set(guids)) == len(guids)
    enclosures = [item.find("enclosure").get("url") for item in items]
    assert len(set(enclosures)) == len(enclosures)  # Apple ignores an enclosure URL it has seen


def test_the_admin_refuses_artwork_directories_would_refuse(client, show):
    from tests.factories import make_user

    client.force_login(make_user("editor", is_staff=True, is_superuser=True))
    podcast = Podcast.objects.get()
    form = {"title": podcast.title, "language": "en", "author": podcast.author, "description": podcast.description,
            "owner_name": "Editors", "owner_email": "editors@example.com"}
    url = f"/admin/episodes/podcast/{podcast.pk}/change/"
    refused = client.post(url, form | {"image": SimpleUploadedFile("c.png", png(1400, 1000), "image/png")})
    assert "The cover must be square; this one is 1400 × 1000 pixels." in refused.content.decode()
    accepted = client.post(url, form | {"image": SimpleUploadedFile("c.png", png(1400, 1400), "image/png")})
    assert accepted.status_code == 302
    podcast.refresh_from_db()
    assert podcast.image.name.startswith("podcast/c") and podcast.owner_email == "editors@example.com"
