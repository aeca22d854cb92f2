from django.apps import AppConfig

from episodes import extensions, signals


class TimelineConfig(AppConfig):
    name = "timeline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .demo import load_demo_events
        from .views import ENTRY_PAGE

        signals.demo_loaded.connect(load_demo_events)
        extensions.entry_page_parts.append(ENTRY_PAGE)
