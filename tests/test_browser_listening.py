"""Listening without friction, in a real browser: no side effects, one tab stop, Now is now, the phone's player."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EPISODE = "/episodes/138-the-great-purges/"
AUDIO = "document.getElementById('audio')"


def wait_until_ready(page):
    page.wait_for_function(f"() => {AUDIO}.readyState >= 1")


def allow_the_clipboard(page, site):
    """Let the page read and write the clipboard, and be the focused tab (writing needs focus)."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    page.bring_to_front()


def focused(page):
    """What has focus, as a reader would name it."""
    return page.evaluate("""() => { const e = document.activeElement;
      return {id: e.id, tag: e.tagName, name: e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40),
              inTranscript: !!e.closest('#transcript')}; }""")


def centre(page, selector):
    """Scroll the element to the middle of the window, and give the middle of its first line box."""
    return page.evaluate(
        """selector => { const element = document.querySelector(selector);
             element.scrollIntoView({block: 'center', behavior: 'instant'});
             const r = element.getClientRects()[0];
             return {x: r.left + Math.min(12, r.width / 2), y: r.top + r.height / 2}; }""",
        selector,
    )


def plain_sentence_point(page):
    """A point on a sentence's own words (not a name or a marker), away from the first one, scrolled into view."""
    return page.evaluate("""() => {
      for (const sentence of document.querySelectorAll('#seg-3 .sentence[data-start]')) {
        sentence.scrollIntoView({block: 'center', behavior: 'instant'});
        for (const r of sentence.getClientRects()) {
          const x = r.left + 4, y = r.top + r.height / 2;
          const hit = document.elementFromPoint(x, y);
          if (hit === sentence) return {x, y, id: sentence.id, start: +sentence.dataset.start};
        }
      }
      return null;
    }""")


# ---- no side effects ---------------------------------------------------------------------

def test_hovering_a_name_and_moving_away_leaves_focus_and_the_page_as_they_were(site, page):
    page.goto(site + EPISODE)
    play = page.get_by_role("button", name="Play")
    play.focus()
    name = page.locator('a.mention[href="/glossary/nkvd/"]').first
    name.scroll_into_view_if_needed()
    before = page.evaluate("document.body.innerHTML")
    name.hover()
    preview = page.locator("#pop-term-nkvd")
    expect(preview).to_be_visible()
    page.mouse.move(3, 300)  # away, onto nothing
    expect(preview).to_be_hidden()
    page.wait_for_timeout(400)  # anything a late timer would do
    expect(play).to_be_focused()
    assert page.evaluate("document.body.innerHTML") == before
    # Hovering a sentence does nothing either: no tools, no pill over the text.
    sentence = page.locator("#s-5")
    sentence.hover()
    page.wait_for_timeout(300)
    expect(page.locator("#passage-tools")).to_be_hidden()
    assert page.evaluate("document.body.innerHTML") == before


def test_on_a_phone_a_tap_outside_a_preview_closes_it_and_does_not_seek(site, phone_page):
    page = phone_page
    page.goto(site + EPISODE)
    wait_until_ready(page)
    point = centre(page, "#seg-2 a.mention[data-popover]")
    page.touchscreen.tap(point["x"], point["y"])
    preview = page.locator(".popover:popover-open")
    expect(preview).to_have_count(1)
    before = page.evaluate(f"{AUDIO}.currentTime")
    target = plain_sentence_point(page)
    assert target and abs(target["start"] - before) > 1
    expect(preview).to_have_count(1)  # scrolling the page leaves it open
    page.touchscreen.tap(target["x"], target["y"])
    expect(page.locator(".popover:popover-open")).to_have_count(0)
    page.wait_for_timeout(300)
    assert page.evaluate(f"{AUDIO}.currentTime") == before
    assert page.evaluate("document.querySelector('.sentence[aria-current]')") is None
    expect(page.locator("#passage-tools")).to_be_hidden()
    # With nothing open, the same tap does seek there.
    page.touchscreen.tap(target["x"], target["y"])
    page.wait_for_function(f"start => Math.abs({AUDIO}.currentTime - start) < 0.25", arg=target["start"])


# ---- one tab stop ---------------------------------------------------------------------------

def test_play_is_within_five_tabs_and_one_tab_leaves_the_transcript(site, page):
    page.goto(site + EPISODE)
    stops = []
    for _ in range(5):
        page.keyboard.press("Tab")
        stops.append(focused(page)["name"])
    assert stops[0] == "Skip to content"
    assert "Play" in stops
    # The whole transcript is one stop: every link and sentence in it but one is out of the tab order.
    stops_inside = page.evaluate("""() => Array.from(document.querySelectorAll(
      '#transcript a[href], #transcript button, #transcript [tabindex]')).filter(e => e.tabIndex >= 0).length""")
    assert stops_inside == 1
    page.get_by_role("switch", name="Show all names").focus()
    page.keyboard.press("Tab")
    inside = focused(page)
    assert inside["inTranscript"] and re.fullmatch(r"s-\d+", inside["id"])
    page.keyboard.press("Tab")
    assert not focused(page)["inTranscript"]
    page.keyboard.press("Shift+Tab")
    assert focused(page)["id"] == inside["id"]


def test_arrow_keys_move_through_the_transcript_and_reach_its_links(site, page):
    page.goto(site + EPISODE)
    page.get_by_role("switch", name="Show all names").focus()
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "s-1"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert focused(page)["id"] == "s-3"
    page.keyboard.press("ArrowUp")
    assert focused(page)["id"] == "s-2"
    page.keyboard.press("End")
    last = page.evaluate("Array.from(document.querySelectorAll('#transcript .sentence')).at(-1).id")
    assert focused(page)["id"] == last
    page.keyboard.press("Home")
    assert focused(page)["id"] == "s-1"
    # → steps into the sentence: the segment's time first (s-1 opens segment 1), then its names.
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.matches('#seg-1 > a.segment-time')")
    page.keyboard.press("ArrowRight")
    name = page.evaluate("document.activeElement.closest('#s-1') && document.activeElement.dataset.popover")
    assert name
    page.keyboard.press("Enter")  # a name's preview, opened by keyboard: focus goes in
    expect(page.locator(f"#{name}")).to_be_visible()
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.dataset.popover") == name
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert focused(page)["id"] == "s-1"
    # The transcript is still one stop, now on the sentence the reader left it at.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    assert focused(page)["id"] == "s-2"


def test_shortcuts_act_only_with_focus_in_the_player_or_the_transcript(site, page):
    page.goto(site + EPISODE)
    wait_until_ready(page)
    page.locator("h1").click()  # focus on nothing in particular: single keys are the page's again
    page.keyboard.press("]")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(f"[{AUDIO}.playbackRate, {AUDIO}.currentTime, {AUDIO}.paused]") == [1, 0, True]
    page.get_by_role("button", name="Play").focus()
    page.keyboard.press("Space")
    page.wait_for_function(f"() => !{AUDIO}.paused")
    page.keyboard.press("ArrowRight")
    assert page.evaluate(f"{AUDIO}.currentTime") >= 30
    page.keyboard.press("]")
    assert page.evaluate(f"{AUDIO}.playbackRate") == 1.25
    page.locator("#s-12").focus()
    page.keyboard.press("Space")  # in the transcript: play or pause
    assert page.evaluate(f"{AUDIO}.paused")


def test_a_sentence_reached_by_keyboard_offers_its_tools_outside_the_text(site, page):
    allow_the_clipboard(page, site)
    page.goto(site + EPISODE)
    text_before = page.evaluate("document.getElementById('transcript').textContent")
    page.get_by_role("switch", name="Show all names").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # s-2
    tools = page.locator("#passage-tools")
    expect(tools).to_be_visible()
    assert page.evaluate("getComputedStyle(document.getElementById('passage-tools')).userSelect") == "none"
    assert page.evaluate("!document.getElementById('transcript').contains(document.getElementById('passage-tools'))")
    # Under the sentence, not over its words.
    sentence_box = page.locator("#s-2").bounding_box()
    tools_box = tools.bounding_box()
    assert tools_box["y"] >= sentence_box["y"] + sentence_box["height"] - 1
    page.keyboard.press("Tab")  # from the sentence to its tools
    copy = tools.get_by_role("button", name="Copy link to this moment")
    expect(copy).to_be_focused()
    page.keyboard.press("Enter")
    start = int(float(page.locator("#s-2").get_attribute("data-start")))
    expect(tools.locator("[data-passage-action=copy-moment]")).to_have_text("Link copied")  # for two seconds
    assert page.evaluate("navigator.clipboard.readText()") == f"{site}{EPISODE}?t={start}#s-2"
    assert page.evaluate("document.getElementById('transcript').textContent") == text_before
    page.keyboard.press("Escape")
    expect(tools).to_be_hidden()
    assert focused(page)["id"] == "s-2"


def test_a_copied_passage_holds_only_the_transcripts_words(site, page):
    """Across two segments, a chapter heading and a source marker: only the spoken words are copied."""
    allow_the_clipboard(page, site)
    page.goto(site + EPISODE)
    # From the last sentence of a segment to the end of the next segment's sentence with a source marker.
    first, last = page.evaluate("""() => {
      for (const marker of document.querySelectorAll('.fnref')) {
        const sentence = marker.closest('.sentence');
        const segment = sentence.closest('.segment');
        const previous = document.getElementById('seg-' + (Number(segment.id.slice(4)) - 1));
        if (previous) return [previous.querySelector('.sentence:last-of-type').id, sentence.id];
      }
    }""")
    page.evaluate(
        """([first, last]) => { const range = document.createRange();
             range.setStartBefore(document.getElementById(first).firstChild);
             range.setEndAfter(document.getElementById(last).lastChild);
             getSelection().removeAllRanges(); getSelection().addRange(range); }""",
        [first, last],
    )
    expect(page.locator("#passage-tools")).to_be_visible()  # the tools for the selection, outside it
    words = page.evaluate(
        """([first, last]) => { const all = Array.from(document.querySelectorAll('#transcript .sentence'));
             const from = all.findIndex(s => s.id === first), to = all.findIndex(s => s.id === last);
             return all.slice(from, to + 1).map(s => { const copy = s.cloneNode(true);
               copy.querySelectorAll('.fnref').forEach(m => m.remove()); return copy.textContent; }).join(' '); }""",
        [first, last],
    )
    plain = " ".join(words.split())
    assert page.evaluate("getSelection().toString()").split() == plain.split()
    page.keyboard.press("Control+C")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.split() == plain.split()
    assert not re.search(r"\d:\d\d|Copy link|Add a note|Log in", copied)


# ---- Now is now ----------------------------------------------------------------------------

def test_the_now_panel_names_the_current_sentences_entries_first(site, page):
    page.goto(site + EPISODE)
    wait_until_ready(page)
    # A sentence naming someone, in a segment that names others besides.
    sentence, own, others = page.evaluate("""() => {
      const named = el => [...new Set(Array.from(el.querySelectorAll('a.mention[data-popover], .mention-repeat[data-entity]'),
                                                 n => n.dataset.popover || n.dataset.entity))];
      for (const s of document.querySelectorAll('.sentence[data-start]')) {
        const own = named(s), all = named(s.closest('.segment'));
        if (own.length && own[0] !== all[0] && all.length > own.length) return [s.id, own, all.filter(id => !own.includes(id))];
      }
    }""")
    page.evaluate(f"{AUDIO}.currentTime = +document.getElementById('{sentence}').dataset.start + 0.05")
    page.wait_for_function(f"() => document.querySelector('.sentence[aria-current]')?.id === '{sentence}'")
    listed = page.evaluate("Array.from(document.querySelectorAll('#now .now-list a'), a => a.dataset.popover)")
    assert listed == own + others  # the sentence's own, in order, then the rest of the segment's
    here = page.evaluate("Array.from(document.querySelectorAll('#now .now-sentence a'), a => a.dataset.popover)")
    assert here == own
    # Each with its line: a person's role or a term's first sentence.
    gist = page.locator("#now .now-sentence li:first-child .now-gist")
    expect(gist).to_have_text(page.locator(f"#{own[0]}").get_attribute("data-gist"))
    assert len(gist.inner_text()) > 10


def test_on_a_phone_now_is_a_strip_above_the_player_in_view_while_listening(site, phone_page):
    page = phone_page
    page.goto(site + EPISODE + "?t=500")
    wait_until_ready(page)
    strip = page.locator("#player #now")
    expect(strip).to_be_visible()
    box = strip.bounding_box()
    assert box["y"] + box["height"] <= 844 and box["height"] < 60  # one line, at the foot
    page.evaluate(f"{AUDIO}.play()")
    page.mouse.wheel(0, 3000)  # the reader wanders off; the strip stays in view, above the player's controls
    expect(page.get_by_role("button", name="Back to now")).to_be_visible()
    moved = strip.bounding_box()
    controls = page.locator("#player .controls").bounding_box()
    assert 0 < moved["y"] and moved["y"] + moved["height"] <= controls["y"]
    first = page.locator("#now .now-list li").first
    expect(first).to_be_visible()
    toggle = page.locator("#now .now-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#now .now-list li").nth(1)).to_be_visible()
    page.evaluate(f"{AUDIO}.pause()")


# ---- the phone's player ------------------------------------------------------------------------

def test_the_phones_player_has_speed_back_forward_and_the_moment_link(site, phone_page):
    page = phone_page
    allow_the_clipboard(page, site)
    page.goto(site + EPISODE)
    wait_until_ready(page)
    speed = page.get_by_label("Speed")
    expect(speed).to_be_visible()  # without opening anything
    box = speed.bounding_box()
    assert box["y"] + box["height"] <= 844 and box["x"] + box["width"] <= 390
    speed.select_option("1.5")
    assert page.evaluate(f"{AUDIO}.playbackRate") == 1.5
    page.get_by_role("button", name="Forward 30 seconds").tap()
    assert page.evaluate(f"{AUDIO}.currentTime") == 30
    page.get_by_role("button", name="Back 15 seconds").tap()
    assert page.evaluate(f"{AUDIO}.currentTime") == 15
    copy = page.get_by_role("button", name="Copy link to this moment")
    expect(copy).to_be_hidden()  # in the sheet
    page.get_by_role("button", name=re.compile("^More")).tap()
    expect(copy).to_be_visible()
    copy.tap()
    assert page.evaluate("navigator.clipboard.readText()").startswith(f"{site}{EPISODE}?t=15#s-")


def test_following_keeps_the_sentence_in_the_reading_zone_at_double_speed(site, phone_page):
    page = phone_page
    page.goto(site + EPISODE + "?t=300")
    wait_until_ready(page)
    page.wait_for_timeout(500)
    samples = page.evaluate(f"""async () => {{
      const audio = {AUDIO}; audio.playbackRate = 2; await audio.play();
      const samples = [];
      for (let i = 0; i < 60; i++) {{
        await new Promise(resolve => setTimeout(resolve, 200));
        const sentence = document.querySelector('.sentence[aria-current]');
        samples.push([sentence.id, sentence.getBoundingClientRect().top / innerHeight]);
      }}
      audio.pause();
      return samples;
    }}""")
    dock = page.evaluate("document.getElementById('player').getBoundingClientRect().top / innerHeight")
    assert page.evaluate(f"{AUDIO}.currentTime") > 320  # a few sentences went by
    # Once the page has had a moment (two samples, 0.4 s) to follow it, the highlighted sentence
    # always starts in the upper part of the window, well clear of the player.
    settled = [top for (before, _), (_, __), (sentence, top) in zip(samples, samples[1:], samples[2:]) if before == sentence]
    assert len(settled) > 40 and len({sentence for sentence, _ in samples}) >= 3
    assert all(0 <= top <= 0.6 for top in settled), " ".join(f"{sentence} {top:.2f}" for sentence, top in samples)
    assert dock > 0.75


# ---- the first five seconds, and one axis ---------------------------------------------------------

def test_the_home_page_starts_listening_in_one_click_and_offers_to_continue(site, page):
    page.goto(site + "/")
    page.evaluate("localStorage.clear()")  # the browser is shared between tests
    page.reload()
    expect(page.locator(".show-hero img")).to_be_visible()
    expect(page.locator(".show-hero .duration")).to_have_text(re.compile(r"^\d+ min$"))
    expect(page.get_by_role("link", name=re.compile("^Continue"))).to_be_hidden()
    page.get_by_role("link", name=re.compile(r"Listen to The Great Purges")).click()
    page.wait_for_url(re.compile(re.escape(EPISODE) + "$"))  # #play is spent
    page.wait_for_function(f"() => !{AUDIO}.paused")
    page.evaluate(f"{AUDIO}.currentTime = 754")
    page.wait_for_function(f"() => {AUDIO}.currentTime >= 754")
    page.evaluate(f"{AUDIO}.pause()")  # the position is kept in this browser
    page.goto(site + "/")
    carry_on = page.get_by_role("link", name="Continue at 12:34")
    expect(carry_on).to_be_visible()
    carry_on.click()
    page.wait_for_function(f"() => !{AUDIO}.paused && {AUDIO}.currentTime >= 754")
    page.evaluate(f"{AUDIO}.pause(); localStorage.clear()")


@pytest.mark.parametrize("width", [1366, 1024, 390])
def test_header_content_and_player_share_one_axis(site, page, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(site + EPISODE)
    lefts = page.evaluate("""() => ['.site-name', '#episode-title', '.episode-meta', '#player .controls']
      .map(selector => Math.round(document.querySelector(selector).getBoundingClientRect().left))""")
    assert len(set(lefts)) == 1, lefts
    # The header's far edge is the content's: the search ends where the page's container does.
    right = page.evaluate("""() => { const main = document.querySelector('main'), style = getComputedStyle(main);
      return Math.round(main.getBoundingClientRect().right - parseFloat(style.paddingRight)); }""")
    assert abs(page.locator(".site-search").bounding_box()["x"] + page.locator(".site-search").bounding_box()["width"] - right) <= 1


def test_on_a_phone_the_header_is_short_and_the_transcript_starts_on_the_first_screen(site, phone_page):
    page = phone_page
    page.goto(site + EPISODE)
    assert page.locator(".site-header").bounding_box()["height"] <= 120
    first = page.locator("#s-1").bounding_box()
    dock = page.locator("#player").bounding_box()
    assert first["y"] + 30 < dock["y"]  # a line of the transcript above the player, before any scrolling
    # The menu opens without a script of ours (the popover attribute) and holds the navigation.
    page.get_by_role("button", name="Menu").tap()
    expect(page.get_by_role("link", name="Glossary")).to_be_visible()
