"""Never lose an editor's work: a transcript upload is previewed sentence by sentence, applied, and undone."""

from io import StringIO

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from episodes.admin import EpisodeAdminForm
from episodes.models import Episode, TranscriptImport
from episodes.models.transcript_imports import TextOutcome
from episodes.transcript_imports import apply_transcript, preview_transcript, undo_transcript
from episodes.transcripts import MAX_TRANSCRIPT_BYTES, TranscriptError, import_transcript, plan_transcript
from notes.models import Note
from tests.factories import make_anchored_note, make_citation, make_episode, make_sentences, make_source, make_user

pytestmark = pytest.mark.django_db

TEXTS = ["The NKVD arrested thousands.", "Stalin signed the lists.", "Nobody felt moraly safe.", "The trials began."]


@pytest.fixture
def episode():
    """Four aligned sentences in two paragraphs; an editor set §2's start by hand."""
    episode = make_episode(number=138, title="The Great Purges", slug="138-the-great-purges")
    make_sentences(episode, *TEXTS[:2])
    make_sentences(episode, *TEXTS[2:], paragraph=2)
    episode.save_timings([(0.5, 2.5, []), (2.9, 5.5, []), (5.8, 8.5, []), (8.8, 11.0, [])], Episode.Timing.ALIGNED)
    episode.sentences.filter(position=2).update(start=3.4, start_set_by_editor=True)
    return episode


def transcript(*paragraphs):
    return "138: The Great Purges\n\n" + "\n\n".join(" ".join(texts) for texts in paragraphs) + "\n"


FIXED = transcript(TEXTS[:2], [TEXTS[2].replace("moraly", "morally"), TEXTS[3]])


def state(episode):
    return list(episode.sentences.order_by("position").values_list(
        "paragraph", "text", "start", "end", "start_set_by_editor"))


def outcomes(changes):
    return [(change.outcome, change.position, change.old_position) for change in changes]


# --- The plan --------------------------------------------------------------------------------


def test_a_typo_fix_is_an_edit_that_keeps_its_timing(episode):
    report = plan_transcript(episode, FIXED)
    assert outcomes(report.changes) == [
        ("unchanged", 1, 1), ("unchanged", 2, 2), ("edited", 3, 3), ("unchanged", 4, 4)]
    edit = report.changes[2]
    assert (edit.old_text, edit.new_text, edit.start, edit.timed) == (TEXTS[2], "Nobody felt morally safe.", 5.8, True)
    assert edit.diff == [("same", "Nobody felt"), ("del", "moraly"), ("ins", "morally"), ("same", "safe.")]
    assert report.summary() == "4 sentences: 3 unchanged, 1 edited (timing kept for 1)."


def test_an_edit_of_a_sentence_with_no_time_stays_without_one(episode):
    with episode.writing():
        episode.sentences.filter(position=3).update(start=None, end=None)
    edit = plan_transcript(episode, FIXED).changes[2]
    assert (edit.outcome, edit.start, edit.timed) == (TextOutcome.EDITED, None, False)


def test_a_deleted_sentence_with_a_note_and_a_citation_is_listed_and_its_note_counted_orphaned(episode):
    author = make_user("reader")
    make_anchored_note(episode, author, 3, exact="felt moraly safe")
    make_citation(episode.sentences.get(position=3), make_source(), quoted_text="felt")
    report = plan_transcript(episode, transcript(TEXTS[:2], TEXTS[3:]))
    assert outcomes(report.changes) == [
        ("unchanged", 1, 1), ("unchanged", 2, 2), ("removed", None, 3), ("unchanged", 3, 4)]
    removed = report.changes[2]
    assert (removed.start, removed.timed) == (5.8, False)
    assert sorted(removed.attached) == ["1 citation", "1 note"]
    assert "1 orphaned" in str(report.attached[0])


def test_an_added_sentence_has_no_time_yet(episode):
    report = plan_transcript(episode, transcript([*TEXTS[:2], "Fear spread to every office."], TEXTS[2:]))
    added = report.changes[2]
    assert (added.outcome, added.position, added.old_position, added.timed) == (TextOutcome.ADDED, 3, None, False)
    assert report.untimed == [3]


def test_an_unchanged_text_is_all_unchanged(episode):
    report = plan_transcript(episode, transcript(TEXTS[:2], TEXTS[2:]))
    assert report.unchanged and {change.outcome for change in report.changes} == {TextOutcome.UNCHANGED}


def test_a_rewritten_sentence_is_removed_and_added_not_edited(episode):
    report = plan_transcript(episode, transcript(TEXTS[:2], ["Everyone feared a knock at night.", TEXTS[3]]))
    assert outcomes(report.changes) == [
        ("unchanged", 1, 1), ("unchanged", 2, 2), ("removed", None, 3), ("added", 3, None), ("unchanged", 4, 4)]


def test_planning_writes_nothing(episode):
    note = make_anchored_note(episode, make_user("reader"), 2, exact="signed the lists")
    before = state(episode)
    plan_transcript(episode, transcript(TEXTS[:1], TEXTS[2:]))  # §2 and its note would go
    assert state(episode) == before
    assert not Note.objects.get(pk=note.pk).orphaned


# --- Apply and undo --------------------------------------------------------------------------


def test_undo_puts_back_the_text_paragraphs_timings_and_editors_starts(episode):
    before = state(episode)
    note = make_anchored_note(episode, make_user("reader"), 3, exact="felt moraly safe")
    fixed = transcript([TEXTS[0], "Fear spread.", TEXTS[1]], [TEXTS[2].replace("moraly", "morally"), TEXTS[3]])
    record = preview_transcript(episode, fixed, "fixed.txt")
    apply_transcript(record)
    assert state(episode)[1:3] == [(1, "Fear spread.", None, None, False), (1, TEXTS[1], 3.4, 5.5, True)]
    undo_transcript(record)
    assert state(episode) == before
    record.refresh_from_db()
    assert record.state == TranscriptImport.State.UNDONE and not record.can_undo()
    note.refresh_from_db()
    assert (note.first_sentence.position, note.quote_exact, note.orphaned) == (3, "felt moraly safe", False)


def test_undo_is_refused_after_a_later_edit(episode):
    record = preview_transcript(episode, FIXED, "fixed.txt")
    apply_transcript(record)
    with episode.writing():
        episode.sentences.filter(position=4).update(start=9.5, start_set_by_editor=True)
    after = state(episode)
    with pytest.raises(TranscriptError, match="changed after this import"):
        undo_transcript(record)
    assert state(episode) == after


def test_only_the_latest_import_is_undone(episode):
    first = preview_transcript(episode, FIXED, "fixed.txt")
    apply_transcript(first)
    apply_transcript(preview_transcript(episode, transcript(TEXTS[:2], TEXTS[2:]), "again.txt"))
    with pytest.raises(TranscriptError, match="Only the latest"):
        undo_transcript(first)


def test_a_stale_preview_is_refused(episode):
    record = preview_transcript(episode, FIXED, "fixed.txt")
    with episode.writing():
        episode.sentences.filter(position=3).update(start=6.0)
    before = state(episode)
    with pytest.raises(TranscriptError, match="changed since this preview"):
        apply_transcript(record)
    assert state(episode) == before
    record.refresh_from_db()
    assert record.state == TranscriptImport.State.PREVIEWED and record.text == FIXED


def test_an_applied_preview_is_not_applied_twice(episode):
    record = preview_transcript(episode, FIXED, "fixed.txt")
    apply_transcript(record)
    with pytest.raises(TranscriptError, match="already applied"):
        apply_transcript(record)


# --- The admin -------------------------------------------------------------------------------


def episode_form(episode, **extra):
    form = EpisodeAdminForm(instance=episode)
    return {
        name: "" if value is None else value for name, value in form.initial.items()
        if name in form.fields and not isinstance(form.fields[name], forms.FileField)
    } | extra


def upload(client, episode, data, name="fixed.txt"):
    url = reverse("admin:episodes_episode_change", args=[episode.pk])
    return client.post(url, episode_form(episode, transcript_file=SimpleUploadedFile(name, data)))


def test_an_upload_shows_a_preview_and_writes_nothing(admin_client, episode):
    before = state(episode)
    response = upload(admin_client, episode, FIXED.encode())
    record = episode.transcript_imports.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:episodes_episode_transcript_report", args=[episode.pk, record.pk])
    assert state(episode) == before
    html = admin_client.get(response.url).content.decode()
    assert "Preview: nothing has changed yet." in html
    assert '<del><span class="diff-note">removed: </span>moraly</del>' in html
    assert '<ins><span class="diff-note">added: </span>morally</ins>' in html
    assert "Keeps 5.80 s" in html and "Apply this transcript" in html


def test_apply_then_undo_from_the_report(admin_client, episode):
    before = state(episode)
    url = upload(admin_client, episode, FIXED.encode()).url
    response = admin_client.post(url, {"action": "apply"}, follow=True)
    assert "Transcript imported: 4 sentences: 3 kept, 1 new, 1 removed; 1 lightly edited kept" in (
        response.content.decode())
    assert episode.sentences.get(position=3).text == "Nobody felt morally safe."
    change = admin_client.get(reverse("admin:episodes_episode_change", args=[episode.pk])).content.decode()
    assert f'<a href="{url}">fixed.txt</a>: Applied on' in change  # the report, and its undo, can be found again
    response = admin_client.post(url, {"action": "undo"}, follow=True)
    assert "The previous transcript and its timings are back." in response.content.decode()
    assert state(episode) == before


def test_a_stale_preview_is_refused_with_a_message(admin_client, episode):
    url = upload(admin_client, episode, FIXED.encode()).url
    with episode.writing():
        episode.sentences.filter(position=1).update(text="The NKVD arrested many thousands.")
    response = admin_client.post(url, {"action": "apply"}, follow=True)
    assert "changed since this preview" in response.content.decode()
    assert episode.sentences.get(position=3).text == TEXTS[2]


@pytest.mark.parametrize("data, error", [
    (b"", "The submitted file is empty."),
    (b"  \n\n ", "is empty."),
    (b"\x00\x01binary", "looks like a binary file"),
    ("Nobody felt safe.".encode("latin-1") + b" \xe9t\xe9", "is not UTF-8 text: byte 18 (line 1)"),
    (b"x" * (MAX_TRANSCRIPT_BYTES + 1), "a transcript may be at most"),
    (b"139: The Military Purges\n\nThe generals were next.", "for episode 139, but it is being imported into episode 138"),
])
def test_a_bad_file_is_refused_on_the_form(admin_client, episode, data, error):
    before = state(episode)
    response = upload(admin_client, episode, data)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert state(episode) == before and not episode.transcript_imports.exists()


def test_the_preview_is_for_staff_only(client, episode):
    record = preview_transcript(episode, FIXED, "fixed.txt")
    url = reverse("admin:episodes_episode_transcript_report", args=[episode.pk, record.pk])
    assert client.get(url).status_code == 302  # to the admin's login
    client.force_login(make_user("listener"))
    assert client.get(url).status_code == 302
    assert client.post(url, {"action": "apply"}).status_code == 302
    assert episode.sentences.get(position=3).text == TEXTS[2]


def test_apply_needs_the_csrf_token(admin_user, episode):
    record = preview_transcript(episode, FIXED, "fixed.txt")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    url = reverse("admin:episodes_episode_transcript_report", args=[episode.pk, record.pk])
    assert client.post(url, {"action": "apply"}).status_code == 403
    assert episode.sentences.get(position=3).text == TEXTS[2]


def test_the_command_dry_run_prints_the_plan_and_writes_nothing(episode, tmp_path):
    path = tmp_path / "fixed.txt"
    path.write_text(transcript(TEXTS[:2], [TEXTS[2].replace("moraly", "morally")]))
    before = state(episode)
    out = StringIO()
    call_command("import_transcript", episode.slug, str(path), "--dry-run", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Dry run, nothing written. 3 sentences: 2 unchanged, 1 edited (timing kept for 1), 1 removed."
    assert lines[1:3] == [
        "  §3 edited from §3 (keeps 5.80 s): Nobody felt [-moraly-] {+morally+} safe.",
        "  was §4 removed (had 8.80 s): The trials began.",
    ]
    assert state(episode) == before


def test_the_command_still_imports(episode, tmp_path):
    path = tmp_path / "fixed.txt"
    path.write_text(FIXED)
    call_command("import_transcript", episode.slug, str(path), stdout=StringIO())
    assert episode.sentences.get(position=3).text == "Nobody felt morally safe."
    assert import_transcript(episode, FIXED).unchanged


def test_a_new_episodes_transcript_is_previewed_too(admin_client, episode):
    data = episode_form(episode, number=139, title="The Military Purges", slug="139-the-military-purges",
                        transcript_file=SimpleUploadedFile("139.txt", b"The generals were next. Few survived."))
    response = admin_client.post(reverse("admin:episodes_episode_add"), data)
    new = Episode.objects.get(number=139)
    assert response.url == reverse("admin:episodes_episode_transcript_report",
                                   args=[new.pk, new.transcript_imports.get().pk])
    assert not new.sentences.exists()
    admin_client.post(response.url, {"action": "apply"})
    assert list(new.sentences.values_list("text", flat=True)) == ["The generals were next.", "Few survived."]
