"""Moderators edit a note as they approve it (the log keeps what it said); authors see what was decided and why."""

import pytest
from django.urls import reverse

from notes.models import ModerationEvent, Note
from tests.factories import make_episode, make_note, make_user

pytestmark = pytest.mark.django_db
Status = Note.Status


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def moderator(client):
    user = make_user("mod", is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def notes():
    episode = make_episode(title="The Great Purges")
    author = make_user("author")
    return [make_note(episode, author, f"Note {n} with a typo: teh.", status=Status.PENDING) for n in range(3)]


def act(client, note, action, **data):
    return client.post(reverse("notes:moderation_act", args=[note.pk, action]), data, follow=True)


def test_an_edit_is_approved_and_the_log_keeps_the_old_text(client, moderator, notes):
    note = notes[0]
    act(client, note, "approve", body="Note 0 with a typo: *the*.", reason="Fixed a typo.")
    note.refresh_from_db()
    assert (note.status, note.body) == (Status.APPROVED, "Note 0 with a typo: *the*.")
    assert "<em>the</em>" in note.body_html
    event = ModerationEvent.objects.get(note=note)
    assert event.reason == "Edited before approval; it said: “Note 0 with a typo: teh.”. Fixed a typo."
    assert "it said: “Note 0 with a typo: teh.”" in client.get(reverse("notes:moderation")).content.decode()


def test_an_unchanged_body_is_no_edit(client, moderator, notes):
    act(client, notes[0], "approve", body=notes[0].body)
    assert ModerationEvent.objects.get(note=notes[0]).reason == ""


def test_an_empty_edit_is_refused_and_nothing_changes(client, moderator, notes):
    response = act(client, notes[0], "approve", body="   ")
    assert "An edited note can&#x27;t be empty" in response.content.decode()
    notes[0].refresh_from_db()
    assert notes[0].status == Status.PENDING and not ModerationEvent.objects.exists()


def test_a_rejection_ignores_the_edit_box(client, moderator, notes):
    act(client, notes[0], "reject", body="Something else entirely.")
    notes[0].refresh_from_db()
    assert (notes[0].status, notes[0].body) == (Status.REJECTED, "Note 0 with a typo: teh.")


def test_the_author_sees_a_rejections_reason_on_their_notes(client, moderator, notes):
    act(client, notes[0], "reject", reason="Please keep to the episode.")
    client.force_login(notes[0].author)
    html = client.get(reverse("notes:mine")).content.decode()
    assert "Rejected by a moderator: “Please keep to the episode.”" in html
    assert html.count("Waiting for a moderator") == 2


def test_a_listener_sees_only_their_own_notes(client, notes):
    client.force_login(make_user("someone-else"))
    html = client.get(reverse("notes:mine")).content.decode()
    assert "You haven’t written a note yet." in html and "teh." not in html


def test_strangers_are_asked_to_log_in_for_their_notes(client):
    response = client.get(reverse("notes:mine"))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
