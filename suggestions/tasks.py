"""Suggesting in the background, after a transcript arrives, so no import waits for it."""

from django.db import transaction
from django.tasks import task

from episodes.models import Episode

from .suggesting import suggest_for


@task
def suggest_entries(episode_id):
    """Suggest people, places and terms for an episode; returns how many are waiting."""
    episode = Episode.objects.filter(pk=episode_id).first()
    if episode is None:  # deleted while queued
        return 0
    return suggest_for(episode)


def transcript_arrived(episode, **kwargs):
    """Receiver of episodes.signals.transcript_replaced: suggest once the import commits."""
    transaction.on_commit(lambda: suggest_entries.enqueue(episode.pk))
