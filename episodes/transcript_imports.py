"""
A transcript text uploaded in the admin: previewed (every sentence kept,
edited, added or removed, and what the notes would do), then applied, and
the last import undone. Like timings/imports.py for timings files.
"""

import hashlib

from .models import TranscriptImport
from .transcripts import TranscriptError, import_transcript, plan_transcript, replace_sentences

#: Previews never applied are forgotten after this many, per episode.
KEEP_PREVIEWS = 5


def preview_transcript(episode, text, filename):
    """A TranscriptImport in the Previewed state: the text (decode_transcript's), and what applying it would change."""
    report = plan_transcript(episode, text)
    stale = episode.transcript_imports.filter(state=TranscriptImport.State.PREVIEWED).values_list("pk", flat=True)
    TranscriptImport.objects.filter(pk__in=list(stale[KEEP_PREVIEWS - 1:])).delete()
    return TranscriptImport.objects.create(
        episode=episode, filename=filename[:200], text=text, digest=report.digest(),
        changes=[change.as_row() for change in report.changes], attached=[str(line) for line in report.attached],
    )


def apply_transcript(record):
    """Apply a previewed text if it still does what the preview showed; returns the ImportReport."""
    episode = record.episode
    with episode.writing():
        record = TranscriptImport.objects.select_for_update().get(pk=record.pk)
        if record.state != TranscriptImport.State.PREVIEWED:
            raise TranscriptError("This transcript was already applied; upload it again to preview it anew.")
        previous = snapshot(episode)
        report = import_transcript(episode, record.text)  # rolled back with the rest if it differs
        if report.digest() != record.digest:
            raise TranscriptError(
                "The episode's sentences, timings or notes changed since this preview; "
                "upload the file again to see what it would do now. Nothing was changed."
            )
        record.state, record.text, record.previous = TranscriptImport.State.APPLIED, "", previous
        record.result = fingerprint(episode)
        record.save()
    return report


def undo_transcript(record):
    """Put back the text, paragraphs and timings the latest applied import replaced; notes re-anchor as usual."""
    episode = record.episode
    with episode.writing():
        record = TranscriptImport.objects.select_for_update().get(pk=record.pk)
        if not record.can_undo():
            raise TranscriptError("Only the latest applied transcript import of this episode can be undone.")
        if fingerprint(episode) != record.result:
            raise TranscriptError(
                "The transcript or its timings were changed after this import (an edit, a review or another "
                "import); undoing it would lose that, so nothing was changed."
            )
        sentences = [tuple(row) for row in record.previous["sentences"]]
        report = replace_sentences(episode, sentences, relink=True)
        timings = record.previous["timings"]
        now = list(episode.sentences.order_by("position").values_list("pk", flat=True))
        timings = timings | {"sentences": [[pk, *row[1:]] for pk, row in zip(now, timings["sentences"], strict=True)]}
        episode.restore_timings(timings)
        record.state = TranscriptImport.State.UNDONE
        record.save(update_fields=["state"])
    return report


def snapshot(episode):
    """What an undo needs: the sentences' paragraphs and texts, and their timings."""
    return {
        "sentences": [list(row) for row in episode.sentences.order_by("position").values_list("paragraph", "text")],
        "timings": episode.timings_snapshot(),
    }


def fingerprint(episode):
    rows = episode.sentences.order_by("position").values_list(
        "paragraph", "text", "start", "end", "start_set_by_editor"
    )
    return hashlib.sha256(repr(list(rows)).encode()).hexdigest()[:16]
