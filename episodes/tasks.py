"""Background work: relinking after the glossary, people or a transcript change; aligning to audio."""

from django.tasks import task

from .linking import relink_all
from .models import Episode


@task
def relink_episodes(episode_ids=None):
    """Relink the given episodes (all when None); returns mentions per slug."""
    episodes = Episode.objects.all()
    if episode_ids is not None:
        episodes = episodes.filter(pk__in=episode_ids)
    return relink_all(episodes)


@task
def align_episode(run_id):
    """Align a run's episode to its audio (episodes/aligning.py); returns the run's status."""
    from .aligning import run_alignment
    from .alignment_runs import AlignmentRun

    run = AlignmentRun.objects.select_related("episode").filter(pk=run_id).first()
    if run is None:  # deleted while queued
        return "missing"
    if run.status != AlignmentRun.Status.QUEUED:  # a repeated delivery of a run already done
        return run.status
    return run_alignment(run).status
