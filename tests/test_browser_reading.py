"""The transcript read like a book, in a real browser: segments with times, links once, citations in place."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EPISODE = "/episodes/138-the-great-purges/"

SEGMENTS = """() => Array.from(document.querySelectorAll('.segment'), segment => {
  const sentences = segment.querySelectorAll('.sentence');
  const time = segment.querySelector('.segment-time');
  const box = time?.getBoundingClientRect();
  return {
    id: segment.id,
    start: +sentences[0].dataset.start,
    end: +sentences[sentences.length - 1].dataset.end,
    words: Array.from(sentences, s => s.textContent.split(/\\s+/).filter(Boolean).length).reduce((a, b) => a + b),
    time: time ? time.querySelector('time').textContent : null,
    href: time ? time.getAttribute('href') : null,
    shown: !!box && box.width > 0 && box.height > 0 && getComputedStyle(time).visibility === 'visible',
  };
})"""



def settle(page):
    """Wait until the page stops scrolling (a smooth scroll can outlast a fixed wait on a busy machine)."""
    page.evaluate("""() => new Promise(done => {
      let last = scrollY, still = 0;
      const look = () => { still = scrollY === last ? still + 1 : 0; last = scrollY;
                           still >= 3 ? done() : setTimeout(look, 100); };
      look();
    })""")

def clock(seconds):
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def test_every_segment_is_at_most_90_seconds_and_shows_its_time(site, page):
    page.goto(site + EPISODE)
    segments = page.evaluate(SEGMENTS)
    assert len(segments) >= 12  # about 18 minutes
    for segment in segments:
        assert segment["end"] - segment["start"] <= 90, segment
        assert segment["shown"] and segment["time"] == clock(segment["start"]), segment
    page.set_viewport_size({"width": 390, "height": 844})  # above each block on a phone, not in a margin
    assert all(segment["shown"] for segment in page.evaluate(SEGMENTS))


def test_no_entry_is_linked_twice_in_a_segment(site, page):
    page.goto(site + EPISODE)
    per_segment = page.evaluate("""() => Array.from(document.querySelectorAll('.segment'), segment => ({
      linked: Array.from(segment.querySelectorAll('a.mention[data-popover]'), a => a.dataset.popover),
      repeats: Array.from(segment.querySelectorAll('.mention-repeat'), s => s.dataset.entity),
    }))""")
    for segment in per_segment:
        assert len(segment["linked"]) == len(set(segment["linked"])), segment
        # A name said again is the one linked earlier in the same segment.
        assert set(segment["repeats"]) <= set(segment["linked"]), segment
    assert sum(len(segment["repeats"]) for segment in per_segment) > 20  # Stalin alone comes up 34 times


def test_hovering_a_name_lights_up_its_other_mentions_and_leaves_the_page_as_it_was(site, page):
    page.goto(site + EPISODE)
    # The first segment that names Stalin more than once.
    segment = page.locator(".segment:has(.mention-repeat[data-entity='pop-person-joseph-stalin'])").first
    link = segment.locator("a.mention[data-popover='pop-person-joseph-stalin']")
    repeats = segment.locator(".mention-repeat[data-entity='pop-person-joseph-stalin']").count()
    assert repeats >= 1
    before = page.evaluate("document.getElementById('transcript').innerHTML")
    link.scroll_into_view_if_needed()
    link.hover()
    assert page.evaluate("CSS.highlights.get('same-name').size") == repeats
    page.mouse.move(5, 5)
    assert page.evaluate("CSS.highlights.get('same-name').size") == 0
    assert page.evaluate("document.getElementById('transcript').innerHTML") == before


def test_show_all_names_underlines_every_mention_and_is_remembered(site, page):
    page.goto(site + EPISODE)
    switch = page.get_by_role("switch", name="Show all names")
    expect(switch).to_have_attribute("aria-checked", "false")
    repeat = page.locator(".mention-repeat").first
    underline = "el => getComputedStyle(el).textDecorationLine"
    assert repeat.evaluate(underline) == "none"
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    assert repeat.evaluate(underline) == "underline"
    page.reload()  # the same page for every reader; the choice lives in this browser
    expect(page.get_by_role("switch", name="Show all names")).to_have_attribute("aria-checked", "true")
    assert page.locator(".mention-repeat").first.evaluate(underline) == "underline"
    page.get_by_role("switch", name="Show all names").click()
    assert page.evaluate("localStorage.getItem('companion:show-all-names')") == "off"


def test_a_citation_previews_in_place_and_following_goes_on(site, page):
    page.goto(site + EPISODE + "?t=560")
    page.wait_for_function("() => Math.abs(document.getElementById('audio').currentTime - 560) < 0.25")
    settle(page)  # the scroll to the moment
    marker = page.locator("#seg-9 .fnref a").first
    # In the middle of the window, clear of the player; scrolled while paused, so following stays on.
    marker.evaluate("el => el.scrollIntoView({block: 'center', behavior: 'instant'})")
    settle(page)
    before = page.evaluate("[scrollY, location.href, document.getElementById('audio').currentTime]")
    reading = page.evaluate("document.querySelector('.sentence[aria-current=\"true\"]').id")
    marker.click()
    preview = page.locator(".popover-source:popover-open")
    expect(preview).to_be_visible()
    # The page did not move, nor the audio (paused here, so following can't scroll meanwhile).
    assert page.evaluate("[scrollY, location.href, document.getElementById('audio').currentTime]") == before
    page.evaluate("const a = document.getElementById('audio'); a.playbackRate = 2; a.play()")
    expect(preview.locator("cite")).to_have_text(re.compile(r"Report of Court Proceedings"))
    expect(preview.locator("blockquote")).to_contain_text("August 1936")
    expect(preview.get_by_role("link", name=re.compile("About this source"))).to_have_attribute(
        "href", re.compile(r"^/sources/[\w-]+/$")
    )
    # Following goes on: no "Back to now", and the highlight moves to the next sentences.
    expect(page.get_by_role("button", name="Back to now")).to_be_hidden()
    page.wait_for_function(
        "id => document.querySelector('.sentence[aria-current=\"true\"]').id !== id", arg=reading, timeout=20_000
    )
    assert not page.evaluate("document.getElementById('audio').paused")
    # Following carries the page on, far from the marker; closing the preview leaves it there.
    page.evaluate("document.getElementById('audio').currentTime = 900")
    page.wait_for_function("() => document.getElementById('s-88').getBoundingClientRect().top < innerHeight")
    page.wait_for_timeout(300)  # the follow scroll settles
    expect(page.get_by_role("button", name="Back to now")).to_be_hidden()
    page.evaluate("document.getElementById('audio').pause()")  # so only closing could move the page now
    page.wait_for_timeout(600)
    at = page.evaluate("scrollY")
    page.mouse.click(5, 300)  # outside the preview, on nothing: light dismiss
    expect(preview).to_be_hidden()
    page.wait_for_timeout(600)  # a focus scroll is smooth here: give it time to show
    assert abs(page.evaluate("scrollY") - at) < 100  # nothing scrolled back to the marker


def test_a_segments_time_plays_from_there_in_place(site, page):
    page.goto(site + EPISODE)
    page.wait_for_function("() => document.getElementById('audio').readyState >= 1")
    time = page.locator("#seg-5 .segment-time")
    time.scroll_into_view_if_needed()
    start = float(page.locator("#seg-5 .sentence").first.get_attribute("data-start"))
    time.click()
    page.wait_for_function("() => !document.getElementById('audio').paused")
    assert abs(page.evaluate("document.getElementById('audio').currentTime") - start) < 1
    assert page.url == site + EPISODE  # no page load
    page.evaluate("document.getElementById('audio').pause()")


def test_the_page_without_javascript_shows_segments_times_and_chapters(site, no_script_page):
    no_script_page.goto(site + EPISODE)
    segments = no_script_page.evaluate(SEGMENTS)
    assert len(segments) >= 12 and all(segment["shown"] for segment in segments)
    assert all(re.fullmatch(rf"{EPISODE}\?t=[\d.]+#s-\d+", segment["href"]) for segment in segments)
    assert no_script_page.locator("h3.chapter-title").count() >= 8
    expect(no_script_page.locator("[data-names-switch]")).to_be_hidden()  # it needs the script
    # A time is a plain link to that moment: the page opens there.
    no_script_page.locator("#seg-6 .segment-time").click()
    no_script_page.wait_for_url(re.compile(r"\?t="))
    first = segments[5]["href"].rsplit("#", 1)[1]
    assert no_script_page.evaluate("document.activeElement.id") == first


def test_no_passage_is_quoted_twice_on_a_person_page(site, page):
    page.goto(site + "/people/joseph-stalin/")
    sentences = page.evaluate("Array.from(document.querySelectorAll('.mention-list a'), a => a.hash)")
    assert len(sentences) >= 10
    assert len(sentences) == len(set(sentences))
    # A sentence naming him twice is quoted once, with both names marked.
    assert page.locator(".mention-list li:has(mark + mark)").count() >= 1


def test_a_click_on_a_preview_opened_by_hovering_keeps_it_open_and_the_page_still(site, page):
    page.goto(site + EPISODE)
    marker = page.locator("#seg-9 .fnref a").first
    marker.evaluate("el => el.scrollIntoView({block: 'center', behavior: 'instant'})")
    marker.hover()
    preview = page.locator(".popover-source:popover-open")
    expect(preview).to_be_visible()  # opened by hovering
    before = page.evaluate("[scrollY, location.href]")
    marker.click()
    page.mouse.move(5, 5)  # away: a preview opened by hovering would close now
    page.wait_for_timeout(600)
    expect(preview).to_be_visible()
    assert page.evaluate("[scrollY, location.href]") == before
