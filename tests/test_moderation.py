"""Moderators work the queue; every decision is logged; nobody else can make one."""

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notes.moderation import ModerationError, moderate
from notes.models import ModerationEvent, Note
from tests.factories import make_episode, make_flag, make_note, make_user

pytestmark = pytest.mark.django_db

Status = Note.Status
QUEUE = "/moderation/"


def act_url(note, action):
    return reverse("notes:moderation_act", args=[note.pk, action])


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def episode():
    return make_episode(title="The Great Purges")


@pytest.fixture
def moderator(client):
    user = make_user("mod", display_name="The Moderator", is_staff=True)
    client.force_login(user)
    return user


@pytest.fixture
def author():
    return make_user("author", display_name="Ann Author")


@pytest.fixture
def pending(episode, author):
    return make_note(episode, author, "Held *for* a look.", status=Status.PENDING)


@pytest.fixture
def flagged(episode, author):
    note = make_note(episode, author, "Buy cheap watches", status=Status.APPROVED)
    make_flag(note, make_user(), reason="spam")
    make_flag(note, make_user(), reason="spam", detail="An advert.")
    make_flag(note, make_user(), reason="abuse")
    return note


def test_queue_lists_pending_and_flagged_notes_with_reasons_and_counts(client, moderator, pending, flagged):
    html = client.get(QUEUE).content.decode()
    assert f'id="queue-note-{pending.pk}"' in html and f'id="queue-note-{flagged.pk}"' in html
    assert "<em>for</em>" in html  # the rendered, sanitised body
    assert "Flagged 3 times" in html
    assert "Spam or advertising ×2" in html and "Abusive or hateful" in html
    assert "An advert." in html
    assert "2 notes waiting" in html


def test_queue_leaves_out_approved_notes_without_open_flags(client, moderator, episode, author):
    quiet = make_note(episode, author, status=Status.APPROVED)
    settled = make_note(episode, author, status=Status.APPROVED)
    make_flag(settled, make_user(), resolved=True)
    html = client.get(QUEUE).content.decode()
    assert f'id="queue-note-{quiet.pk}"' not in html
    assert f'id="queue-note-{settled.pk}"' not in html


@pytest.mark.parametrize(
    ("action", "status"),
    [("approve", Status.APPROVED), ("reject", Status.REJECTED), ("spam", Status.SPAM)],
)
def test_each_action_changes_the_status_and_logs_an_event(client, moderator, pending, action, status):
    response = client.post(act_url(pending, action), {"reason": "  Looked\x00 at it.\x0b  "})
    assert response.status_code == 302 and response["Location"] == QUEUE
    pending.refresh_from_db()
    assert pending.status == status
    event = ModerationEvent.objects.get()
    assert (event.actor, event.note, event.subject, event.action, event.reason) == (
        moderator, pending, pending.author, action, "Looked at it."
    )


def test_an_action_resolves_the_notes_open_flags(client, moderator, flagged):
    client.post(act_url(flagged, "approve"))
    assert not flagged.flags.filter(resolved=False).exists()


def test_the_queue_shows_the_result_as_a_message_after_the_redirect(client, moderator, pending):
    response = client.post(act_url(pending, "approve"), follow=True)
    assert "Approved Ann Author’s note." in response.content.decode()


def test_ban_bans_the_author_and_rejects_their_waiting_notes(client, moderator, episode, author, flagged):
    waiting = make_note(episode, author, status=Status.PENDING)
    other = make_note(episode, make_user(), status=Status.PENDING)
    client.post(act_url(flagged, "ban"), {"reason": "Spammer"})
    author.refresh_from_db()
    assert author.is_banned()
    assert Note.objects.get(pk=flagged.pk).status == Status.REJECTED
    assert Note.objects.get(pk=waiting.pk).status == Status.REJECTED
    assert Note.objects.get(pk=other.pk).status == Status.PENDING
    assert set(ModerationEvent.objects.values_list("action", "note")) == {
        ("ban", flagged.pk), ("reject", waiting.pk)
    }


def test_a_banned_author_can_no_longer_write(client, moderator, episode, author, flagged):
    client.post(act_url(flagged, "ban"))
    client.force_login(author)
    response = client.post(reverse("notes:create", args=[episode.slug]), {"body": "Again!"})
    assert response.status_code == 403
    assert author.notes.count() == 1


def test_staff_cannot_be_banned_from_the_queue(client, moderator, episode):
    note = make_note(episode, make_user(is_staff=True))
    response = client.post(act_url(note, "ban"), follow=True)
    assert "Staff accounts can’t be banned" in response.content.decode()
    assert not note.author.is_banned()
    assert not ModerationEvent.objects.exists()


def test_restore_puts_a_rejected_note_back(client, moderator, pending):
    client.post(act_url(pending, "spam"))
    client.post(act_url(pending, "restore"))
    pending.refresh_from_db()
    assert pending.status == Status.APPROVED
    assert list(ModerationEvent.objects.order_by("pk").values_list("action", flat=True)) == ["spam", "restore"]


def test_restore_with_unban_lifts_the_ban(client, moderator, author, pending):
    client.post(act_url(pending, "ban"))
    client.post(act_url(pending, "restore"), {"unban": "1"})
    author.refresh_from_db()
    assert not author.is_banned()
    assert ModerationEvent.objects.filter(action="restore", subject=author).exists()


def test_restoring_a_note_that_was_never_rejected_is_refused(moderator, pending):
    with pytest.raises(ModerationError):
        moderate(pending, "restore", moderator)
    assert not ModerationEvent.objects.exists()


def test_htmx_swaps_the_row_and_sends_the_message_out_of_band(client, moderator, flagged):
    response = client.post(act_url(flagged, "reject"), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li class="queue-item status-rejected" id="queue-note-{flagged.pk}"')
    assert "<html" not in html
    assert '<div id="flash" hx-swap-oob="innerHTML">' in html and "Rejected Ann Author’s note." in html
    assert "Flagged" not in html  # its flags are resolved
    assert f'formaction="{act_url(flagged, "restore")}"' in html


def test_an_unknown_action_is_404(client, moderator, pending):
    assert client.post(act_url(pending, "delete")).status_code == 404
    assert client.post(act_url(pending, "flag")).status_code == 404


def test_get_on_an_action_is_405(client, moderator, pending):
    assert client.get(act_url(pending, "approve")).status_code == 405
    pending.refresh_from_db()
    assert pending.status == Status.PENDING


def test_listeners_cannot_see_the_queue_or_act(client, pending):
    client.force_login(make_user())
    assert client.get(QUEUE).status_code == 403
    assert client.post(act_url(pending, "approve")).status_code == 403
    assert client.post(act_url(pending, "approve"), headers={"HX-Request": "true"}).status_code == 403
    pending.refresh_from_db()
    assert pending.status == Status.PENDING
    assert not ModerationEvent.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client, pending):
    response = client.get(QUEUE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
    response = client.post(act_url(pending, "ban"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post(act_url(pending, "ban"), headers={"HX-Request": "true"})
    assert response["HX-Redirect"].startswith("/accounts/login/")
    assert b"queue-item" not in response.content
    pending.refresh_from_db()
    pending.author.refresh_from_db()
    assert pending.status == Status.PENDING and not pending.author.is_banned()


def test_the_header_links_staff_to_moderation(client, moderator):
    assert 'href="/moderation/"' in client.get("/").content.decode()
    client.force_login(make_user())
    assert 'href="/moderation/"' not in client.get("/").content.decode()


def test_the_log_lists_recent_decisions_with_undo(client, moderator, pending):
    client.post(act_url(pending, "spam"), {"reason": "Advert"})
    html = client.get(QUEUE).content.decode()
    assert "The Moderator: marked as spam" in html and "“Advert”" in html
    assert f'action="{act_url(pending, "restore")}"' in html


def test_queue_query_count_does_not_grow_with_the_queue(client, moderator, episode, django_assert_max_num_queries):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(QUEUE).status_code == 200
        return len(captured)

    note = make_note(episode, make_user(), status=Status.PENDING)
    make_flag(note, make_user())
    moderate(make_note(episode, make_user(), status=Status.PENDING), "spam", moderator)
    few = queries()
    for _ in range(8):
        note = make_note(episode, make_user(), status=Status.PENDING)
        make_flag(note, make_user(), detail="Look")
        moderate(make_note(episode, make_user()), "reject", moderator)
    assert queries() == few
    with django_assert_max_num_queries(8):
        client.get(QUEUE)


# The admin's actions call the same moderate().

def run_admin_action(rf, user, action, notes):
    from django.contrib.messages.storage.fallback import FallbackStorage

    admin = site._registry[Note]
    request = rf.post("/admin/notes/note/")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    getattr(admin, action)(request, Note.objects.filter(pk__in=[note.pk for note in notes]))
    return request


@pytest.mark.parametrize(
    ("action", "status", "logged"),
    [("approve", Status.APPROVED, "approve"), ("reject", Status.REJECTED, "reject"),
     ("mark_spam", Status.SPAM, "spam")],
)
def test_admin_actions_change_the_status_and_log(rf, moderator, pending, flagged, action, status, logged):
    run_admin_action(rf, moderator, action, [pending, flagged])
    assert set(Note.objects.values_list("status", flat=True)) == {status}
    assert ModerationEvent.objects.filter(action=logged, actor=moderator).count() == 2
    assert not flagged.flags.filter(resolved=False).exists()


def test_admin_ban_bans_each_author_once(rf, moderator, author, pending, flagged):
    run_admin_action(rf, moderator, "ban_author", [pending, flagged])
    author.refresh_from_db()
    assert author.is_banned()
    assert set(Note.objects.values_list("status", flat=True)) == {Status.REJECTED}
    assert ModerationEvent.objects.filter(action="ban").count() == 1


def test_admin_restore_restores_and_reports_what_it_could_not(rf, moderator, pending, flagged):
    moderate(flagged, "spam", moderator)
    request = run_admin_action(rf, moderator, "restore", [pending, flagged])
    assert Note.objects.get(pk=flagged.pk).status == Status.APPROVED
    assert Note.objects.get(pk=pending.pk).status == Status.PENDING
    assert any("Only a rejected or spam note" in str(m) for m in request._messages)


def test_admin_note_pages_render(admin_client, pending, flagged):
    assert admin_client.get("/admin/notes/note/").status_code == 200
    assert admin_client.get(f"/admin/notes/note/{flagged.pk}/change/").status_code == 200
    assert admin_client.get("/admin/notes/flag/").status_code == 200
    moderate(pending, "approve", pending.author)
    assert admin_client.get("/admin/notes/moderationevent/").status_code == 200


# In a browser: the buttons swap the row in place and announce the result.

@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_decision_swaps_the_row_in_place_and_is_announced(live_server, page, browser_context):
    from playwright.sync_api import expect

    make_user("mod", password="moderator password", is_staff=True)
    note = make_note(make_episode(), make_user(display_name="Ann Author"), status=Status.PENDING)
    try:
        page.goto(live_server.url + "/accounts/login/?next=/moderation/")
        page.get_by_label("Username").fill("mod")
        page.get_by_label("Password").fill("moderator password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(live_server.url + "/moderation/")
        page.evaluate("() => { window.stayedOnPage = true; }")
        row = page.locator(f"#queue-note-{note.pk}")
        row.get_by_label("Reason").fill("Fine by me")
        row.get_by_role("button", name="Approve").click()
        expect(page.locator("#flash")).to_have_text("Approved Ann Author’s note.")
        expect(row).to_have_class("queue-item status-approved")
        assert page.evaluate("() => window.stayedOnPage") is True
        assert ModerationEvent.objects.get().reason == "Fine by me"
    finally:
        browser_context.clear_cookies()


# ---- several at once, with each note's passage and moment ----------------------------

BULK = "/moderation/notes/"


def test_the_queue_shows_each_notes_passage_in_context_and_its_moment(client, moderator, small_episode):
    from episodes.models import Episode
    from tests.factories import make_anchored_note

    episode = small_episode["episode"]
    episode.save_timings([(0.0, 2.5, []), (2.8, 4.9, []), (65.2, 70.0, [])], Episode.Timing.TIMED)
    note = make_anchored_note(episode, make_user(), 3, exact="barbaric methods", status=Status.PENDING)
    html = client.get(QUEUE).content.decode()
    assert (f'at <a class="queue-moment" href="/episodes/{episode.slug}/?t=65.2#note-{note.pk}">'
            '<time datetime="PT65S">1:05</time></a>') in html
    assert f"…{note.quote_prefix}<mark>barbaric methods</mark>{note.quote_suffix}…" in html


def test_several_notes_are_decided_at_once_each_logged(client, moderator, episode, author):
    notes = [make_note(episode, author, f"Waiting {n}", status=Status.PENDING) for n in range(3)]
    html = client.get(QUEUE).content.decode()
    assert f'<input type="checkbox" name="notes" value="{notes[0].pk}" form="bulk-moderation"' in html
    response = client.post(BULK, {"action": "approve", "notes": [notes[0].pk, notes[2].pk], "reason": "Fine"},
                           follow=True)
    assert "Approved: 2 notes." in response.content.decode()
    assert [Note.objects.get(pk=note.pk).status for note in notes] == [Status.APPROVED, Status.PENDING, Status.APPROVED]
    assert set(ModerationEvent.objects.values_list("note", "action", "reason")) == {
        (notes[0].pk, "approve", "Fine"), (notes[2].pk, "approve", "Fine")
    }


@pytest.mark.parametrize(("data", "message"), [
    ({"action": "ban", "notes": ["1"]}, "Choose approve, reject or spam"),
    ({"action": "approve", "notes": ["1", "x"]}, "A note must be a whole number"),
    ({"action": "approve", "notes": ["١"]}, "A note must be a whole number"),
])
def test_a_bulk_decision_refuses_what_it_cannot_do(client, moderator, pending, data, message):
    response = client.post(BULK, data)
    assert response.status_code == 400 and message in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Status.PENDING and not ModerationEvent.objects.exists()


def test_only_moderators_decide_in_bulk(client, pending):
    client.force_login(make_user("listener"))
    assert client.post(BULK, {"action": "approve", "notes": [pending.pk]}).status_code in (302, 403)
    pending.refresh_from_db()
    assert pending.status == Status.PENDING
