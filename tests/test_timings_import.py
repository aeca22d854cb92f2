"""import_timings and the exports: other people's parsers read ours, and round trips hold."""

import datetime
import io

import pytest
import webvtt
from django.core.management import CommandError, call_command
from django.db.models import F

from episodes.timings.formats import read_timings
from episodes.models import Episode
from tests.testdata import PODCASTING2

pytestmark = pytest.mark.django_db


@pytest.fixture
def timed(small_episode):
    episode = small_episode["episode"]
    timings = [(0.0, 2.5, []), (2.8, 4.9, []), (5.2, 11.75, [])]
    episode.save_timings(timings, Episode.Timing.TIMED)
    return episode


def export(client, episode, extension):
    response = client.get(f"/episodes/{episode.slug}/transcript.{extension}")
    assert response.status_code == 200
    return response


def sentence_times(episode):
    return list(episode.sentences.order_by("position").values_list("start", "end"))


@pytest.mark.parametrize(
    "extension, content_type",
    [("vtt", "text/vtt; charset=utf-8"), ("srt", "application/x-subrip; charset=utf-8"),
     ("json", "application/json"), ("txt", "text/plain; charset=utf-8")],
)
def test_exports_have_their_content_types(client, timed, extension, content_type):
    response = export(client, timed, extension)
    assert response["Content-Type"] == content_type
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_vtt_export_parses_in_webvtt_py(client, timed):
    captions = webvtt.from_buffer(io.StringIO(export(client, timed, "vtt").content.decode()))
    assert [c.text for c in captions] == [s.text for s in timed.sentences.order_by("position")]
    assert captions[2].start == "00:00:05.200" and captions[2].end == "00:00:11.750"


def test_the_srt_export_parses_in_webvtt_py(client, timed, tmp_path):
    path = tmp_path / "episode.srt"
    path.write_bytes(export(client, timed, "srt").content)
    captions = webvtt.from_srt(str(path))
    assert len(captions) == 3 and captions[1].start == "00:00:02.800"


def test_the_json_export_is_podcasting_2_0(client, timed):
    data = export(client, timed, "json").json()
    assert data["version"].startswith("1.")
    assert data["segments"][0] == {"startTime": 0.0, "endTime": 2.5, "body": "The NKVD arrested thousands."} | {
        key: value for key, value in data["segments"][0].items() if key == "speaker"
    }


@pytest.mark.parametrize("extension", ["vtt", "srt", "json"])
def test_import_of_an_export_gives_back_the_same_timings(client, timed, tmp_path, extension):
    before = sentence_times(timed)
    path = tmp_path / f"episode.{extension}"
    path.write_bytes(export(client, timed, extension).content)
    timed.save_timings([(None, None, [])] * 3, Episode.Timing.NONE)
    call_command("import_timings", timed.slug, str(path), verbosity=0)
    assert sentence_times(timed) == before
    timed.refresh_from_db()
    assert timed.timing == Episode.Timing.TIMED


def test_the_text_export_imports_back_unchanged(client, timed, tmp_path):
    path = tmp_path / "episode.txt"
    path.write_bytes(export(client, timed, "txt").content)
    before = list(timed.sentences.values_list("pk", "paragraph", "text"))
    call_command("import_transcript", timed.slug, str(path), verbosity=0)
    assert list(timed.sentences.values_list("pk", "paragraph", "text")) == before


def test_an_untimed_episode_has_no_timed_exports(client, small_episode):
    assert client.get("/episodes/138-the-great-purges/transcript.vtt").status_code == 404
    assert client.get("/episodes/138-the-great-purges/transcript.txt").status_code == 200
    assert client.get("/episodes/138-the-great-purges/transcript.exe").status_code == 404


def test_cues_that_split_and_merge_sentences_are_mapped(small_episode, tmp_path):
    episode = small_episode["episode"]
    path = tmp_path / "cues.vtt"
    path.write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nthe nkvd arrested\n\n"
        "00:00:02.000 --> 00:00:04.000\nTHOUSANDS stalin signed the lists\n\n"
        "00:00:04.500 --> 00:00:12.000\n<v Narrator>Kopelev wrote: we were forced to resort to barbaric methods. "
        "The NKVD obeyed Stalin.\n"
    )
    call_command("import_timings", episode.slug, str(path), verbosity=0)
    times = sentence_times(episode)
    assert times[0][0] == 1.0 and times[2][1] == 12.0
    assert times[0][0] < times[1][0] < times[2][0]


def assert_refused(episode, path, message):
    before = sentence_times(episode)
    with pytest.raises(CommandError, match=message):
        call_command("import_timings", episode.slug, str(path), verbosity=0)
    assert sentence_times(episode) == before


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("a.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nThe NKVD arrested thousands.\n", "line 3"),
        ("a.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\nThe NKVD\n\n00:00:03.000 --> 00:00:06.000\narrested\n", "line 6"),
        ("a.vtt", "00:00:01.000 --> 00:00:05.000\nThe NKVD arrested thousands.\n", "WEBVTT"),
        ("a.srt", "1\n00:00:01,000 -> 00:00:05,000\nThe NKVD\n", "line 2"),
        ("a.srt", "one\n00:00:01,000 --> 00:00:05,000\nThe NKVD\n", "line 1"),
        ("a.json", '{"version": "1.0.0"}', "segments"),
        ("a.json", "[1, 2, 3]", "object"),
        ("a.vtt", "WEBVTT\n", "no cues|empty|no timed"),
        ("a.txt", "just words", "kind of timing file"),
        ("a.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:05.000\nCompletely unrelated words about cooking pasta.\n", "does not match"),
    ],
)
def test_malformed_timing_files_are_refused_and_change_nothing(small_episode, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    assert_refused(small_episode["episode"], path, message)


def test_wrong_encoding_and_binary_are_refused(small_episode, tmp_path):
    latin = tmp_path / "latin.vtt"
    latin.write_bytes("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nKöln\n".encode("latin-1"))
    assert_refused(small_episode["episode"], latin, "UTF-8")
    binary = tmp_path / "binary.vtt"
    binary.write_bytes(b"WEBVTT\x00\x01\x02")
    assert_refused(small_episode["episode"], binary, "binary")


def test_a_huge_timing_file_is_refused(small_episode, tmp_path):
    path = tmp_path / "huge.vtt"
    with path.open("wb") as file:
        file.truncate(50 * 1024 * 1024 + 1)
    assert_refused(small_episode["episode"], path, "limit")


def test_bom_and_crlf_are_fine(small_episode, tmp_path):
    episode = small_episode["episode"]
    path = tmp_path / "crlf.vtt"
    path.write_bytes(
        "\ufeffWEBVTT\r\n\r\n00:00:01.000 --> 00:00:02.000\r\nThe NKVD arrested thousands.\r\n\r\n"
        "00:00:02.000 --> 00:00:03.000\r\nStalin signed the lists.\r\n\r\n"
        "00:00:03.000 --> 00:00:09.000\r\nKopelev wrote: We were forced to resort to barbaric methods. The NKVD obeyed Stalin.\r\n".encode()
    )
    call_command("import_timings", episode.slug, str(path), verbosity=0)
    assert sentence_times(episode) == [(1.0, 2.0), (2.0, 3.0), (3.0, 9.0)]


def test_an_unknown_episode_is_refused(tmp_path):
    with pytest.raises(CommandError, match="No episode"):
        call_command("import_timings", "nope", str(tmp_path / "x.vtt"))


def test_the_srt_and_html_example_transcripts_give_the_same_words():
    srt = read_timings((PODCASTING2 / "example.srt").read_bytes(), "example.srt")
    html = read_timings((PODCASTING2 / "example.html").read_bytes(), "example.html")
    words = lambda cues: " ".join(c.plain for c in cues).split()  # noqa: E731
    assert words(srt) == words(html)


def test_exports_answer_conditional_gets_with_304(client, timed):
    first = export(client, timed, "vtt")
    last_modified = first["Last-Modified"]
    again = client.get(f"/episodes/{timed.slug}/transcript.vtt", headers={"If-Modified-Since": last_modified})
    assert again.status_code == 304
    timed.save_timings([(0.0, 2.0, []), (2.5, 4.0, []), (5.0, 11.0, [])], Episode.Timing.TIMED)
    # HTTP dates have one-second resolution: make the change visibly later.
    Episode.objects.filter(pk=timed.pk).update(
        transcript_rendered_at=F("transcript_rendered_at") + datetime.timedelta(seconds=5)
    )
    changed = client.get(f"/episodes/{timed.slug}/transcript.vtt", headers={"If-Modified-Since": last_modified})
    assert changed.status_code == 200
    assert "00:00:02.000" in changed.content.decode()
    words = client.get(f"/episodes/{timed.slug}/words.json")
    assert "Last-Modified" in words
