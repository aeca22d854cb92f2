"""
Aligning an episode to real audio as a run: the task, the command, the admin
and the editor's review page. The audio is a real narration by another eSpeak
voice than the aligner's reference, so these are real (tiny) alignments.
"""

import threading
import time
from datetime import timedelta
from urllib.parse import quote, unquote

import pytest
import soundfile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from alignment import models as alignment_runs

from alignment.engine import narration
from alignment.runs import (
    AlignmentRefused,
    AudioUnavailable,
    ProgressWriter,
    create_run,
    download_audio,
    heartbeat,
    run_alignment,
)
from alignment.tasks import start_alignment
from alignment.models import GIVE_UP_SILENT_AFTER, AlignmentRun
from episodes.models import Episode, Sentence
from tests.factories import make_episode, make_sentences, make_user
from tests.servers import QuietHandler, serve_folder

pytestmark = pytest.mark.django_db

Status = AlignmentRun.Status
TEXTS = [
    "The NKVD arrested thousands of people in the spring.",
    "Stalin signed the lists himself, page after page.",
    "Nobody in the Party felt safe after that.",
]
#: How far an aligned start may be from the truth in these tests (the benchmark measures precision).
TOLERANCE = 0.5


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A WAV of TEXTS in a Scottish-accented voice at another rate, and its true sentence starts."""
    voiced = narration.synthesise([TEXTS], voice="en-gb-scotland", words_per_minute=150, sentence_pause=0.8)
    path = tmp_path_factory.mktemp("audio") / "narration.wav"
    soundfile.write(path, voiced.samples, voiced.sample_rate)
    return path, [start for start, _ in voiced.sentences]


@pytest.fixture
def episode():
    episode = make_episode(title="The Great Purges", slug="138-the-great-purges")
    make_sentences(episode, *TEXTS)
    return episode


@pytest.fixture
def estimated(episode):
    """The episode with estimated timings, so we can tell whether anything changed."""
    episode.save_timings([(0.0, 1.0, []), (2.0, 3.0, []), (4.0, 5.0, [])], Episode.Timing.ESTIMATED)
    return episode


def timings(episode):
    return list(episode.sentences.order_by("position").values_list("start", "end", "confidence", "start_set_by_editor"))


def align_now(episode, audio, django_capture_on_commit_callbacks, **options):
    """start_alignment as the admin calls it; the test settings' immediate backend runs the task."""
    with django_capture_on_commit_callbacks(execute=True):
        run = start_alignment(episode, audio, **options)
    run.refresh_from_db()
    return run


# --- The task --------------------------------------------------------------------------------


def test_a_run_times_every_sentence_and_marks_the_episode_aligned(
        estimated, recording, django_capture_on_commit_callbacks):
    path, truth = recording
    run = align_now(estimated, path, django_capture_on_commit_callbacks)
    assert run.status == Status.DONE, run.message
    assert (run.progress, run.stage) == (1.0, "Done")
    assert run.started <= run.finished
    starts = [start for start, *_ in timings(estimated)]
    assert all(abs(start - true) <= TOLERANCE for start, true in zip(starts, truth)), (starts, truth)
    assert starts == sorted(starts)
    sentences = list(estimated.sentences.order_by("position"))
    assert all(0 <= sentence.confidence <= 1 for sentence in sentences)
    assert any(sentence.words for sentence in sentences)  # word timings where the evidence is good
    estimated.refresh_from_db()
    assert estimated.timing == Episode.Timing.ALIGNED
    assert f'data-start="{sentences[1].start:.3f}"' in estimated.transcript_html
    assert estimated.duration == timedelta(seconds=run.result["duration"])
    result = run.result
    assert result["sentences"] == 3 and result["duration"] > truth[-1]
    assert result["compute_seconds"] > 0
    assert isinstance(result["skipped"], list) and isinstance(result["low_confidence"], list)
    low = [s.position for s in sentences if s.confidence < 0.5]
    assert result["low_confidence"] == low


def test_progress_is_recorded_stage_by_stage(episode, recording):
    path, _ = recording
    run = create_run(episode, path)
    seen = []
    run_alignment(run, echo=lambda fraction, stage: seen.append((fraction, stage)))
    stages = [stage for _, stage in seen]
    for stage in ("Reading the audio", "Reading the script aloud to compare with the audio", "Aligning", "Saving the timings"):
        assert stage in stages
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] < 1


def test_progress_writes_are_throttled_within_a_stage(episode, django_assert_num_queries):
    run = create_run(episode, "/nowhere.wav")
    progress = ProgressWriter(run, every=60)
    with django_assert_num_queries(1):
        progress(0.1, "Aligning")
        progress(0.2, "Aligning")
        progress(0.3, "Aligning")
    with django_assert_num_queries(1):
        progress(0.4, "Timing sentences")  # a new stage is written at once
    run.refresh_from_db()
    assert (run.progress, run.stage) == (0.4, "Timing sentences")


def test_unreadable_audio_fails_the_run_and_leaves_the_timings_alone(
        estimated, tmp_path, django_capture_on_commit_callbacks):
    before = timings(estimated)
    bogus = tmp_path / "episode.mp3"
    bogus.write_text("<html>Not found</html>")
    run = align_now(estimated, bogus, django_capture_on_commit_callbacks)
    assert run.status == Status.FAILED
    assert "audio" in run.message.lower() and run.finished
    assert timings(estimated) == before
    estimated.refresh_from_db()
    assert estimated.timing == Episode.Timing.ESTIMATED


def test_a_missing_file_fails_the_run_with_its_path(estimated, tmp_path, django_capture_on_commit_callbacks):
    run = align_now(estimated, tmp_path / "gone.mp3", django_capture_on_commit_callbacks)
    assert run.status == Status.FAILED
    assert run.message == f"No audio file at {tmp_path / 'gone.mp3'}."


def test_a_failure_while_saving_rolls_every_timing_back(estimated, recording, monkeypatch):
    """The timings, the episode's state and the run's result change together or not at all."""
    before = timings(estimated)

    def broken(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Episode, "render_transcript", broken)
    run = run_alignment(create_run(estimated, recording[0]))
    assert run.status == Status.FAILED
    assert "disk full" in run.message
    assert timings(estimated) == before
    estimated.refresh_from_db()
    assert estimated.timing == Episode.Timing.ESTIMATED
    run.refresh_from_db()
    assert run.result == {}


def test_an_editors_start_is_kept_when_re_aligning(estimated, recording):
    path, truth = recording
    second = estimated.sentences.get(position=2)
    manual = round(truth[1] + 0.45, 2)
    Sentence.objects.filter(pk=second.pk).update(start=manual, end=manual + 3, start_set_by_editor=True)
    run = run_alignment(create_run(estimated, path, keep_manual=True))
    assert run.status == Status.DONE, run.message
    second.refresh_from_db()
    assert (second.start, second.start_set_by_editor) == (manual, True)
    assert second.end >= second.start
    assert all(word[2] >= manual for word in second.words)
    assert run.result["kept_manual"] == [2]
    assert 2 not in run.result["low_confidence"]


def test_discarding_manual_starts_replaces_them(estimated, recording):
    path, truth = recording
    second = estimated.sentences.get(position=2)
    Sentence.objects.filter(pk=second.pk).update(start=truth[1] + 2, end=truth[1] + 5, start_set_by_editor=True)
    run = run_alignment(create_run(estimated, path, keep_manual=False))
    assert run.status == Status.DONE, run.message
    second.refresh_from_db()
    assert abs(second.start - truth[1]) <= TOLERANCE
    assert second.start_set_by_editor is False
    assert run.result["kept_manual"] == []


def test_a_second_run_is_refused_while_one_is_under_way(episode):
    create_run(episode, "/a.wav")
    with pytest.raises(AlignmentRefused, match="already queued"):
        create_run(episode, "/a.wav")


def test_a_run_left_in_the_queue_for_hours_is_given_up(episode):
    lost = create_run(episode, "/a.wav")
    AlignmentRun.objects.filter(pk=lost.pk).update(created=lost.created - timedelta(hours=4))
    assert create_run(episode, "/a.wav").pk != lost.pk
    lost.refresh_from_db()
    assert lost.status == Status.FAILED and "No task worker took it" in lost.message


def running_run(episode, started_ago, silent_for):
    now = timezone.now()
    run = create_run(episode, "/a.wav")
    AlignmentRun.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, created=now - started_ago, started=now - started_ago, heartbeat=now - silent_for
    )
    return run


def test_a_running_run_whose_worker_fell_silent_is_given_up(episode):
    """kill -9 leaves a run "running"; its silence, not its age, says it died."""
    dead = running_run(episode, started_ago=timedelta(minutes=10), silent_for=GIVE_UP_SILENT_AFTER + timedelta(seconds=5))
    assert create_run(episode, "/a.wav").pk != dead.pk
    dead.refresh_from_db()
    assert dead.status == Status.FAILED and dead.finished
    assert "stopped without finishing" in dead.message and "timings were not changed" in dead.message


def test_a_long_run_that_still_beats_is_not_given_up(episode):
    alive = running_run(episode, started_ago=timedelta(hours=5), silent_for=timedelta(seconds=20))
    with pytest.raises(AlignmentRefused, match="already running"):
        create_run(episode, "/a.wav")
    alive.refresh_from_db()
    assert alive.status == Status.RUNNING


def test_giving_up_touches_only_lost_runs_of_that_episode(episode):
    other = make_episode(slug="137-collectivisation")
    make_sentences(other, "Another sentence.")
    elsewhere = running_run(other, started_ago=timedelta(hours=1), silent_for=timedelta(hours=1))
    finished = create_run(episode, "/a.wav")
    AlignmentRun.objects.filter(pk=finished.pk).update(status=Status.DONE, created=timezone.now() - timedelta(days=1))
    create_run(episode, "/a.wav")
    assert AlignmentRun.objects.get(pk=elsewhere.pk).status == Status.RUNNING
    assert AlignmentRun.objects.get(pk=finished.pk).status == Status.DONE


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_beats_from_its_own_thread_until_the_run_ends(episode, monkeypatch):
    monkeypatch.setattr(alignment_runs, "HEARTBEAT_EVERY", 0.05)
    run = create_run(episode, "/a.wav")
    AlignmentRun.objects.filter(pk=run.pk).update(heartbeat=timezone.now() - timedelta(hours=1))
    with heartbeat(run):
        deadline = time.monotonic() + 10
        while AlignmentRun.objects.get(pk=run.pk).heartbeat < timezone.now() - timedelta(minutes=1):
            assert time.monotonic() < deadline, "no heartbeat written"
            time.sleep(0.05)
    last = AlignmentRun.objects.get(pk=run.pk).heartbeat
    time.sleep(0.3)
    assert AlignmentRun.objects.get(pk=run.pk).heartbeat == last  # stopped with the block
    assert not [thread for thread in threading.enumerate() if thread.name.endswith("-heartbeat")]


def test_a_run_records_its_first_heartbeat_when_it_starts(episode, recording):
    run = create_run(episode, recording[0])
    before = timezone.now()
    run_alignment(run)
    run.refresh_from_db()
    assert run.status == Status.DONE and run.heartbeat >= before


def test_nothing_to_align_is_refused():
    with pytest.raises(AlignmentRefused, match="no transcript"):
        create_run(make_episode(), "/a.wav")
    assert not AlignmentRun.objects.exists()


def test_the_task_skips_a_run_that_already_finished(episode):
    from alignment.tasks import align_episode

    run = create_run(episode, "/a.wav")
    AlignmentRun.objects.filter(pk=run.pk).update(status=Status.DONE)
    assert align_episode.call(run.pk) == "done"
    assert align_episode.call(run.pk + 1000) == "missing"


# --- Audio from a URL ------------------------------------------------------------------------


@pytest.fixture
def audio_server(recording, settings):
    """A local HTTP server for the recording's folder (no network needed), which fetches may reach."""
    settings.FETCH_ALLOW_PRIVATE = True
    with serve_folder(recording[0].parent, AudioHandler) as url:
        yield url


class AudioHandler(QuietHandler):
    """
    The folder's files; /unsized: bytes without a Content-Length, as a live stream
    sends; /declared/<length>: 5,000 bytes under whatever Content-Length is named.
    """

    def do_GET(self):
        if self.path.startswith("/declared/"):
            self.send_response(200)
            self.send_header("Content-Length", unquote(self.path.removeprefix("/declared/")))
            self.end_headers()
            self.wfile.write(b"\xff" * 5000)
            return
        if self.path != "/unsized":
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Type", "audio/mpeg")
        self.end_headers()
        for _ in range(50):
            self.wfile.write(b"\xff" * 1000)


def test_audio_is_downloaded_from_a_url(estimated, recording, audio_server):
    run = run_alignment(create_run(estimated, f"{audio_server}/narration.wav"))
    assert run.status == Status.DONE, run.message
    assert abs(estimated.sentences.get(position=3).start - recording[1][2]) <= TOLERANCE


def test_a_url_that_answers_404_fails_the_run_clearly(estimated, audio_server):
    before = timings(estimated)
    run = run_alignment(create_run(estimated, f"{audio_server}/missing.mp3"))
    assert run.status == Status.FAILED
    assert run.message == (
        f"The audio could not be downloaded: {audio_server}/missing.mp3: the server answered 404 File not found."
    )
    assert timings(estimated) == before


def test_a_download_declared_larger_than_the_limit_is_refused(audio_server):
    with pytest.raises(AudioUnavailable, match=r"narration.wav: the audio is [\d,]+ bytes; the limit is 0 MB \(1,000"):
        download_audio(f"{audio_server}/narration.wav", limit=1000)


# "²" is a digit to str.isdigit() and int("²") raised; the others are no number at all.
@pytest.mark.parametrize("declared", ["²", "¹²", "-1", "5e3", " ", "9" * 5000])
def test_a_length_that_is_not_a_number_is_ignored_and_the_bytes_counted(audio_server, declared):
    path = download_audio(f"{audio_server}/declared/{quote(declared)}", limit=10_000)
    try:
        assert path.stat().st_size == 5000
    finally:
        path.unlink()
    with pytest.raises(AudioUnavailable, match=r"larger than the limit of 0 MB \(1,000 bytes\)"):
        download_audio(f"{audio_server}/declared/{quote(declared)}", limit=1000)


def test_a_download_that_grows_past_the_limit_is_cut_off(audio_server, tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with pytest.raises(AudioUnavailable, match=r"larger than the limit of 0 MB \(10,000 bytes\)"):
        download_audio(f"{audio_server}/unsized", limit=10_000)
    assert list(tmp_path.iterdir()) == []  # the partial file is gone


def test_an_unreachable_server_is_a_clear_error(settings):
    settings.FETCH_ALLOW_PRIVATE = True
    with pytest.raises(AudioUnavailable, match="could not be downloaded: http://127.0.0.1:9/episode.mp3: could not be reached"):
        download_audio("http://127.0.0.1:9/episode.mp3")


def test_other_url_schemes_are_refused(estimated):
    run = run_alignment(create_run(estimated, "file:///etc/passwd"))
    assert run.status == Status.FAILED
    assert run.message == "Only http and https audio URLs can be fetched, not file:."


# --- manage.py align --------------------------------------------------------------------------


def test_the_command_aligns_and_reports(estimated, recording, capsys):
    call_command("align", estimated.slug, str(recording[0]))
    out = capsys.readouterr().out
    assert "Aligned 3 sentences to 0:1" in out
    assert "s per audio minute" in out
    run = AlignmentRun.objects.get()
    assert run.status == Status.DONE
    estimated.refresh_from_db()
    assert estimated.timing == Episode.Timing.ALIGNED


def test_the_command_keeps_manual_starts_unless_told(estimated, recording, capsys):
    Sentence.objects.filter(episode=estimated, position=2).update(start_set_by_editor=True, start=2.0)
    call_command("align", estimated.slug, str(recording[0]))
    assert "Kept the editor's start of 1 sentence" in capsys.readouterr().out
    call_command("align", estimated.slug, str(recording[0]), "--discard-manual")
    assert not estimated.sentences.filter(start_set_by_editor=True).exists()


def test_the_dry_run_writes_nothing(estimated, recording, capsys):
    before = timings(estimated)
    call_command("align", estimated.slug, str(recording[0]), "--dry-run")
    out = capsys.readouterr().out
    assert out.startswith("Dry run, nothing written.") and "Aligned 3 sentences" in out
    assert timings(estimated) == before
    assert not AlignmentRun.objects.exists()


@pytest.mark.parametrize("args, message", [
    (["no-such-episode", "x.mp3"], "No episode with slug 'no-such-episode'."),
    (["138-the-great-purges", "/no/such/file.mp3"], "No audio file at /no/such/file.mp3."),
])
def test_the_command_refuses_clearly(episode, args, message):
    with pytest.raises(CommandError, match=message.replace(".", r"\.")):
        call_command("align", *args)


def test_the_command_fails_on_unreadable_audio(estimated, tmp_path):
    bogus = tmp_path / "notes.ogg"
    bogus.write_bytes(b"\x00" * 4000)
    with pytest.raises(CommandError) as error:
        call_command("align", estimated.slug, str(bogus))
    assert "audio" in str(error.value).lower()
    assert AlignmentRun.objects.get().status == Status.FAILED


# --- The admin ---------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    client.force_login(make_user("editor", is_staff=True, is_superuser=True))
    return client


def test_the_admin_aligns_to_an_uploaded_file_and_shows_the_run(
        admin_client, estimated, recording, django_capture_on_commit_callbacks):
    align_url = reverse("admin:episodes_episode_align", args=[estimated.pk])
    page = admin_client.get(align_url)
    assert page.status_code == 200 and "this episode has none" in page.content.decode()
    upload = SimpleUploadedFile("narration.wav", recording[0].read_bytes(), content_type="audio/wav")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(align_url, {"upload": upload, "keep_manual": "on"})
    run = AlignmentRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:alignment_alignmentrun_change", args=[run.pk])
    assert run.status == Status.DONE, run.message
    assert run.audio.endswith(".wav") and "alignment" in run.audio
    html = admin_client.get(response.url).content.decode()
    assert '<progress max="100" value="100">' in html
    assert "3 sentences timed" in html
    assert 'name="_save"' not in html  # read-only
    change = admin_client.get(reverse("admin:episodes_episode_change", args=[estimated.pk])).content.decode()
    assert "Align to audio" in change and "Review timings" in change
    assert reverse("admin:alignment_alignmentrun_change", args=[run.pk]) in change


def test_the_align_page_warns_when_tasks_run_in_the_request(admin_client, episode):
    html = admin_client.get(reverse("admin:episodes_episode_align", args=[episode.pk])).content.decode()
    assert "runs background tasks immediately" in html


def test_with_a_worker_backend_the_admin_only_queues_the_run(
        admin_client, episode, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    align_url = reverse("admin:episodes_episode_align", args=[episode.pk])
    assert "runs background tasks immediately" not in admin_client.get(align_url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(align_url, {"url": "https://example.com/138.mp3", "keep_manual": "on"})
    run = AlignmentRun.objects.get()
    assert (run.status, run.audio, run.keep_manual) == (Status.QUEUED, "https://example.com/138.mp3", True)
    from django.tasks import task_backends

    (queued,) = task_backends["default"].results
    assert queued.args == [run.pk]


def test_the_admin_run_page_links_the_sentences_to_review(admin_client, episode):
    run = AlignmentRun.objects.create(
        episode=episode, audio="/a.wav", status=Status.DONE, progress=1,
        result={"duration": 120.0, "compute_seconds": 3.0, "sentences": 3,
                "skipped": [[0.0, 31.5]], "low_confidence": [2, 3], "kept_manual": []},
    )
    html = admin_client.get(reverse("admin:alignment_alignmentrun_change", args=[run.pk])).content.decode()
    review = reverse("alignment:review", args=[episode.slug])
    assert f'<a href="{review}#review-s-2">§2</a>' in html
    assert f'<a href="{review}#review-s-3">§3</a>' in html
    assert "0:00–0:31 (32 s)" in html
    listing = admin_client.get(reverse("admin:alignment_alignmentrun_changelist")).content.decode()
    assert '<progress max="100" value="100">100%</progress>' in listing
    assert reverse("admin:alignment_alignmentrun_add") not in listing


def test_a_running_run_page_refreshes_itself_and_says_when_it_was_last_heard_from(admin_client, episode):
    run = create_run(episode, "/a.wav")
    html = admin_client.get(reverse("admin:alignment_alignmentrun_change", args=[run.pk])).content.decode()
    assert '<meta http-equiv="refresh" content="5">' in html
    heard = timezone.now().replace(hour=14, minute=5, second=9)
    AlignmentRun.objects.filter(pk=run.pk).update(status=Status.RUNNING, heartbeat=heard)
    html = admin_client.get(reverse("admin:alignment_alignmentrun_change", args=[run.pk])).content.decode()
    assert f"last heard from at {timezone.localtime(heard):%H:%M:%S}" in html


def test_the_admin_refuses_a_url_and_an_upload_together(admin_client, episode):
    align_url = reverse("admin:episodes_episode_align", args=[episode.pk])
    upload = SimpleUploadedFile("a.wav", b"RIFF", content_type="audio/wav")
    response = admin_client.post(align_url, {"url": "https://example.com/a.mp3", "upload": upload})
    assert response.status_code == 200
    assert "Give a URL or upload a file, not both." in response.content.decode()
    assert not AlignmentRun.objects.exists()


def test_the_admin_refuses_non_http_urls(admin_client, episode):
    response = admin_client.post(reverse("admin:episodes_episode_align", args=[episode.pk]),
                                 {"url": "ftp://example.com/a.mp3"})
    assert "Enter a valid URL." in response.content.decode()
    assert not AlignmentRun.objects.exists()


def test_the_align_action_needs_the_episodes_own_audio(admin_client, episode):
    response = admin_client.post(
        reverse("admin:episodes_episode_changelist"),
        {"action": "align_to_audio", "_selected_action": [episode.pk]}, follow=True,
    )
    assert "no audio; use Align on its page" in response.content.decode()
    assert not AlignmentRun.objects.exists()


def test_the_align_page_is_for_staff_who_may_change_episodes(client, episode):
    client.force_login(make_user("listener"))
    response = client.get(reverse("admin:episodes_episode_align", args=[episode.pk]))
    assert response.status_code == 302 and "/login/" in response.url
    client.force_login(make_user("helper", is_staff=True))  # staff without permissions
    assert client.get(reverse("admin:episodes_episode_align", args=[episode.pk])).status_code == 403
