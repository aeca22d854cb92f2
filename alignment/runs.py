"""
Aligning an episode's script to its real audio, as a background run.

start_alignment() (alignment/tasks.py) records an AlignmentRun and queues the
align_episode task; run_alignment() is what the task (and manage.py align)
does: fetch the audio, call alignment.engine.align.align() with throttled
progress writes, then replace the timings in one transaction. A failure of
any kind marks the run failed with a message an editor can act on and leaves
the sentences as they were.

The engine (numpy and friends) is imported only when a run starts, so web
workers that never align don't load it.
"""

import logging
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.core.files.storage import default_storage
from django.db import DatabaseError, connections
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.text import get_valid_filename

from companion.fetch import FetchError, download
from episodes.models import Episode, Sentence, TimingImport
from episodes.timings.changes import plan_timings

from . import models as alignment_runs
from .models import AlignmentRun

logger = logging.getLogger(__name__)

#: Below this an aligned start is listed for review (Alignment.low_confidence's default).
LOW_CONFIDENCE = 0.5
#: A 3-hour episode at 192 kbit/s is about 260 MB; anything past this is not an episode.
MAX_AUDIO_BYTES = 400 * 1024 * 1024
#: Seconds a download may take in all: 400 MB at a slow but steady 1 MB/s, with room to spare.
DOWNLOAD_TIME_LIMIT = 15 * 60
#: Progress is written at most this often (seconds), so a long run isn't a stream of UPDATEs.
PROGRESS_EVERY = 1.0
#: Where audio uploaded for an alignment is kept (under MEDIA_ROOT), so a worker can read it.
UPLOAD_FOLDER = "alignment"

Status = AlignmentRun.Status


class AudioUnavailable(Exception):
    """The audio can't be fetched or found; the message says why and what to do."""


class AlignmentRefused(Exception):
    """An alignment can't start now (one is already running, nothing to align)."""


def needing_review(episodes):
    """
    The episodes with a sentence to review: a start the aligner was unsure of
    that no editor has set since, or, in a timed episode, a sentence with no time.
    """
    doubtful = Sentence.objects.filter(
        episode=OuterRef("pk"), start__isnull=False, confidence__lt=LOW_CONFIDENCE, start_set_by_editor=False
    )
    untimed = Sentence.objects.filter(episode=OuterRef("pk"), start__isnull=True)
    return episodes.filter(Exists(doubtful) | (~Q(timing=Episode.Timing.NONE) & Exists(untimed)))


def with_failed_alignment(episodes):
    """The episodes whose latest alignment run failed."""
    latest = AlignmentRun.objects.filter(episode=OuterRef("pk")).order_by("-created", "-pk").values("status")[:1]
    return episodes.annotate(latest_run_status=Subquery(latest)).filter(latest_run_status=AlignmentRun.Status.FAILED)


def latest_run(episode):
    return episode.alignment_runs.order_by("-created", "-pk").first()


def episode_audio_location(episode):
    """The episode's own audio as a path or URL for an alignment; '' when it has none."""
    if episode.audio:
        return episode.audio.path
    return episode.audio_url


def store_upload(episode, upload):
    """Keep audio uploaded for an alignment in the media folder; returns its path."""
    if upload.size > MAX_AUDIO_BYTES:
        raise AudioUnavailable(
            f"{upload.name} is {upload.size:,} bytes; the limit is {MAX_AUDIO_BYTES:,}."
        )
    name = get_valid_filename(Path(upload.name).name) or "audio"
    stored = default_storage.save(f"{UPLOAD_FOLDER}/{episode.slug}-{name}", upload)
    return default_storage.path(stored)


def create_run(episode, audio, keep_manual=True):
    """Record a queued run, unless there is nothing to align or a run is already under way."""
    audio = str(audio).strip()
    if not audio:
        raise AlignmentRefused("No audio given: upload one, give its URL, or attach it to the episode.")
    if not episode.sentences.exists():
        raise AlignmentRefused("The episode has no transcript to align; import the text first.")
    episode.alignment_runs.give_up_on_lost()
    busy = episode.alignment_runs.under_way().first()
    if busy:
        raise AlignmentRefused(
            f"An alignment of this episode is already {busy.get_status_display().lower()} "
            f"(since {timezone.localtime(busy.created):%H:%M}); wait for it to finish."
        )
    return AlignmentRun.objects.create(episode=episode, audio=audio[:1000], keep_manual=keep_manual)


class ProgressWriter:
    """The engine's progress(fraction, stage) callback: writes the run's row, throttled."""

    def __init__(self, run, echo=None, every=PROGRESS_EVERY):
        self.run, self.echo, self.every = run, echo, every
        self.written_at = float("-inf")

    def __call__(self, fraction, stage):
        fraction = min(1.0, max(0.0, float(fraction)))
        stage = str(stage)[:200]
        now = time.monotonic()
        if stage == self.run.stage and now - self.written_at < self.every:
            return
        self.written_at = now
        self.run.progress, self.run.stage = fraction, stage
        AlignmentRun.objects.filter(pk=self.run.pk).update(progress=fraction, stage=stage)
        if self.echo:
            self.echo(fraction, stage)


@contextmanager
def heartbeat(run):
    """
    Write the run's heartbeat from a thread until the block ends. A worker
    killed outright (kill -9, a lost machine) stops beating, so a new run
    need not wait hours for the old one to count as dead.
    """
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(alignment_runs.HEARTBEAT_EVERY):
                try:
                    AlignmentRun.objects.filter(pk=run.pk).update(heartbeat=timezone.now())
                except DatabaseError as error:  # a locked or restarting database: try next beat
                    logger.warning("Alignment run %s: heartbeat not written (%s)", run.pk, error)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"alignment-run-{run.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def run_alignment(run, echo=None):
    """Do the run: align, store the timings, record the result. Returns the run."""
    now = timezone.now()
    run.status, run.started, run.heartbeat, run.message = Status.RUNNING, now, now, ""
    run.save(update_fields=["status", "started", "heartbeat", "message"])
    progress = ProgressWriter(run, echo)
    try:
        from .engine.align import AlignmentError  # numpy and friends: loaded only to align

        expected = (AlignmentError, AudioUnavailable, AlignmentRefused)
    except ImportError as error:  # the engine's dependencies are missing here
        return _fail(run, f"The aligner can't be loaded on this server: {error}.")
    try:
        with heartbeat(run), local_audio(run.audio, progress) as path:
            _align_and_save(run, path, progress)
    except expected as error:
        return _fail(run, str(error))
    except Exception as error:  # a bug; the run must still say it failed
        logger.exception("Alignment run %s failed", run.pk)
        return _fail(run, f"Alignment failed unexpectedly ({type(error).__name__}: {error}).")
    except BaseException:  # Ctrl-C, or the worker shutting down: don't leave it "running"
        _fail(run, "Interrupted before it finished; the timings were not changed.")
        raise
    return run


def _fail(run, message):
    run.status, run.message, run.finished = Status.FAILED, message, timezone.now()
    run.save(update_fields=["status", "message", "finished"])
    return run


def align_audio(episode, path, progress=None):
    """Align the episode's sentences to a local audio file: (texts, Alignment, compute seconds)."""
    from .engine.align import align  # numpy and friends: loaded only to align

    texts = list(episode.sentences.order_by("position").values_list("text", flat=True))
    if not texts:
        raise AlignmentRefused("The episode has no transcript to align; import the text first.")
    began = time.monotonic()
    scaled = (lambda fraction, stage: progress(0.02 + 0.93 * fraction, stage)) if progress else None
    alignment = align(texts, path, progress=scaled)
    return texts, alignment, time.monotonic() - began


def _align_and_save(run, path, progress):
    episode = run.episode
    texts, alignment, compute = align_audio(episode, path, progress)
    progress(0.96, "Saving the timings")
    with episode.writing():
        sentences = list(episode.sentences.select_for_update().order_by("position"))
        if [sentence.text for sentence in sentences] != texts:
            raise AlignmentRefused("The transcript changed while the audio was being aligned; run it again.")
        record = TimingImport(
            episode=episode, source=TimingImport.Source.ALIGNMENT, state=TimingImport.State.APPLIED,
            overwrite_editor_starts=not run.keep_manual, previous=episode.timings_snapshot(),
        )
        plan = apply_alignment(sentences, alignment, run.keep_manual)
        record.changes = [change.as_row() for change in plan.changes]
        record.save()
        kept = [sentence.position for sentence in sentences if sentence.start_set_by_editor]
        Sentence.objects.bulk_update(
            sentences, ["start", "end", "words", "confidence", "start_set_by_editor"], batch_size=500
        )
        episode.timing = Episode.Timing.ALIGNED
        fields = ["timing"]
        if not episode.duration and alignment.duration:
            episode.duration = timedelta(seconds=round(alignment.duration, 3))
            fields.append("duration")
        episode.save(update_fields=fields)
        episode.render_transcript()
        low = [
            sentences[index].position for index in alignment.low_confidence(LOW_CONFIDENCE)
            if not sentences[index].start_set_by_editor
        ]
        run.result = {
            "duration": round(float(alignment.duration), 3),
            "compute_seconds": round(compute, 2),
            "sentences": len(sentences),
            "skipped": [[round(float(start), 2), round(float(end), 2)] for start, end in alignment.skipped],
            "low_confidence": low,
            "kept_manual": kept,
            "timing_import": record.pk,
        }
        run.status, run.progress, run.stage = Status.DONE, 1.0, "Done"
        run.finished = timezone.now()
        run.save(update_fields=["result", "status", "progress", "stage", "finished"])


def apply_alignment(sentences, alignment, keep_manual):
    """
    Put the aligned times on the sentences (timings/changes.py decides what
    each keeps); returns the TimingPlan, or AlignmentRefused when an editor's
    kept start is out of order with the aligned ones around it.
    """
    if len(alignment.sentences) != len(sentences):
        raise AlignmentRefused(
            f"The aligner timed {len(alignment.sentences)} sentences but the episode has {len(sentences)}."
        )
    proposed = [
        (round(float(t.start), 3), round(float(t.end), 3),
         [[int(a), int(b), round(float(c), 3), round(float(d), 3)] for a, b, c, d in t.words])
        for t in alignment.sentences
    ]
    plan = plan_timings(sentences, proposed, overwrite_editor_starts=not keep_manual)
    if plan.conflicts:
        raise AlignmentRefused(" ".join(plan.conflicts))
    for sentence, timing, (start, end, words, editors) in zip(sentences, alignment.sentences, plan.timings):
        sentence.start, sentence.end, sentence.words, sentence.start_set_by_editor = start, end, words, editors
        sentence.confidence = round(float(timing.confidence), 3)
    return plan


@contextmanager
def local_audio(location, progress=None):
    """A readable local path for a path or an http(s) URL (downloaded to a temporary file)."""
    scheme = urlsplit(location).scheme.lower()
    if scheme in ("http", "https"):
        if progress:
            progress(0.0, "Downloading the audio")
        path = download_audio(location)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)
        return
    if scheme and len(scheme) > 1:  # a drive letter is not a scheme
        raise AudioUnavailable(f"Only http and https audio URLs can be fetched, not {scheme}:.")
    path = Path(location)
    if not path.is_file():
        raise AudioUnavailable(f"No audio file at {location}.")
    if path.stat().st_size > MAX_AUDIO_BYTES:
        raise AudioUnavailable(f"{path.name} is {path.stat().st_size:,} bytes; the limit is {MAX_AUDIO_BYTES:,}.")
    yield path


def download_audio(url, limit=MAX_AUDIO_BYTES):
    """Fetch the audio to a temporary file through the project's one fetcher; returns its path."""
    suffix = Path(urlsplit(url).path).suffix[:10]
    try:
        path = download(url, max_bytes=limit, what="audio", suffix=suffix, total_timeout=DOWNLOAD_TIME_LIMIT)
    except FetchError as error:
        raise AudioUnavailable(f"The audio could not be downloaded: {error}") from None
    if not path.stat().st_size:
        path.unlink()
        raise AudioUnavailable(f"The audio at {url} is empty.")
    return path
