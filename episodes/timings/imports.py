"""
Read a timed transcript file and store its timings on an episode's sentences.

An upload is previewed first (preview_timings: a TimingImport holding the
file and what it would change, sentence by sentence), then applied
(apply_import) or left; the last applied one can be undone (undo_import).
Starts an editor set are kept unless the editor chose to overwrite them.
"""

from pathlib import Path



from episodes.models import Episode, TimingImport
from episodes.timings.changes import plan_timings, same
from episodes.timings.cuemap import CueMappingError, map_cues
from episodes.timings.formats import MAX_TIMING_BYTES, TimingFormatError, read_timings, validate_cues

#: Previews never applied are forgotten after this many, per episode.
KEEP_PREVIEWS = 5


class TimingImportError(Exception):
    pass


def read_timing_file(path):
    path = Path(path)
    if not path.is_file():
        raise TimingImportError(f"No such file: {path}")
    if path.stat().st_size > MAX_TIMING_BYTES:
        raise TimingImportError(
            f"{path.name} is {path.stat().st_size:,} bytes; the limit is {MAX_TIMING_BYTES:,}."
        )
    return path.read_bytes(), path.name


def read_cues(data, filename):
    try:
        cues = read_timings(data, filename)
        validate_cues(cues)
    except TimingFormatError as error:  # already names the file and line
        raise TimingImportError(str(error)) from None
    return cues


def plan_import(episode, cues, filename, overwrite):
    """(CueMapping, TimingPlan) for the sentences as they are now."""
    sentences = list(
        episode.sentences.order_by("position").only("pk", "position", "text", "start", "end", "start_set_by_editor")
    )
    mapping = map_onto(cues, [sentence.text for sentence in sentences], filename)
    proposed = [(t.start, t.end, t.words) for t in mapping.timings]
    return mapping, plan_timings(sentences, proposed, overwrite_editor_starts=overwrite)


def import_timings(episode, data, filename, *, dry_run=False, overwrite=False):
    """Map the file's cues onto the sentences and store them at once; returns (CueMapping, TimingPlan)."""
    cues = read_cues(data, filename)
    mapping, plan = plan_import(episode, cues, filename, overwrite)
    if dry_run:
        return mapping, plan
    with episode.writing():
        # Mapped before the lock, so as not to hold it for that; mapped again
        # under it, onto the sentences as they are now.
        mapping, plan = plan_import(episode, cues, filename, overwrite)
        record = TimingImport(episode=episode, filename=filename[:200], overwrite_editor_starts=overwrite)
        apply_plan(record, plan)
    return mapping, plan


def preview_timings(episode, data, filename, *, overwrite=False):
    """A TimingImport in the Previewed state: the file, and what applying it would change."""
    cues = read_cues(data, filename)
    _, plan = plan_import(episode, cues, filename, overwrite)
    stale = episode.timing_imports.filter(state=TimingImport.State.PREVIEWED).values_list("pk", flat=True)
    TimingImport.objects.filter(pk__in=list(stale[KEEP_PREVIEWS - 1:])).delete()
    return TimingImport.objects.create(
        episode=episode, filename=filename[:200], data=data, overwrite_editor_starts=overwrite,
        changes=[change.as_row() for change in plan.changes], conflicts=plan.conflicts, digest=plan.digest(),
    )


def apply_import(record):
    """Apply a previewed file, if it still does what the preview showed."""
    episode = record.episode
    with episode.writing():
        record = TimingImport.objects.select_for_update().get(pk=record.pk)
        if record.state != TimingImport.State.PREVIEWED:
            raise TimingImportError("This file was already applied; upload it again to preview it anew.")
        cues = read_cues(bytes(record.data), record.filename)
        _, plan = plan_import(episode, cues, record.filename, record.overwrite_editor_starts)
        if plan.digest() != record.digest:
            raise TimingImportError(
                "The episode's sentences or timings changed since this preview; upload the file again to see what it would do now."
            )
        apply_plan(record, plan)
    return record


def apply_plan(record, plan):
    """Store the plan's timings and the record of what they replaced, in one transaction (the caller's writing())."""
    if plan.conflicts:
        raise TimingImportError(" ".join(plan.conflicts))
    episode = record.episode
    record.previous = episode.timings_snapshot()
    record.changes = [change.as_row() for change in plan.changes]
    record.conflicts, record.digest = [], plan.digest()
    record.state, record.data = TimingImport.State.APPLIED, b""
    status = Episode.Timing.ALIGNED if record.source == TimingImport.Source.ALIGNMENT else Episode.Timing.TIMED
    episode.save_timings(plan.timings, status)
    record.save()
    return record


def undo_import(record):
    """Put back the timings the latest applied change replaced."""
    episode = record.episode
    with episode.writing():
        record = TimingImport.objects.select_for_update().get(pk=record.pk)
        if not record.can_undo():
            raise TimingImportError("Only the latest applied change to this episode's timings can be undone.")
        if since := changed_since(episode, record):
            raise TimingImportError(
                f"{since} changed after this import (on the review page or by another change); "
                "undoing it would lose that, so nothing was changed."
            )
        if not episode.restore_timings(record.previous):
            raise TimingImportError(
                "The transcript was imported again since, so these timings belong to sentences that are gone; "
                "nothing was changed."
            )
        record.state = TimingImport.State.UNDONE
        record.save(update_fields=["state"])
    return record


def changed_since(episode, record):
    """'§6' (the first sentence whose start is not what the record wrote), or None."""
    now = dict(episode.sentences.values_list("position", "start"))
    for change in record.sentence_changes:
        if change.position not in now or not same(now[change.position], change.after):
            return f"§{change.position}"
    return None


def map_onto(cues, texts, filename):
    if not texts:
        raise TimingImportError("The episode has no transcript to time; import the text first.")
    try:
        return map_cues(cues, texts)
    except CueMappingError as error:
        raise TimingImportError(f"{filename}: {error}") from None


def import_timings_file(episode, path, *, dry_run=False, overwrite=False):
    data, name = read_timing_file(path)
    return import_timings(episode, data, name, dry_run=dry_run, overwrite=overwrite)
