"""
A record of each transcript text import made in the admin: previewed, applied, undone.

The uploaded text is kept here between its preview and the editor's "Apply"
(so nothing is uploaded twice); applying stores the text, paragraphs and
timings it replaced, in the same transaction as the new sentences, so the
last import can be undone; the per-sentence changes stay as the report.
"""

import difflib
from dataclasses import dataclass, field

from django.db import models


class TextOutcome:
    UNCHANGED = "unchanged"
    EDITED = "edited"
    ADDED = "added"
    REMOVED = "removed"

    LABELS = {UNCHANGED: "Unchanged", EDITED: "Edited", ADDED: "Added", REMOVED: "Removed"}


@dataclass
class TextChange:
    """What an import does to one sentence: its place before and after, its words, its timing, what hangs on it."""

    outcome: str
    position: int | None  # in the new text; None for a removed sentence
    old_position: int | None  # in the old text; None for an added one
    old_text: str
    new_text: str
    start: float | None  # the old sentence's start
    timed: bool  # whether it has a start after the import
    attached: list = field(default_factory=list)  # ["2 citations", "1 note", …] on the old sentence

    @property
    def label(self):
        return TextOutcome.LABELS[self.outcome]

    @property
    def diff(self):
        """[(op, words)] from the old words to the new: op is "same", "del" or "ins"."""
        old, new = self.old_text.split(), self.new_text.split()
        pieces = []
        for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if op == "equal":
                pieces.append(("same", " ".join(old[a1:a2])))
                continue
            if a2 > a1:
                pieces.append(("del", " ".join(old[a1:a2])))
            if b2 > b1:
                pieces.append(("ins", " ".join(new[b1:b2])))
        return pieces

    def as_row(self):
        return [self.outcome, self.position, self.old_position, self.old_text, self.new_text,
                self.start, self.timed, self.attached]

    @classmethod
    def from_row(cls, row):
        return cls(*row)


def summarise_text(changes):
    """'107 sentences: 104 unchanged, 3 edited (timing kept for 3), 1 removed.'"""
    parts = []
    for outcome, label in TextOutcome.LABELS.items():
        chosen = [change for change in changes if change.outcome == outcome]
        if chosen:
            parts.append(f"{len(chosen)} {label.lower()}")
        if chosen and outcome == TextOutcome.EDITED:
            parts[-1] += f" (timing kept for {sum(1 for change in chosen if change.timed)})"
    total = sum(1 for change in changes if change.outcome != TextOutcome.REMOVED)
    return f"{total} sentences: {', '.join(parts)}."


class TranscriptImport(models.Model):
    class State(models.TextChoices):
        PREVIEWED = "previewed", "Previewed, not applied"
        APPLIED = "applied", "Applied"
        UNDONE = "undone", "Undone"

    episode = models.ForeignKey("episodes.Episode", on_delete=models.CASCADE, related_name="transcript_imports")
    created = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=200, blank=True)
    # The uploaded text, held from the preview until it is applied.
    text = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State, default=State.PREVIEWED)
    # [TextChange.as_row(), …] in reading order, removed sentences where they stood.
    changes = models.JSONField(default=list, blank=True)
    # What the apps built on the text would do (the notes' re-anchoring), a line each.
    attached = models.JSONField(default=list, blank=True)
    digest = models.CharField(max_length=32, blank=True)
    # What applying replaced: {"sentences": [[paragraph, text], …], "timings": Episode.timings_snapshot()}.
    previous = models.JSONField(default=dict, blank=True)
    # A fingerprint of the sentences and timings the import left, so an undo can tell they were changed since.
    result = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = "transcript import"

    def __str__(self):
        return f"{self.filename or 'Transcript'} on {self.episode.label} ({self.get_state_display().lower()})"

    @property
    def text_changes(self):
        return [TextChange.from_row(row) for row in self.changes]

    def summary(self):
        return summarise_text(self.text_changes) if self.changes else ""

    def can_undo(self):
        """Only the episode's latest applied import can be undone: later ones were built upon it."""
        if self.state != self.State.APPLIED:
            return False
        latest = self.episode.transcript_imports.filter(state=self.State.APPLIED).first()
        return latest is not None and latest.pk == self.pk
