"""
SQLite: rebuild the FTS5 tables with prefix indexes for 2, 3 and 4
characters, so search-as-you-type ("Yez", "Tra") reads a prefix index instead
of expanding every word that starts that way.
"""

from django.db import migrations

from episodes.migrations import _fts


def forwards(apps, schema_editor):
    _fts.recreate(schema_editor, prefix="2 3 4")


def backwards(apps, schema_editor):
    _fts.recreate(schema_editor, prefix="")


class Migration(migrations.Migration):
    dependencies = [("episodes", "0005_note_moderationevent_flag_and_more")]

    operations = [migrations.RunPython(forwards, backwards)]
