"""
Alignment runs: one background alignment of an episode's script to its audio.

The task (episodes/tasks.py) updates progress as it goes, so the admin can
show it; the timings themselves land on the sentences in one transaction.
"""

from django.db import models


class AlignmentRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    episode = models.ForeignKey(
        "episodes.Episode", on_delete=models.CASCADE, related_name="alignment_runs"
    )
    audio = models.CharField(max_length=1000, help_text="The file path or URL aligned against.")
    keep_manual = models.BooleanField(
        default=True, help_text="Keep sentence starts an editor set by hand."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    progress = models.FloatField(default=0, help_text="0 to 1.")
    stage = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    # Summary: durations, skipped segments, low-confidence sentence positions, timings.
    result = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return f"{self.episode} alignment {self.created:%Y-%m-%d %H:%M} ({self.status})"
