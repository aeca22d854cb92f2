"""The editor's day in a real browser: uploads keep editors' starts, typo fixes keep timings, undo, the desk's counts."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.factories import make_aligned_episode, make_episode, make_note, make_sentences, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = ["The NKVD arrested thousands.", "Stalin signed the lists.", "Nobody felt moraly safe.", "The trials began."]
VTT = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nThe NKVD arrested thousands.\n\n"
    "00:00:03.000 --> 00:00:06.000\nStalin signed the lists.\n\n"
    "00:00:06.000 --> 00:00:09.000\nNobody felt moraly safe.\n\n"
    "00:00:09.000 --> 00:00:12.000\nThe trials began.\n"
).encode()
ADMIN = "/" + settings.ADMIN_PATH


@pytest.fixture
def episode():
    """Four aligned sentences; an editor set §2's start by hand on the review page."""
    return make_aligned_episode(TEXTS)


def starts(episode):
    return list(episode.sentences.order_by("position").values_list("start", flat=True))


def preview(page, live_server, episode, overwrite=False):
    page.goto(f"{live_server.url}{ADMIN}episodes/episode/{episode.pk}/change/")
    page.get_by_role("link", name="Upload timings").click()
    page.get_by_label("Timings file").set_input_files({"name": "times.vtt", "mimeType": "text/vtt", "buffer": VTT})
    if overwrite:
        page.get_by_label("Replace the starts an editor set by hand").check()
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Preview: nothing has changed yet.")).to_be_visible()


def test_manual_starts_survive_a_timings_upload(live_server, page, staff_browser, episode):
    preview(page, live_server, episode)
    expect(page.locator("#change-2 .outcome")).to_have_text("Kept (set by an editor)")
    expect(page.locator("#change-1 .outcome")).to_have_text("Moved")
    assert starts(episode) == [0.5, 3.4, 5.8, 8.8]  # a preview writes nothing
    page.get_by_role("button", name="Apply these timings").click()
    expect(page.get_by_text("Timings applied: 4 sentences: 3 moved, 1 kept (set by an editor).")).to_be_visible()
    page.get_by_role("link", name="Review timings").click()
    row = page.locator("#review-s-2")
    expect(row.get_by_role("textbox")).to_have_value("3.40")
    expect(row.get_by_text("set by an editor")).to_be_visible()
    assert starts(episode) == [1.0, 3.4, 6.0, 9.0]


def test_an_undo_restores_the_previous_timings(live_server, page, staff_browser, episode):
    preview(page, live_server, episode, overwrite=True)
    page.get_by_role("button", name="Apply these timings").click()
    expect(page.get_by_role("button", name="Undo: put back the previous timings")).to_be_visible()
    assert starts(episode) == [1.0, 3.0, 6.0, 9.0]
    page.get_by_role("button", name="Undo: put back the previous timings").click()
    expect(page.get_by_text("The previous timings are back.")).to_be_visible()
    expect(page.get_by_role("button", name="Undo: put back the previous timings")).to_have_count(0)
    assert starts(episode) == [0.5, 3.4, 5.8, 8.8]
    assert episode.sentences.get(position=2).start_set_by_editor


def test_a_typo_fix_is_previewed_keeps_its_timing_and_is_undone(live_server, page, staff_browser, episode):
    fixed = "138: The Great Purges\n\n" + " ".join(TEXTS).replace("moraly", "morally") + "\n"
    page.goto(f"{live_server.url}{ADMIN}episodes/episode/{episode.pk}/change/")
    page.get_by_label("Transcript file").set_input_files(
        {"name": "fixed.txt", "mimeType": "text/plain", "buffer": fixed.encode()})
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_text("Preview: nothing has changed yet.")).to_be_visible()
    row = page.locator("#change-3")
    expect(row.locator(".outcome")).to_have_text("Edited")
    expect(row.locator("del")).to_have_text("removed: moraly")
    expect(row.locator("ins")).to_have_text("added: morally")
    expect(row.locator(".time")).to_have_text("Keeps 5.80 s")
    assert episode.sentences.get(position=3).text == "Nobody felt moraly safe."  # a preview writes nothing
    page.get_by_role("button", name="Apply this transcript").click()
    expect(page.get_by_text(re.compile(r"Transcript imported: .*1 lightly edited kept their timing"))).to_be_visible()
    vtt = page.request.get(f"{live_server.url}/episodes/{episode.slug}/transcript.vtt").text()
    assert vtt.count(" --> ") == 4 and "Nobody felt morally safe." in vtt
    assert episode.sentences.get(position=3).start == 5.8
    page.get_by_role("button", name="Undo: put back the previous transcript").click()
    expect(page.get_by_text("The previous transcript and its timings are back.")).to_be_visible()
    expect(page.get_by_role("button", name="Undo: put back the previous transcript")).to_have_count(0)
    assert list(episode.sentences.order_by("position").values_list("text", flat=True)) == TEXTS
    assert starts(episode) == [0.5, 3.4, 5.8, 8.8] and episode.sentences.get(position=2).start_set_by_editor


def test_the_desk_counts_what_needs_doing(live_server, page, staff_browser, episode):
    episode.sentences.filter(position=4).update(confidence=0.1)
    untimed = make_episode(number=139, title="The Soviet Union Part 9", slug="139-the-soviet-union")
    make_sentences(untimed, "The military purges began.")
    make_note(episode, make_user("listener"), status="pending")
    page.goto(f"{live_server.url}{ADMIN}")
    expect(page.locator("#desk-notes .count")).to_have_text("1")
    expect(page.locator("#desk-review .count")).to_have_text("1")
    expect(page.locator("#desk-untimed .count")).to_have_text("1")
    expect(page.locator("#desk-failed .count")).to_have_text("0")
    page.locator("#desk-untimed").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("The Soviet Union Part 9")


def test_a_sentence_is_edited_in_place(live_server, page, staff_browser, episode):
    page.goto(f"{live_server.url}/episodes/{episode.slug}/edit/")
    page.evaluate("window.notReloaded = true")
    row = page.locator("#edit-s-3")
    row.get_by_role("link", name="Edit §3").click()
    box = row.get_by_role("textbox")
    expect(box).to_be_focused()
    box.fill("Nobody felt morally safe.")
    row.get_by_role("button", name="Save §3").click()
    expect(page.locator("#edit-s-3 .sentence-text")).to_have_text("Nobody felt morally safe.")
    expect(page.get_by_text("§3 saved.")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True  # saved in place, no page load
    third = episode.sentences.get(position=3)
    assert (third.text, third.start) == ("Nobody felt morally safe.", 5.8)


def test_selected_words_are_linked_and_unlinked(live_server, page, staff_browser, episode):
    from episodes.models import Mention
    from tests.factories import make_term

    make_term("Show trials", aliases="", category="event", definition="Trials staged for the public.")
    page.goto(f"{live_server.url}/episodes/{episode.slug}/edit/")
    text = page.locator("#edit-s-4 .sentence-text")
    # Select "trials" in "The trials began." as a reader would, with the mouse.
    page.evaluate("""() => {
        const node = document.querySelector('#edit-s-4 .sentence-text').firstChild;
        const range = document.createRange();
        range.setStart(node, 4); range.setEnd(node, 10);
        const selection = document.getSelection();
        selection.removeAllRanges(); selection.addRange(range);
    }""")
    row = page.locator("#edit-s-4")
    expect(row.get_by_label("Words")).to_have_value("trials")
    row.get_by_label("Glossary entry or person").fill("Show trials")
    row.get_by_role("button", name="Link in §4", exact=True).click()
    expect(page.get_by_text("“trials” in §4 now links to Show trials.")).to_be_visible()
    expect(page.locator("#edit-s-4")).to_contain_text("“trials” → Show trials (an editor’s)")
    assert Mention.objects.filter(sentence__position=4, kind="added", term__name="Show trials").exists()
    page.locator("#edit-s-4 summary").click()
    page.locator("#edit-s-4").get_by_label("Words").fill("trials")
    page.locator("#edit-s-4").get_by_role("button", name="Unlink in §4").click()
    expect(page.get_by_text("“trials” in §4 no longer links to Show trials.")).to_be_visible()
    expect(text).to_have_count(1)
    assert not Mention.objects.filter(sentence__position=4, term__name="Show trials").exists()


def test_selected_words_become_an_alias_after_the_preview(live_server, page, staff_browser, episode):
    from episodes.models import Mention, Term
    from tests.factories import make_term

    make_term("Show trials", aliases="", category="event", definition="Trials staged for the public.")
    page.goto(f"{live_server.url}/episodes/{episode.slug}/edit/")
    page.evaluate("""() => {
        const node = document.querySelector('#edit-s-4 .sentence-text').firstChild;
        const range = document.createRange();
        range.setStart(node, 4); range.setEnd(node, 10);
        document.getSelection().removeAllRanges(); document.getSelection().addRange(range);
    }""")
    row = page.locator("#edit-s-4")
    expect(row.get_by_label("Words")).to_have_value("trials")
    row.get_by_label("Glossary entry or person").fill("Show trials")
    row.get_by_role("button", name="Make an alias").click()
    expect(page.locator("#edit-s-4")).to_contain_text("Make “trials” an alias of Show trials?")
    expect(page.locator("#edit-s-4")).to_contain_text("1 link added, 0 removed, in 1 episode")
    assert Term.objects.get(name="Show trials").alias_list == []  # only a preview so far
    page.locator("#edit-s-4").get_by_role("button", name="Add the alias").click()
    expect(page.get_by_text("“trials” is now an alias of Show trials")).to_be_visible()
    expect(page.locator("#edit-s-4")).to_contain_text("“trials” → Show trials")
    assert Term.objects.get(name="Show trials").alias_list == ["trials"]
    assert Mention.objects.filter(sentence__position=4, kind="auto", term__name="Show trials").exists()
