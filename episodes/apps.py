from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_delete, post_migrate, post_save

from . import fts


def restore_search_triggers(using, **kwargs):
    fts.ensure(connections[using])


class EpisodesConfig(AppConfig):
    name = "episodes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .models import Person, Podcast, Source, Term
        from .models.show import forget_show
        from .search import forget_names

        post_migrate.connect(restore_search_triggers, sender=self)
        # Connected here, not where the receivers live, so that every process that
        # can change the row (a worker, import_feed, the shell) forgets its copy.
        post_save.connect(forget_show, sender=Podcast)
        post_delete.connect(forget_show, sender=Podcast)
        for model in (Term, Person, Source):
            post_save.connect(forget_names, sender=model)
            post_delete.connect(forget_names, sender=model)
