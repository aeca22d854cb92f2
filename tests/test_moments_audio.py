"""Moments (?t=), ranged audio, estimated timings and word timings."""

import datetime

import pytest
from django.core.files.base import ContentFile

from episodes.models import Episode
from episodes.moments import format_moment, parse_moment

AUDIO = bytes(range(256)) * 40  # 10,240 bytes


@pytest.mark.parametrize(
    "value, seconds",
    [("754", 754), ("754.5", 754.5), ("12:34", 754), ("1:02:03", 3723), ("90s", 90), ("0", 0)],
)
def test_moments_people_write_are_understood(value, seconds):
    assert parse_moment(value) == seconds


@pytest.mark.parametrize("value", ["", "abc", "12:75", "-5", "1:2:3:4", "1e9", "NaN", "12:34; DROP", "9" * 40,
                                   "٧٥٤", "۱۲:۳۴", "７５４", "²", "１:００"])
def test_anything_else_is_not_a_moment(value):
    assert parse_moment(value) is None


def test_moments_are_formatted_like_the_player():
    assert (format_moment(754), format_moment(3723), format_moment(5)) == ("12:34", "1:02:03", "0:05")


@pytest.fixture
def timed_episode(small_episode):
    episode = small_episode["episode"]
    episode.duration = datetime.timedelta(seconds=30)
    episode.save()
    episode.estimate_timings()
    episode.refresh_from_db()
    return episode


@pytest.mark.django_db
def test_estimated_timings_cover_the_duration_in_order(timed_episode):
    sentences = list(timed_episode.sentences.order_by("position"))
    assert timed_episode.timing == Episode.Timing.ESTIMATED
    assert sentences[0].start == 0
    assert all(a.start < b.start and a.end <= b.start for a, b in zip(sentences, sentences[1:]))
    assert sentences[-1].end <= 30
    assert 'data-start="0.000"' in timed_episode.transcript_html


@pytest.mark.django_db
def test_a_moment_link_focuses_its_sentence_without_javascript(client, timed_episode):
    timed_episode.audio_url = "https://example.org/138.mp3"  # a player, to start there
    timed_episode.save()
    third = timed_episode.sentences.get(position=3)
    html = client.get(f"/episodes/{timed_episode.slug}/?t={int(third.start) + 1}").content.decode()
    assert 'id="s-3" autofocus tabindex="-1" aria-current="true"' in html
    assert html.count("autofocus") == 1
    assert f'data-moment="{float(int(third.start) + 1)}"' in html


@pytest.mark.django_db
def test_a_moment_in_minutes_works_too(client, timed_episode):
    html = client.get(f"/episodes/{timed_episode.slug}/?t=0:01").content.decode()
    assert 'id="s-1" autofocus' in html


@pytest.mark.django_db
def test_a_bad_moment_is_ignored(client, timed_episode):
    response = client.get(f"/episodes/{timed_episode.slug}/?t=%3Cscript%3E")
    assert response.status_code == 200
    assert "autofocus" not in response.content.decode()


@pytest.mark.django_db
def test_a_moment_in_arabic_indic_digits_is_ignored(client, timed_episode):
    """\\d took any script's digits, and int() read them: ?t=٥ opened at 5 s."""
    html = client.get(f"/episodes/{timed_episode.slug}/", {"t": "٥"}).content.decode()
    assert "autofocus" not in html
    assert "autofocus" in client.get(f"/episodes/{timed_episode.slug}/", {"t": "5"}).content.decode()


@pytest.mark.django_db
def test_an_untimed_episode_ignores_moments(client, small_episode):
    html = client.get("/episodes/138-the-great-purges/?t=10").content.decode()
    assert "autofocus" not in html and "aria-current" not in html


@pytest.fixture
def audio_episode(small_episode, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    episode = small_episode["episode"]
    episode.audio.save("narration.mp3", ContentFile(AUDIO))
    return episode


def audio_get(client, episode, range_header=None):
    headers = {"Range": range_header} if range_header else {}
    return client.get(f"/episodes/{episode.slug}/audio/", headers=headers)


@pytest.mark.django_db
def test_audio_without_a_range_is_whole(client, audio_episode):
    response = audio_get(client, audio_episode)
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "audio/mpeg"
    assert b"".join(response.streaming_content) == AUDIO


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header, start, end",
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, len(AUDIO) - 1), ("bytes=-500", len(AUDIO) - 500, len(AUDIO) - 1),
     ("bytes=10000-99999", 10000, len(AUDIO) - 1),
     # int() refuses more than 4,300 digits; a number that long is past any file's end
     ("bytes=0-" + "9" * 5000, 0, len(AUDIO) - 1), ("bytes=-" + "9" * 5000, 0, len(AUDIO) - 1)],
)
def test_audio_ranges_are_partial_content(client, audio_episode, header, start, end):
    response = audio_get(client, audio_episode, header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(AUDIO)}"
    assert int(response["Content-Length"]) == end - start + 1
    assert b"".join(response.streaming_content) == AUDIO[start:end + 1]


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["bytes=20000-", "bytes=10240-10300", "bytes=50-10", "bytes=" + "9" * 5000 + "-"])
def test_a_range_past_the_end_is_416(client, audio_episode, header):
    response = audio_get(client, audio_episode, header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(AUDIO)}"


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=abc", "bytes=-", "bytes=²-", "bytes=-¹"])
def test_ranges_we_do_not_serve_get_the_whole_file(client, audio_episode, header):
    response = audio_get(client, audio_episode, header)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == AUDIO


@pytest.mark.django_db
def test_no_audio_file_is_404(client, small_episode):
    assert client.get("/episodes/138-the-great-purges/audio/").status_code == 404


@pytest.mark.django_db
def test_word_timings_are_served_per_sentence(client, timed_episode):
    sentence = timed_episode.sentences.get(position=1)
    sentence.words = [[0, 3, 0.0, 0.2], [4, 8, 0.2, 0.5]]
    sentence.save()
    data = client.get(f"/episodes/{timed_episode.slug}/words.json").json()
    assert data == {"sentences": {"1": [[0, 3, 0.0, 0.2], [4, 8, 0.2, 0.5]]}}


@pytest.mark.parametrize(
    "start, value", [(754.2, "754.2"), (754.2001, "754.201"), (12.0, "12"), (0.0005, "0.001"), (3.1, "3.1")]
)
def test_a_moment_parameter_never_rounds_down_to_the_sentence_before(start, value):
    from episodes.moments import moment_parameter

    assert moment_parameter(start) == value
    assert float(value) >= start
