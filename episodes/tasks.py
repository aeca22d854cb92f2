"""Background work: relinking after the glossary, people or a transcript change, re-rendering after a citation's."""

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
def render_episodes(episode_ids):
    """Re-render the given episodes' stored transcripts (their citations or sources changed); returns the slugs."""
    episodes = list(Episode.objects.filter(pk__in=episode_ids).order_by("pk"))
    for episode in episodes:
        episode.render_transcript()
    return [episode.slug for episode in episodes]
