"""Background work: relinking after the glossary, people or a transcript change."""

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
