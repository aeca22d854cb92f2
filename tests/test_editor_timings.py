"""Never lose an editor's work: timings uploads are previewed, keep editors' starts, report and undo."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from alignment.views import check_start
from episodes.models import Episode, TimingImport
from episodes.timings.changes import Outcome, plan_timings
from episodes.timings.formats import read_timings, validate_cues
from episodes.timings.imports import TimingImportError, apply_import, preview_timings, undo_import
from episodes.transcripts import import_transcript
from tests.factories import make_aligned_episode

pytestmark = pytest.mark.django_db

TEXTS = ["The NKVD arrested thousands.", "Stalin signed the lists.", "Nobody felt morally safe.", "The trials began."]
VTT = (
    "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nThe NKVD arrested thousands.\n\n"
    "00:00:03.000 --> 00:00:06.000\nStalin signed the lists.\n\n"
    "00:00:06.000 --> 00:00:09.000\nNobody felt morally safe.\n\n"
    "00:00:09.000 --> 00:00:12.000\nThe trials began.\n"
).encode()


@pytest.fixture
def episode():
    """Four aligned sentences; an editor set the second's start by hand."""
    return make_aligned_episode(TEXTS)


def starts(episode):
    return list(episode.sentences.order_by("position").values_list("start", flat=True))


def upload(admin_client, episode, data=VTT, overwrite=False):
    url = reverse("admin:episodes_episode_timings", args=[episode.pk])
    form = {"upload": SimpleUploadedFile("times.vtt", data)} | ({"overwrite": "on"} if overwrite else {})
    return admin_client.post(url, form, follow=True)


# --- Planning --------------------------------------------------------------------------------


def test_a_plan_keeps_an_editors_start_and_names_every_change(episode):
    sentences = list(episode.sentences.order_by("position"))
    plan = plan_timings(sentences, [(1.0, 3.0, []), (3.0, 6.0, []), (None, None, []), (8.8, 12.0, [])])
    assert [c.outcome for c in plan.changes] == [Outcome.MOVED, Outcome.KEPT, Outcome.DROPPED, Outcome.UNCHANGED]
    assert plan.timings[1][:2] == [3.4, 6.0] and plan.timings[1][3] is True
    assert plan.timings[0][1] == 3.0  # ends at the next start, no further
    assert plan.summary() == "4 sentences: 1 unchanged, 1 moved, 1 kept (set by an editor), 1 lost its time."
    overwritten = plan_timings(sentences, [(1.0, 3.0, []), (3.0, 6.0, []), (6.0, 9.0, []), (9.0, 12.0, [])],
                               overwrite_editor_starts=True)
    assert overwritten.timings[1][0] == 3.0 and overwritten.timings[1][3] is False


def test_a_plan_trims_ends_so_sentences_never_overlap(episode):
    sentences = list(episode.sentences.order_by("position"))
    plan = plan_timings(sentences, [(1.0, 7.0, []), (3.0, 6.0, []), (6.0, 9.5, []), (9.0, 12.0, [])],
                        overwrite_editor_starts=True)
    assert [t[:2] for t in plan.timings] == [[1.0, 3.0], [3.0, 6.0], [6.0, 9.0], [9.0, 12.0]]


def test_an_editors_start_out_of_order_with_the_file_is_refused_with_the_reason(episode):
    episode.sentences.filter(position=2).update(start=7.0, end=7.5)
    with pytest.raises(TimingImportError, match=r"§3 would start at 6.00 s, before §2, which an editor set at 7.00 s"):
        apply_import(preview_timings(episode, VTT, "times.vtt"))
    assert starts(episode) == [0.5, 7.0, 5.8, 8.8]


# --- Preview, apply, undo ------------------------------------------------------------------------


def test_an_upload_is_previewed_and_changes_nothing_until_applied(admin_client, episode):
    response = upload(admin_client, episode)
    html = response.content.decode()
    assert "Preview: nothing has changed yet." in html
    assert "Kept (set by an editor)" in html and "Moved" in html
    assert starts(episode) == [0.5, 3.4, 5.8, 8.8]
    response = admin_client.post(response.redirect_chain[-1][0], {"action": "apply"}, follow=True)
    assert "Timings applied: 4 sentences: 3 moved, 1 kept (set by an editor)." in response.content.decode()
    assert starts(episode) == [1.0, 3.4, 6.0, 9.0]
    assert episode.sentences.get(position=2).start_set_by_editor
    episode.refresh_from_db()
    assert episode.timing == Episode.Timing.TIMED


def test_an_editor_may_choose_to_overwrite_starts_set_by_hand(admin_client, episode):
    response = upload(admin_client, episode, overwrite=True)
    admin_client.post(response.redirect_chain[-1][0], {"action": "apply"})
    assert starts(episode) == [1.0, 3.0, 6.0, 9.0]
    assert not episode.sentences.filter(start_set_by_editor=True).exists()


def test_undo_puts_back_the_previous_timings_exactly(admin_client, episode):
    before = list(episode.sentences.order_by("position").values_list("start", "end", "confidence", "start_set_by_editor"))
    record = apply_import(preview_timings(episode, VTT, "times.vtt", overwrite=True))
    url = reverse("admin:episodes_episode_timings_report", args=[episode.pk, record.pk])
    assert "Undo: put back the previous timings" in admin_client.get(url).content.decode()
    response = admin_client.post(url, {"action": "undo"}, follow=True)
    assert "The previous timings are back." in response.content.decode()
    after = list(episode.sentences.order_by("position").values_list("start", "end", "confidence", "start_set_by_editor"))
    assert after == before
    episode.refresh_from_db()
    assert episode.timing == Episode.Timing.ALIGNED
    record.refresh_from_db()
    assert record.state == TimingImport.State.UNDONE and not record.can_undo()


def test_undo_refuses_to_lose_a_start_set_since(episode):
    record = apply_import(preview_timings(episode, VTT, "times.vtt"))
    episode.sentences.filter(position=3).update(start=6.5, start_set_by_editor=True)
    with pytest.raises(TimingImportError, match="§3 changed after this import"):
        undo_import(record)
    assert starts(episode) == [1.0, 3.4, 6.5, 9.0]


def test_a_preview_is_refused_once_the_episode_changed(episode):
    record = preview_timings(episode, VTT, "times.vtt")
    episode.sentences.filter(position=1).update(start=0.7)
    with pytest.raises(TimingImportError, match="changed since this preview"):
        apply_import(record)
    assert starts(episode) == [0.7, 3.4, 5.8, 8.8]


def test_a_file_that_does_not_match_is_refused_on_the_upload_page(admin_client, episode):
    response = upload(admin_client, episode, b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nPasta recipes.\n")
    assert "does not match this transcript" in response.content.decode()
    assert not TimingImport.objects.exists()


def test_the_timing_status_is_not_a_choice_in_the_episode_form(admin_client, episode):
    html = admin_client.get(reverse("admin:episodes_episode_change", args=[episode.pk])).content.decode()
    assert 'name="timing"' not in html and "Aligned to the audio" in html


def test_the_command_keeps_editors_starts_and_lists_changes(episode, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "times.vtt"
    path.write_bytes(VTT)
    out = StringIO()
    call_command("import_timings", episode.slug, str(path), stdout=out)
    assert "1 kept (set by an editor)" in out.getvalue() and "§1: moved (0.5 → 1.0)" in out.getvalue()
    assert starts(episode) == [1.0, 3.4, 6.0, 9.0]


# --- Transcript edits keep timings ---------------------------------------------------------------


def transcript(*texts):
    return "138: The Great Purges\n\n" + " ".join(texts) + "\n"


def test_a_typo_fix_keeps_its_sentences_timing(episode):
    episode.sentences.filter(position=3).update(text="Nobody felt moraly safe.")
    report = import_transcript(episode, transcript(*TEXTS))
    assert report.retimed == [3] and report.untimed == []
    assert "1 lightly edited kept their timing" in str(report)
    fixed = episode.sentences.get(position=3)
    assert (fixed.text, fixed.start, fixed.end) == ("Nobody felt morally safe.", 5.8, 8.5)


def test_a_rewritten_sentence_loses_its_time_and_is_listed_for_review(client, admin_user, episode):
    texts = [*TEXTS[:2], "Everyone in the country was afraid of a knock on the door at night.", TEXTS[3]]
    report = import_transcript(episode, transcript(*texts))
    assert report.untimed == [3] and "have no time yet (§3)" in str(report)
    client.force_login(admin_user)
    html = client.get(reverse("alignment:review", args=[episode.slug])).content.decode()
    assert "To review: 1 of 4 sentences" in html and "no time: its text changed" in html


# --- Valid timings everywhere --------------------------------------------------------------------


def test_a_start_inside_the_previous_sentence_ends_it_there(client, admin_user, episode):
    client.force_login(admin_user)
    third = episode.sentences.get(position=3)
    response = client.post(reverse("alignment:review_start", args=[episode.slug, third.pk]), {"start": "4.0"}, follow=True)
    assert "§3 now starts at 4.00 s. §2 now ends there." in response.content.decode()
    assert episode.sentences.get(position=2).end == 4.0
    vtt = client.get(f"/episodes/{episode.slug}/transcript.vtt").content
    validate_cues(read_timings(vtt, "export.vtt"))  # the site's own export imports cleanly


def test_a_start_before_the_previous_start_is_refused(episode):
    from alignment.views import StartError

    with pytest.raises(StartError, match="after the previous sentence's"):
        check_start(episode.sentences.select_related("episode").get(position=3), 3.0)


def test_exports_never_overlap_even_when_stored_ends_do(client, episode):
    episode.sentences.filter(position=1).update(end=5.0)  # written before the rule, say
    vtt = client.get(f"/episodes/{episode.slug}/transcript.vtt").content
    cues = read_timings(vtt, "export.vtt")
    validate_cues(cues)
    assert cues[0].end == 3.4
    record = apply_import(preview_timings(episode, vtt, "export.vtt"))
    assert record.state == TimingImport.State.APPLIED


def test_the_report_counts_its_outcomes_and_refuses_an_unknown_action(admin_client, episode):
    response = upload(admin_client, episode)
    report_url = response.redirect_chain[-1][0]
    page = response.content.decode()
    # The editor's start is kept; the three others move from the aligned times to the file's.
    record = episode.timing_imports.get()
    outcomes = [change.outcome for change in record.sentence_changes]
    for outcome, label in Outcome.LABELS.items():
        count = outcomes.count(outcome)
        assert (f"<strong>{count}</strong> {label.lower()}" in page) == bool(count)
    assert "Show every sentence" in page
    response = admin_client.post(report_url, {"action": "delete"}, follow=True)
    assert "Choose Apply or Undo." in response.content.decode()
    record.refresh_from_db()
    assert record.state == TimingImport.State.PREVIEWED
