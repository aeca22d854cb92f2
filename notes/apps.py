from django.apps import AppConfig

from episodes import extensions, signals
from django.db.models.signals import post_delete, post_save


class NotesConfig(AppConfig):
    name = "notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import anchoring, episode_page
        from .models import Note, note_changed, transcript_rendered

        # Connected here, not where the receivers live, so that every process that
        # can change a row (a worker, an import command, the shell) keeps the counts.
        post_save.connect(note_changed, sender=Note)
        post_delete.connect(note_changed, sender=Note)
        signals.transcript_rendered.connect(transcript_rendered)
        signals.transcript_replaced.connect(anchoring.reanchor_after_import)
        extensions.episode_page_parts.append(episode_page.EPISODE_PAGE)
        extensions.search_groups.append(episode_page.SEARCH)
