"""Notes in a real browser: select a passage, write a note, see it beside the passage."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from notes.models import Note
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EPISODE = "/episodes/138-the-great-purges/"

SELECT = """([id, words]) => {
  // Select `words` inside the sentence, as a reader dragging the mouse would.
  const sentence = document.getElementById(id);
  const walker = document.createTreeWalker(sentence, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode()) && !node.data.includes(words));
  const start = node.data.indexOf(words);
  const range = document.createRange();
  range.setStart(node, start);
  range.setEnd(node, start + words.length);
  const selection = getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  sentence.dispatchEvent(new MouseEvent("mouseup", { bubbles: true }));
}"""


@pytest.fixture
def signed_in(browser_context, live_server, small_episode):
    """The browser carries a session for a new listener; cleared afterwards (the context is shared)."""
    user = make_user("reader", display_name="Reader")
    client = Client()
    client.force_login(user)
    browser_context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    yield user
    browser_context.clear_cookies()


def test_signing_in_shows_the_page_as_yours_not_the_copy_the_browser_kept(live_server, page, small_episode):
    """The anonymous page is public for a minute; signing in tells the browser to drop it (Clear-Site-Data)."""
    make_user("keeper", password="pw-long-enough-1", display_name="Keeper")
    page.goto(live_server.url + EPISODE)
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill("keeper")
    page.get_by_label("Password").fill("pw-long-enough-1")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + EPISODE)
    expect(page.get_by_role("link", name="Keeper")).to_be_visible()
    page.context.clear_cookies()


def test_select_words_post_a_note_and_find_it_beside_the_passage(live_server, page, signed_in):
    page.goto(live_server.url + EPISODE)
    expect(page.locator("#seg-1 .note-badge")).to_have_count(0)
    page.evaluate(SELECT, ["s-2", "signed the lists"])
    trigger = page.get_by_role("button", name="Annotate")
    expect(trigger).to_be_visible()
    trigger.click()

    dialog = page.locator("#note-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-note-quote]")).to_have_text("signed the lists")
    # "The NKVD arrested thousands." (28 characters and a space), then "Stalin ".
    expect(dialog.locator("input[name=start]")).to_have_value("36")
    expect(dialog.locator("textarea")).to_be_focused()
    dialog.locator("textarea").fill("Which *lists*? The NKVD's albums.")
    expect(dialog.locator(".note-counter")).to_have_text("33 of 2000 characters")
    dialog.get_by_role("button", name="Post note").click()

    created = dialog.locator(".note-created")
    expect(created).to_contain_text("waiting for a moderator")  # a new account's first note
    expect(created.locator("em")).to_have_text("lists")
    expect(created.get_by_role("link", name="See it in the discussion")).to_be_focused()
    badge = page.locator("#seg-1 .note-badge")
    expect(badge).to_have_text("1")

    note = Note.objects.get()
    assert (note.quote_exact, note.position_start, note.first_sentence.position) == ("signed the lists", 36, 2)

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.reload()
    # The badge stays for readers without the script; with it, a mark beside the words replaces it.
    expect(page.locator("#seg-1 .note-badge")).to_have_text("1")
    expect(page.locator("#seg-1 .note-badge")).to_be_hidden()
    page.get_by_role("button", name="Note here").click()
    expect(page.locator("#note-panel").locator(f"#note-{note.pk}")).to_contain_text("Which lists?")
    page.goto(live_server.url + EPISODE + "notes/?passage=1-2")
    thread = page.locator(f"#note-{note.pk}")
    expect(thread.locator(".note-quote")).to_have_text("signed the lists")
    expect(thread).to_contain_text("Which lists? The NKVD's albums.")
    expect(thread).to_contain_text("waiting for a moderator")


def test_a_sentence_without_a_selection_is_the_passage_and_escape_closes(live_server, page, signed_in):
    page.goto(live_server.url + EPISODE)
    page.locator("#s-3").click(position={"x": 5, "y": 5})
    page.get_by_role("button", name="Annotate").click()
    dialog = page.locator("#note-dialog")
    # The footnote marker is not part of the quoted words.
    expect(dialog.locator("[data-note-quote]")).to_have_text(
        "Kopelev wrote: “We were forced to resort to barbaric methods.” and the NKVD obeyed Stalin."
    )
    expect(dialog.locator("input[name=first]")).to_have_value("3")
    expect(dialog.locator("input[name=exact]")).to_have_value("")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#s-3")).to_be_focused()


def test_signed_out_readers_are_offered_a_log_in_link(live_server, page, small_episode):
    page.goto(live_server.url + EPISODE)
    page.evaluate(SELECT, ["s-1", "arrested thousands"])
    link = page.get_by_role("link", name="Log in to add a note")
    expect(link).to_be_visible()
    assert "/accounts/login/?next=" in link.get_attribute("href")


def test_a_reply_on_the_notes_page_swaps_in_place(live_server, page, signed_in, small_episode):
    from tests.factories import make_anchored_note

    thread = make_anchored_note(small_episode["episode"], make_user("other"), 1, body="Thousands?")
    page.goto(live_server.url + EPISODE + "notes/")
    article = page.locator(f"#note-{thread.pk}")
    article.get_by_text("Reply", exact=True).click()
    article.get_by_label("Your reply").fill("Hundreds of thousands.")
    key = article.locator("input[name=idempotency_key]").input_value()
    article.get_by_role("button", name="Post reply").click()
    expect(page.locator(f"#note-{thread.pk} .note-reply")).to_contain_text("Hundreds of thousands.")
    assert page.url.endswith("/notes/")  # no page load: htmx swapped the thread
    assert page.locator(f"#note-{thread.pk} input[name=idempotency_key]").input_value() != key
    assert thread.replies.count() == 1
