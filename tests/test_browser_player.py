"""Read-along in a real browser: the highlight follows the voice, clicks seek, moments open."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EPISODE = "/episodes/138-the-great-purges/"


def starts(page):
    return page.evaluate(
        "Array.from(document.querySelectorAll('.sentence[data-start]'), s => [s.id, +s.dataset.start])"
    )


def current_id(page):
    return page.evaluate("document.querySelector('.sentence[aria-current=\"true\"]')?.id ?? null")


def in_view(page, element_id):
    return page.evaluate(
        """id => { const r = document.getElementById(id).getBoundingClientRect();
                   return r.bottom > 0 && r.top < innerHeight; }""",
        element_id,
    )


SCROLL_TO_CENTRE = "id => document.getElementById(id).scrollIntoView({block: 'center', behavior: 'instant'})"


def click_sentence(page, element_id):
    """Click a plain word of the sentence: not a link (that opens a preview instead of seeking)
    and on the sentence's own line (an inline span's first box can start on a line it shares)."""
    page.evaluate(SCROLL_TO_CENTRE, element_id)
    # The player may still be scrolling smoothly to the last moment: click once the page is still.
    page.wait_for_function(
        """() => new Promise(done => { const y = scrollY;
             requestAnimationFrame(() => requestAnimationFrame(() => done(scrollY === y))); })"""
    )
    page.evaluate(SCROLL_TO_CENTRE, element_id)
    box = page.evaluate(
        """id => {
             const sentence = document.getElementById(id);
             const walker = document.createTreeWalker(sentence, NodeFilter.SHOW_TEXT);
             for (let node = walker.nextNode(); node; node = walker.nextNode()) {
               if (node.parentElement.closest('a, button, sup') || !node.textContent.trim()) continue;
               const range = document.createRange();
               range.selectNodeContents(node);
               for (const r of range.getClientRects()) {
                 const x = r.left + Math.min(12, r.width / 2), y = r.top + r.height / 2;
                 const hit = document.elementFromPoint(x, y);
                 if (hit?.closest('.sentence') === sentence && !hit.closest('a, button')) return {x, y};
               }
             }
             return null;
           }""",
        element_id,
    )
    assert box, f"{element_id} has no plain word in view to click"
    page.mouse.click(box["x"], box["y"])


def wait_until_ready(page):
    page.wait_for_function("() => document.getElementById('audio').readyState >= 1")


def test_playing_moves_the_highlight_through_the_sentences_in_order(site, page):
    page.goto(site + EPISODE)
    wait_until_ready(page)
    timeline = starts(page)
    # Start just before the third sentence and listen at double speed.
    page.evaluate(
        """start => { const audio = document.getElementById('audio');
                      window.seen = [];
                      new MutationObserver(() => {
                        const id = document.querySelector('.sentence[aria-current="true"]')?.id;
                        if (id && window.seen.at(-1) !== id) window.seen.push(id);
                      }).observe(document.querySelector('.transcript'),
                                 {subtree: true, attributeFilter: ['aria-current']});
                      audio.currentTime = start; audio.playbackRate = 2; audio.play(); }""",
        timeline[2][1] - 1.0,
    )
    page.wait_for_function("() => window.seen.includes('s-4')", timeout=20_000)
    page.evaluate("document.getElementById('audio').pause()")
    seen = page.evaluate("window.seen")
    assert seen[:3] == ["s-2", "s-3", "s-4"]
    assert page.evaluate("document.getElementById('audio').currentTime") > timeline[3][1]


def test_clicking_a_sentence_seeks_there_and_moves_the_highlight(site, page):
    page.goto(site + EPISODE)
    wait_until_ready(page)
    target = dict(starts(page))["s-40"]
    click_sentence(page, "s-40")
    time = page.evaluate("document.getElementById('audio').currentTime")
    assert abs(time - target) <= 0.25
    assert current_id(page) == "s-40"
    assert page.evaluate("document.getElementById('audio').paused")  # playing state kept: still paused


def test_enter_on_a_focused_sentence_seeks_and_keeps_playing(site, page):
    page.goto(site + EPISODE)
    wait_until_ready(page)
    page.evaluate("document.getElementById('audio').play()")
    page.locator("#s-12").focus()
    page.keyboard.press("Enter")
    target = dict(starts(page))["s-12"]
    # It keeps playing, so by the time we look it has moved on a little (more on a busy machine).
    assert -0.25 <= page.evaluate("document.getElementById('audio').currentTime") - target <= 2.0
    assert not page.evaluate("document.getElementById('audio').paused")
    assert current_id(page) == "s-12"


def test_a_moment_link_opens_at_that_time(site, page):
    page.goto(site + EPISODE + "?t=600")
    page.wait_for_function("() => Math.abs(document.getElementById('audio').currentTime - 600) < 0.25")
    timeline = starts(page)
    expected = [sid for sid, start in timeline if start <= 600][-1]
    assert current_id(page) == expected
    page.wait_for_function(
        "id => { const r = document.getElementById(id).getBoundingClientRect(); "
        "return r.top >= 0 && r.bottom <= innerHeight; }",
        arg=expected,
    )


def test_a_media_fragment_moment_works_too(site, page):
    page.goto(site + EPISODE + "#t=10:00")
    page.wait_for_function("() => Math.abs(document.getElementById('audio').currentTime - 600) < 0.25")


def test_a_moment_link_scrolls_to_its_sentence_without_javascript(site, no_script_page):
    no_script_page.goto(site + EPISODE + "?t=600")
    focused = no_script_page.evaluate("document.activeElement.id")
    assert re.fullmatch(r"s-\d+", focused)
    for _ in range(50):  # the focus scroll is smooth: give it time to arrive
        if in_view(no_script_page, focused):
            break
        no_script_page.wait_for_timeout(100)
    assert in_view(no_script_page, focused)
    assert no_script_page.evaluate("scrollY") > 1000


def test_scrolling_away_stops_following_and_back_to_now_returns(site, page):
    page.goto(site + EPISODE + "?t=300")
    page.wait_for_function("() => Math.abs(document.getElementById('audio').currentTime - 300) < 0.25")
    page.evaluate("document.getElementById('audio').play()")
    now_id = current_id(page)
    page.wait_for_timeout(800)  # let the smooth scroll to the moment settle
    back = page.get_by_role("button", name="Back to now")
    assert back.is_hidden()
    page.mouse.move(400, 300)
    page.mouse.wheel(0, 4000)
    back.wait_for(state="visible")
    page.wait_for_timeout(500)
    assert not in_view(page, current_id(page) or now_id)
    back.click()
    expect(back).to_be_hidden()
    page.wait_for_function(
        """() => { const s = document.querySelector('.sentence[aria-current="true"]');
                   const r = s.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; }"""
    )


def test_the_now_panel_changes_with_the_segment(site, page):
    page.goto(site + EPISODE)
    wait_until_ready(page)
    names = "Array.from(document.querySelectorAll('#now .now-list a'), a => a.textContent)"
    click_sentence(page, "s-9")  # the first segment: the NKVD
    # The panel follows the audio's timeupdate after the seek: wait for it, don't read at once.
    page.wait_for_function(f"() => {names}.includes('NKVD')")
    first = page.evaluate(names)
    segment_two = page.evaluate("document.querySelector('#seg-2 .sentence').id")
    click_sentence(page, segment_two)
    page.wait_for_function(f"() => {names}.includes('Martemyan Ryutin')")
    second = page.evaluate(names)
    assert second != first
    # Its entries open the same popovers.
    page.locator("#now .now-list a", has_text="Martemyan Ryutin").click()
    page.locator("#pop-person-martemyan-ryutin").wait_for(state="visible")


def test_the_listening_position_is_offered_on_return(site, page):
    page.goto(site + EPISODE + "?t=754")
    page.wait_for_function("() => Math.abs(document.getElementById('audio').currentTime - 754) < 0.25")
    page.evaluate("document.getElementById('audio').play()")
    page.wait_for_timeout(300)
    page.evaluate("document.getElementById('audio').pause()")
    page.goto(site + EPISODE)
    resume = page.get_by_role("button", name=re.compile(r"Continue at 12:3\d"))
    resume.wait_for(state="visible")
    resume.click()
    page.wait_for_function("() => document.getElementById('audio').currentTime >= 754")


def test_chromiums_own_track_parser_reads_our_webvtt_export(site, page):
    page.goto(site + EPISODE)
    cues = page.evaluate(
        """async () => {
             const audio = document.getElementById('audio');
             const track = document.createElement('track');
             track.kind = 'captions'; track.src = 'transcript.vtt'; track.default = true;
             audio.append(track);
             await new Promise((resolve, reject) => { track.onload = resolve; track.onerror = reject; });
             return Array.from(track.track.cues, c => [c.startTime, c.endTime, c.text]);
           }"""
    )
    sentences = page.evaluate(
        "Array.from(document.querySelectorAll('.sentence[data-start]'), s => [+s.dataset.start, +s.dataset.end])"
    )
    assert len(cues) == len(sentences) == 107
    for (start, end, text), (sentence_start, sentence_end) in zip(cues, sentences):
        assert abs(start - sentence_start) < 0.001 and abs(end - sentence_end) < 0.001 and text
