"""
A record of each change to an episode's timings: previewed, applied, undone.

A timings file is kept here between its preview and the editor's "Apply"
(so nothing is uploaded twice); applying stores the timings it replaced, in
the same transaction as the new ones, so the last change can be undone
exactly; the per-sentence changes stay as the report.
"""

from dataclasses import dataclass

from django.db import models

#: Two times closer than this (a millisecond) are the same time.
SAME = 0.0005


class Outcome:
    UNCHANGED = "unchanged"
    MOVED = "moved"
    KEPT = "kept"
    NEW = "new"
    DROPPED = "dropped"

    LABELS = {
        UNCHANGED: "Unchanged",
        MOVED: "Moved",
        KEPT: "Kept (set by an editor)",
        NEW: "Newly timed",
        DROPPED: "Lost its time",
    }


@dataclass
class SentenceChange:
    position: int
    text: str
    outcome: str
    before: float | None
    after: float | None

    @property
    def label(self):
        return Outcome.LABELS[self.outcome]

    def as_row(self):
        return [self.position, self.outcome, self.before, self.after, self.text[:300]]

    @classmethod
    def from_row(cls, row):
        position, outcome, before, after, text = row
        return cls(position, text, outcome, before, after)


def summarise(outcomes):
    """'107 sentences: 3 moved, 2 kept (set by an editor), 1 lost its time, 101 unchanged.'"""
    counts = {outcome: outcomes.count(outcome) for outcome in Outcome.LABELS}
    parts = [f"{counts[outcome]} {Outcome.LABELS[outcome].lower()}" for outcome in Outcome.LABELS if counts[outcome]]
    return f"{len(outcomes)} sentences: {', '.join(parts)}."




class TimingImport(models.Model):
    class Source(models.TextChoices):
        FILE = "file", "Timings file"
        ALIGNMENT = "alignment", "Alignment to the audio"

    class State(models.TextChoices):
        PREVIEWED = "previewed", "Previewed, not applied"
        APPLIED = "applied", "Applied"
        UNDONE = "undone", "Undone"

    episode = models.ForeignKey("episodes.Episode", on_delete=models.CASCADE, related_name="timing_imports")
    created = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, choices=Source, default=Source.FILE)
    filename = models.CharField(max_length=200, blank=True)
    # The uploaded file, held from the preview until it is applied.
    data = models.BinaryField(blank=True, default=b"")
    overwrite_editor_starts = models.BooleanField(
        "overwrite starts an editor set", default=False,
    )
    state = models.CharField(max_length=10, choices=State, default=State.PREVIEWED)
    # [[position, outcome, before, after, text], …]: see timings/changes.py.
    changes = models.JSONField(default=list, blank=True)
    conflicts = models.JSONField(default=list, blank=True)
    digest = models.CharField(max_length=32, blank=True)
    # What applying replaced: {"timing": …, "sentences": [[pk, start, end, words, confidence, editor's], …]}.
    previous = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = "timings change"

    def __str__(self):
        what = self.filename or self.get_source_display()
        return f"{what} on {self.episode.label} ({self.get_state_display().lower()})"

    @property
    def sentence_changes(self):
        return [SentenceChange.from_row(row) for row in self.changes]

    def summary(self):
        return summarise([row[1] for row in self.changes]) if self.changes else ""

    def can_undo(self):
        """Only the latest applied change of the episode can be undone: older ones were built upon."""
        if self.state != self.State.APPLIED:
            return False
        latest = self.episode.timing_imports.filter(state=self.State.APPLIED).first()
        return latest is not None and latest.pk == self.pk
