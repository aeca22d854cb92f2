"""Approximate re-anchoring: a note follows its words through light edits and is never lost."""

import pytest
from django.test import Client
from django.urls import reverse

from episodes.transcripts import import_transcript
from notes.anchoring import SIMILARITY
from notes.models import Note
from tests.factories import make_anchored_note, make_episode, make_reply, make_user

pytestmark = pytest.mark.django_db

TRANSCRIPT = """7: A Test Episode

Stalin met Kirov in Leningrad, and the NKVD watched them both. Nobody trusted the Party's new line.

Then came the show trials in Moscow. The defendants confessed to crimes they could not have comitted.
"""


@pytest.fixture
def imported():
    episode = make_episode(number=7, slug="7-a-test-episode")
    import_transcript(episode, TRANSCRIPT)
    return episode


@pytest.fixture
def bob():
    return make_user("bob")


def reimport(episode, old, new):
    assert old in TRANSCRIPT
    return str(import_transcript(episode, TRANSCRIPT.replace(old, new), relink=False).attached[0])


def test_a_quote_that_lost_a_comma_moves_with_its_words(imported, bob):
    note = make_anchored_note(imported, bob, 1, exact="in Leningrad, and the NKVD watched")
    reply = make_reply(note, bob, "Indeed")
    report = reimport(imported, "Leningrad, and", "Leningrad and")
    note.refresh_from_db()
    reply.refresh_from_db()
    assert not note.orphaned
    assert note.quote_exact == "in Leningrad and the NKVD watched"
    assert note.first_sentence.text.startswith("Stalin met Kirov in Leningrad and")
    assert reply.quote_exact == note.quote_exact and not reply.orphaned
    assert report.startswith("0 notes re-anchored by their words, 1 moved to lightly edited words, 0 orphaned")


def test_a_fixed_typo_re_anchors_the_note_to_the_corrected_words(imported, bob):
    note = make_anchored_note(imported, bob, 4, exact="crimes they could not have comitted")
    reimport(imported, "comitted", "committed")
    note.refresh_from_db()
    assert not note.orphaned
    assert note.quote_exact == "crimes they could not have committed"
    text = " ".join(imported.sentences.order_by("position").values_list("text", flat=True))
    assert text[note.position_start : note.position_end] == note.quote_exact
    assert note.quote_prefix.endswith("The defendants confessed to ")


def test_a_note_whose_words_were_deleted_is_orphaned_not_lost(imported, bob):
    note = make_anchored_note(imported, bob, 2, exact="Nobody trusted the Party's new line.")
    kept = make_anchored_note(imported, bob, 3)
    report = reimport(imported, " Nobody trusted the Party's new line.", "")
    note.refresh_from_db()
    assert note.orphaned and note.quote_exact == "Nobody trusted the Party's new line."
    assert Note.objects.filter(pk=note.pk).exists()
    kept.refresh_from_db()
    assert not kept.orphaned
    assert report.startswith("1 notes re-anchored by their words, 0 moved to lightly edited words, 1 orphaned")


def test_words_reworded_beyond_the_threshold_leave_the_note_orphaned(imported, bob):
    note = make_anchored_note(imported, bob, 1, exact="the NKVD watched them both")
    reimport(imported, "the NKVD watched them both", "the secret police followed everyone")
    note.refresh_from_db()
    assert note.orphaned


def test_an_edit_elsewhere_moves_the_note_by_its_position(imported, bob):
    """The quote is found exactly at its new offset: re-anchored, not orphaned or moved approximately."""
    note = make_anchored_note(imported, bob, 4, exact="confessed to crimes")
    before = note.position_start
    report = reimport(imported, "Stalin met Kirov", "Joseph Stalin met Sergei Kirov")
    note.refresh_from_db()
    assert note.position_start == before + len("Joseph Sergei ")
    assert report.startswith("1 notes re-anchored by their words, 0 moved")


def test_the_best_of_two_look_alike_passages_is_the_one_with_its_context(bob):
    episode = make_episode(number=8, slug="eight")
    text = "8: Eight\n\nThe army was purged in 1937. Many officers died.\n\nThe navy was purged in 1938. Many officers fled.\n"
    import_transcript(episode, text)
    note = make_anchored_note(episode, bob, 3, exact="The navy was purged in 1938.")
    import_transcript(episode, text.replace("The navy was purged in 1938.", "The navy was purged, in 1938."))
    note.refresh_from_db()
    assert not note.orphaned and note.quote_exact == "The navy was purged, in 1938."


def test_the_threshold_is_stated():
    assert SIMILARITY == 80


def test_orphaned_notes_are_shown_to_their_author_and_moderators_only(imported, bob, client):
    note = make_anchored_note(imported, bob, 2, exact="Nobody trusted the Party's new line.", body="Lost words")
    reimport(imported, " Nobody trusted the Party's new line.", "")
    url = reverse("notes:list", args=[imported.slug])
    assert "Lost words" not in Client().get(url).content.decode()
    client.force_login(make_user("someone"))
    assert "Lost words" not in client.get(url).content.decode()
    for reader in (bob, make_user("moderator", is_staff=True)):
        client.force_login(reader)
        html = client.get(url).content.decode()
        assert f'id="note-{note.pk}"' in html.split("Notes whose passage has changed")[1]


def test_an_orphaned_note_leaves_the_feed_and_search(imported, bob, client):
    make_anchored_note(imported, bob, 2, exact="Nobody trusted the Party's new line.", body="Lostword here")
    assert "Lostword" in client.get(reverse("notes:feed", args=[imported.slug])).content.decode()
    assert "Lostword here" in client.get("/search/", {"q": "Lostword"}).content.decode()
    reimport(imported, " Nobody trusted the Party's new line.", "")
    assert "Lostword" not in client.get(reverse("notes:feed", args=[imported.slug])).content.decode()
    assert "Lostword here" not in client.get("/search/", {"q": "Lostword"}).content.decode()
