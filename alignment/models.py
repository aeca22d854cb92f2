"""
Alignment runs: one background alignment of an episode's script to its audio.

The task (alignment/tasks.py) updates progress as it goes, so the admin can
show it; the timings themselves land on the sentences in one transaction.
"""

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

#: A queued run no worker has taken in this long is given up on: its task was lost.
GIVE_UP_QUEUED_AFTER = timedelta(hours=3)
#: A running run's worker writes its heartbeat this often (seconds; alignment/runs.py)...
HEARTBEAT_EVERY = 30
#: ...so a run silent for this long died with its worker (kill -9, a lost machine).
GIVE_UP_SILENT_AFTER = timedelta(minutes=3)


class AlignmentRunQuerySet(models.QuerySet):
    def under_way(self):
        """Runs a worker will still finish: queued not too long ago, or running with a recent heartbeat."""
        now = timezone.now()
        return self.filter(
            Q(status=AlignmentRun.Status.QUEUED, created__gte=now - GIVE_UP_QUEUED_AFTER)
            | Q(status=AlignmentRun.Status.RUNNING, heartbeat__gte=now - GIVE_UP_SILENT_AFTER)
        )

    def give_up_on_lost(self):
        """Mark failed, saying why, the queued or running runs no worker will finish."""
        why = {
            AlignmentRun.Status.QUEUED: "No task worker took it from the queue",
            AlignmentRun.Status.RUNNING: "Its task worker stopped without finishing (no sign of life for "
                                         f"{GIVE_UP_SILENT_AFTER.seconds // 60} minutes)",
        }
        lost = self.exclude(pk__in=self.under_way().values("pk"))
        for status, reason in why.items():
            lost.filter(status=status).update(
                status=AlignmentRun.Status.FAILED, finished=timezone.now(),
                message=f"{reason}; the timings were not changed. Align again.",
            )


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
        "keep editors' starts", default=True, help_text="Keep sentence starts an editor set by hand."
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
    heartbeat = models.DateTimeField(
        null=True, blank=True, help_text="The last sign of life from the worker running it."
    )

    objects = AlignmentRunQuerySet.as_manager()

    class Meta:
        db_table = "episodes_alignmentrun"  # made when runs lived in the episodes app
        ordering = ["-created"]

    def __str__(self):
        return f"{self.episode} alignment {self.created:%Y-%m-%d %H:%M} ({self.status})"
