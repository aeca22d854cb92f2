"""The admin of rows episode pages show: written under Episode.writing(), then relinked or re-rendered."""

from django.db import transaction

from .models import Episode
from .tasks import relink_episodes


class EpisodeContentAdmin:
    """
    The admin of what episode pages show. A save or delete writes inside
    Episode.writing() of the episodes whose rows it changes (the one lock
    order), and once committed queues `follow_up` for those episodes alone:
    a citation edit re-renders the episodes that cite it, a mention edit
    relinks its episode. `episode_path` leads from a row to those episodes'
    ids; with `relinks_everything` (names and aliases, which may match in any
    episode) every episode is relinked instead.
    """

    episode_path = ""
    follow_up = relink_episodes
    relinks_everything = False

    def stored_episodes(self, queryset):
        """The episodes the rows are in as stored (before this change), one query."""
        return set(queryset.values_list(self.episode_path, flat=True)) - {None}

    def form_episodes(self, obj):
        """The episode the row will be in once saved, from the form's values."""
        value = obj
        for name in self.episode_path.split("__"):
            value = getattr(value, name)
        return {value}

    def queue_follow_up(self, episode_ids):
        """Once the change is committed: relink or re-render the episodes (or every one)."""
        ids = None if self.relinks_everything else sorted(episode_ids)
        transaction.on_commit(lambda: self.follow_up.enqueue(ids))

    def writing(self, episode_ids):
        """Lock the episodes for the change, and queue its follow-up."""
        self.queue_follow_up(episode_ids)
        return Episode.objects.filter(pk__in=episode_ids).writing()

    def save_model(self, request, obj, form, change):
        before = self.stored_episodes(self.model.objects.filter(pk=obj.pk)) if change else set()
        with self.writing(before | self.form_episodes(obj)):
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        with self.writing(self.stored_episodes(self.model.objects.filter(pk=obj.pk))):
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with self.writing(self.stored_episodes(queryset)):
            super().delete_queryset(request, queryset)
