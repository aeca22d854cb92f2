from django.apps import AppConfig


class AlignmentConfig(AppConfig):
    name = "alignment"
    default_auto_field = "django.db.models.BigAutoField"
