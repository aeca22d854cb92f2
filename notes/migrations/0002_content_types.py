"""The content types and permissions of the models taken over from the episodes app."""

from django.conf import settings
from django.db import migrations

from episodes.migrations._moved import move_content_types


class Migration(migrations.Migration):

    dependencies = [
        ("notes", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        move_content_types("episodes", "notes", ["note", "flag", "moderationevent"]),
    ]
