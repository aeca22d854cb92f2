from django.apps import AppConfig
from django.db.models.signals import post_save

from episodes import signals


class SuggestionsConfig(AppConfig):
    name = "suggestions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from episodes.models import Person, Term

        from .suggesting import entry_saved
        from .tasks import transcript_arrived

        signals.transcript_replaced.connect(transcript_arrived)
        post_save.connect(entry_saved, sender=Term)
        post_save.connect(entry_saved, sender=Person)
