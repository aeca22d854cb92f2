from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_delete, post_migrate, post_save


def restore_search_triggers(using, **kwargs):
    from .migrations import _fts

    _fts.ensure(connections[using])


class EpisodesConfig(AppConfig):
    name = "episodes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .catalogue import Podcast
        from .notes import Note, note_changed
        from .podcast_feed import forget_show

        post_migrate.connect(restore_search_triggers, sender=self)
        # Connected here, not where the receivers live, so that every process that
        # can change a row (a worker, import_feed, the shell) keeps what's derived from it.
        post_save.connect(forget_show, sender=Podcast)
        post_delete.connect(forget_show, sender=Podcast)
        post_save.connect(note_changed, sender=Note)
        post_delete.connect(note_changed, sender=Note)
