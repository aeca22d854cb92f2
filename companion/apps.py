from django.apps import AppConfig


class CompanionConfig(AppConfig):
    """The project itself, installed for its management commands (backup, restore)."""

    name = "companion"
    verbose_name = "Companion"
