"""The timing review in a real browser: nudge and save in place, and set a start by key while playing."""

import io
import re

import pytest
import soundfile
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from alignment.engine import narration
from episodes.models import Episode, Sentence
from tests.browser import sign_in
from tests.factories import make_episode, make_sentences, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = [
    "The NKVD arrested thousands of people in the spring.",
    "Stalin signed the lists himself, page after page.",
    "Nobody in the Party felt safe after that.",
]
REVIEW = "/episodes/138-the-great-purges/review/"


@pytest.fixture
def episode():
    """Three sentences timed against a narration attached as the episode's audio; §2 is doubtful."""
    voiced = narration.synthesise([TEXTS], sentence_pause=0.8)
    buffer = io.BytesIO()
    soundfile.write(buffer, voiced.samples, voiced.sample_rate, format="WAV")
    episode = make_episode(title="The Great Purges", slug="138-the-great-purges")
    episode.audio.save("review.wav", ContentFile(buffer.getvalue()), save=True)
    make_sentences(episode, *TEXTS)
    episode.save_timings([(round(start, 2), round(end, 2), []) for start, end in voiced.sentences],
                         Episode.Timing.ALIGNED)
    for position, confidence in [(1, 0.9), (2, 0.3), (3, 0.8)]:
        Sentence.objects.filter(episode=episode, position=position).update(confidence=confidence)
    return episode


@pytest.fixture
def editor(browser_context, live_server):
    sign_in(browser_context, live_server.url, make_user("editor", is_staff=True))  # staff, not a superuser
    yield
    browser_context.clear_cookies()


def second(episode):
    return episode.sentences.get(position=2)


def test_a_nudge_is_saved_in_place(live_server, page, editor, episode):
    before = second(episode).start
    page.goto(live_server.url + REVIEW)
    page.evaluate("window.notReloaded = true")
    row = page.locator("#review-s-2")
    expect(row).to_have_class("review-row needs-review")
    row.get_by_role("button", name="+0.1 s").click()
    after = round(before + 0.1, 3)
    expect(row.locator(".clock")).to_contain_text(f"{after:.2f} →")
    expect(row).to_contain_text("set by an editor")
    expect(row).not_to_have_class(re.compile(r"\bneeds-review\b"))  # no longer doubtful
    expect(page.locator("#flash")).to_have_text(f"§2 now starts at {after:.2f} s.")
    assert page.evaluate("window.notReloaded") is True
    saved = second(episode)
    assert (saved.start, saved.start_set_by_editor) == (after, True)


def test_a_key_sets_the_selected_start_to_the_playback_time(live_server, page, editor, episode):
    start, next_start = second(episode).start, episode.sentences.get(position=3).start
    page.goto(live_server.url + REVIEW)
    page.wait_for_function("() => document.getElementById('review-audio').readyState >= 1")
    row = page.locator("#review-s-2")
    expect(row.get_by_role("button", name="Set to playback time")).to_be_visible()
    row.get_by_role("link", name="Play §2").click()
    expect(row).to_have_class("review-row needs-review is-selected")
    page.wait_for_function(f"() => document.getElementById('review-audio').currentTime > {start + 0.4}")
    page.keyboard.press("k")  # pause, so the time we read is the time the key sets
    page.wait_for_function("() => document.getElementById('review-audio').paused")
    paused_at = page.evaluate("document.getElementById('review-audio').currentTime")
    assert start + 0.4 < paused_at < next_start  # before rounding: 4.1503 rounds to the bound itself
    now = round(paused_at, 2)
    page.keyboard.press("s")
    expect(row.locator(".clock")).to_contain_text(f"{now:.2f} →")
    expect(page.locator("#review-s-3")).to_have_class("review-row is-selected")  # ready for the next tap
    saved = second(episode)
    assert (saved.start, saved.start_set_by_editor) == (now, True)
    page.keyboard.press("[")  # nudges the newly selected §3
    expect(page.locator("#flash")).to_have_text(f"§3 now starts at {next_start - 0.1:.2f} s.")
