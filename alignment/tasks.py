"""Aligning in the background: queue a run, and the task a worker runs for it."""

from django.db import transaction
from django.tasks import task

from .models import AlignmentRun
from .runs import create_run, run_alignment


def start_alignment(episode, audio, keep_manual=True):
    """Record a run for the episode against the audio (a path or URL) and queue it."""
    run = create_run(episode, audio, keep_manual)
    # A worker must see the run in the database, so queue it once the row is committed.
    transaction.on_commit(lambda: align_episode.enqueue(run.pk))
    return run


@task
def align_episode(run_id):
    """Align a run's episode to its audio (alignment/runs.py); returns the run's status."""
    run = AlignmentRun.objects.select_related("episode").filter(pk=run_id).first()
    if run is None:  # deleted while queued
        return "missing"
    if run.status != AlignmentRun.Status.QUEUED:  # a repeated delivery of a run already done
        return run.status
    return run_alignment(run).status
