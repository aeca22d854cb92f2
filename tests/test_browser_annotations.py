"""Notes like Hypothesis, in a real browser: words annotated across sentences, lit in place, kept through edits."""

import re

import pytest
from playwright.sync_api import expect

from episodes.models import Episode
from episodes.transcripts import import_transcript
from notes.models import Note
from notes.moderation import moderate
from tests.browser import sign_in
from tests.factories import make_anchored_note, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EPISODE = "/episodes/138-the-great-purges/"

SELECT_ACROSS = """([first, last]) => {
  // From the last two words of one sentence to the first two of the next, as a reader dragging would.
  const texts = (id) => {
    const walker = document.createTreeWalker(document.getElementById(id), NodeFilter.SHOW_TEXT, {
      acceptNode: (node) => node.parentElement.closest('.fnref') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT });
    const nodes = [];
    while (walker.nextNode()) if (walker.currentNode.data.trim()) nodes.push(walker.currentNode);
    return nodes;
  };
  const start = texts(first).at(-1);
  const end = texts(last)[0];
  const startAt = start.data.trimEnd().split(' ').slice(0, -2).join(' ').length + 1;
  const endAt = end.data.split(' ').slice(0, 2).join(' ').length;
  const range = document.createRange();
  range.setStart(start, startAt);
  range.setEnd(end, endAt);
  getSelection().removeAllRanges();
  getSelection().addRange(range);
  return range.toString();
}"""

LIT = """() => [...(CSS.highlights.get('note') || [])].map((range) => range.toString().replace(/\\s+/g, ' ').trim())"""


def as_someone_else(page, site, user=None):
    """Another reader (anonymous unless given), with nothing of the last one's kept by the browser."""
    page.context.clear_cookies()
    page.context.new_cdp_session(page).send("Network.clearBrowserCache")
    if user:
        sign_in(page.context, site, user)


def test_words_across_two_sentences_are_annotated_and_after_approval_lit_for_another_reader(site, page):
    writer = make_user("writer", display_name="Writer")  # a new account: their first notes wait
    sign_in(page.context, site, writer)
    page.goto(site + EPISODE)
    quoted = page.evaluate(SELECT_ACROSS, ["s-5", "s-6"])
    annotate = page.get_by_role("button", name="Annotate")
    expect(annotate).to_be_visible()
    annotate.click()
    dialog = page.locator("#note-dialog")
    expect(dialog.locator("[data-note-quote]")).to_have_text(" ".join(quoted.split()))
    expect(dialog.locator("[data-note-context] mark")).to_have_text(" ".join(quoted.split()))
    start = Episode.objects.get().sentences.get(position=5).start
    expect(dialog.locator("[data-note-time]")).to_have_text(f"{int(start) // 60}:{int(start) % 60:02d}")
    expect(dialog.get_by_role("button", name="Hear it again")).to_be_visible()
    dialog.get_by_label("Your note").fill("Two sentences, one thought.")
    dialog.get_by_role("button", name="Post note").click()
    expect(dialog.locator(".note-created")).to_contain_text("waiting for a moderator")
    note = Note.objects.get()
    assert (note.first_sentence.position, note.last_sentence.position) == (5, 6)
    # The writer sees their own waiting note lit at once.
    page.wait_for_function(f"() => ({LIT})().length === 1")

    as_someone_else(page, site)
    page.goto(site + EPISODE)
    page.locator('#note-panel[data-notes="0"]').wait_for(state="attached")  # the highlights were loaded
    assert page.evaluate(LIT) == []  # waiting for a moderator: nobody else sees it
    expect(page.locator("[data-note-filter]")).to_be_hidden()  # nothing to filter

    moderate(note, "approve", make_user("mod", is_staff=True))
    as_someone_else(page, site, make_user("reader"))
    page.goto(site + EPISODE)
    page.wait_for_function(f"() => ({LIT})().length === 1")
    assert page.evaluate(LIT) == [" ".join(quoted.split())]
    mark = page.locator(".note-mark")
    expect(mark).to_have_count(1)
    # A click on the lit words (the second sentence's, not a name) opens the thread beside them, and does not seek.
    point = page.evaluate("""() => { document.getElementById('s-6').scrollIntoView({block: 'center', behavior: 'instant'});
      const r = [...CSS.highlights.get('note')][0].getClientRects()[1];
      return {x: r.left + r.width / 2, y: r.top + r.height / 2}; }""")
    page.mouse.click(point["x"], point["y"])
    panel = page.locator("#note-panel")
    expect(panel.locator(f"#note-{note.pk}")).to_contain_text("Two sentences, one thought.")
    assert page.evaluate("document.getElementById('audio').currentTime") == 0
    # The filter: none lights nothing, all lights it again.
    page.get_by_label("None").check()
    page.wait_for_function(f"() => ({LIT})().length === 0")
    page.get_by_label("All").check()
    page.wait_for_function(f"() => ({LIT})().length === 1")
    page.context.clear_cookies()


def test_a_notes_address_opens_the_page_at_its_words_and_moment(site, page):
    episode = Episode.objects.get()
    note = make_anchored_note(episode, make_user("ann"), 12, exact=episode.sentences.get(position=12).text[:30].strip(),
                              body="Right here.")
    page.goto(site + EPISODE + f"#note-{note.pk}")
    panel = page.locator("#note-panel")
    expect(panel.locator(f"#note-{note.pk}")).to_contain_text("Right here.")
    page.wait_for_function(f"() => Math.abs(document.getElementById('audio').currentTime - {note.media_start}) < 0.01")
    expect(page.locator("#s-12")).to_have_attribute("aria-current", "true")
    expect(page.locator("#s-12")).to_be_in_viewport()
    chosen = page.evaluate("() => [...CSS.highlights.get('note-chosen')].map((r) => r.toString().trim())")
    assert chosen == [note.quote_exact]


def first_sentence_with_a_comma(episode):
    for sentence in episode.sentences.order_by("position"):
        match = re.search(r"(\w+ \w+), (\w+ \w+)", sentence.text)
        if match and sentence.position > 3:
            return sentence, match[0]
    raise AssertionError("The demo has no sentence with a comma between words.")


def test_after_a_transcript_edit_a_note_moves_with_its_words_and_one_whose_words_went_is_kept(site, page):
    episode = Episode.objects.get()
    author = make_user("author", display_name="Author")
    sentence, with_comma = first_sentence_with_a_comma(episode)
    moved = make_anchored_note(episode, author, sentence.position, exact=with_comma, body="About the comma.")
    gone_sentence = episode.sentences.get(position=sentence.position + 2)
    gone = make_anchored_note(episode, author, gone_sentence.position, body="About words that will go.")
    text = "138: The Great Purges\n\n" + episode.plain_text()
    edited = text.replace(with_comma, with_comma.replace(",", ""), 1).replace(" " + gone_sentence.text, "", 1)
    assert edited.count(with_comma.replace(",", "")) >= 1 and gone_sentence.text not in edited
    report = import_transcript(episode, edited)
    assert "1 orphaned" in str(report) and "1 moved to lightly edited words" in str(report)

    sign_in(page.context, site, author)
    page.goto(site + EPISODE)
    page.wait_for_function(f"() => ({LIT})().length === 1")
    assert page.evaluate(LIT) == [with_comma.replace(",", "")]  # the same words, without their comma
    page.goto(site + EPISODE + "notes/")
    orphans = page.locator("section.orphaned")
    expect(orphans.locator(f"#note-{gone.pk}")).to_contain_text("About words that will go.")
    expect(page.locator(f"#note-{moved.pk}")).to_contain_text("About the comma.")
    expect(orphans.locator(f"#note-{moved.pk}")).to_have_count(0)
    page.context.clear_cookies()


def test_by_keyboard_a_sentence_offers_its_notes_and_n_annotates_it(site, page):
    episode = Episode.objects.get()
    note = make_anchored_note(episode, make_user("ann"), 2, body="On the second sentence.")
    sign_in(page.context, site, make_user("writer"))
    page.goto(site + EPISODE)
    page.wait_for_function(f"() => ({LIT})().length === 1")
    page.locator("#s-1").focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator("#s-2")).to_be_focused()
    here = page.get_by_role("button", name="1 note here")
    expect(here).to_be_visible()
    page.keyboard.press("Tab")  # the passage tools come next in the tab order
    expect(page.locator('#passage-tools [data-passage-action="copy-moment"]')).to_be_focused()
    page.keyboard.press("Tab")
    expect(here).to_be_focused()
    page.keyboard.press("Enter")
    panel = page.locator("#note-panel")
    expect(panel.locator(f"#note-{note.pk}")).to_contain_text("On the second sentence.")
    expect(page.locator("#note-panel-title")).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page.locator("#s-2")).to_be_focused()  # back to the passage: its tools hid when focus left them
    page.locator("#s-3").focus()
    page.keyboard.press("n")
    dialog = page.locator("#note-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=first]")).to_have_value("3")
    expect(dialog.locator("[data-note-context] mark")).to_have_text(
        " ".join(episode.sentences.get(position=3).text.split()))
    page.keyboard.press("Escape")
    page.context.clear_cookies()


def test_note_this_moment_anchors_to_the_sentence_being_read(site, page):
    sign_in(page.context, site, make_user("listener"))
    page.goto(site + EPISODE + "?t=100")
    current = page.locator('.sentence[aria-current="true"]')
    expect(current).to_have_count(1)
    position = current.get_attribute("data-position")
    page.get_by_role("button", name="Note this moment").click()
    dialog = page.locator("#note-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=first]")).to_have_value(position)
    start = int(Episode.objects.get().sentences.get(position=position).start)
    expect(dialog.locator("[data-note-time]")).to_have_text(f"{start // 60}:{start % 60:02d}")
    page.context.clear_cookies()


def test_on_a_phone_a_tap_on_lit_words_opens_a_bottom_sheet_above_the_player_and_does_not_seek(site, phone_page):
    episode = Episode.objects.get()
    note = make_anchored_note(episode, make_user("ann"), 6, exact="the idea that there was a great conspiracy",
                              body="On a phone.")
    page = phone_page
    page.goto(site + EPISODE)
    page.wait_for_function(f"() => ({LIT})().length === 1")
    point = page.evaluate("""() => { document.getElementById('s-6').scrollIntoView({block: 'center', behavior: 'instant'});
      const r = [...CSS.highlights.get('note')][0].getClientRects()[0];
      return {x: r.left + r.width / 2, y: r.top + r.height / 2}; }""")
    page.touchscreen.tap(point["x"], point["y"])
    panel = page.locator("#note-panel")
    expect(panel.locator(f"#note-{note.pk}")).to_contain_text("On a phone.")
    sheet = panel.bounding_box()
    player = page.locator("#player").bounding_box()
    # Full width, from the lower part of the window down to the player, docked on it.
    assert sheet["width"] == 390 and sheet["y"] > 844 * 0.2 and abs(sheet["y"] + sheet["height"] - player["y"]) < 1
    assert player["y"] + player["height"] == 844  # the player at the foot of the window, nothing showing under it
    words = page.evaluate("() => [...CSS.highlights.get('note-chosen')][0].getClientRects()[0].bottom")
    assert words < sheet["y"]  # the words stay in sight above the sheet
    assert page.evaluate("document.getElementById('audio').currentTime") == 0
