from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def restore_search_triggers(using, **kwargs):
    from .migrations import _fts

    _fts.ensure(connections[using])


class EpisodesConfig(AppConfig):
    name = "episodes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(restore_search_triggers, sender=self)
