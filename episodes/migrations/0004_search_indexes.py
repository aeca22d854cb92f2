"""
Search indexes for each backend.

SQLite: FTS5 tables that use our tables as external content, kept in sync
by triggers on every insert, update and delete (so bulk writes, the admin
and raw SQL all stay indexed), with Porter stemming and diacritics removed.

PostgreSQL: GIN indexes on the stored search vectors, and pg_trgm with a
trigram index on every entry's names for typo tolerance.
"""

from django.db import migrations

from episodes.migrations import _fts

POSTGRES_STATEMENTS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *(
        f"CREATE INDEX IF NOT EXISTS {table}_search_vector_gin ON {table} USING gin (search_vector)"
        for table in ("episodes_sentence", "episodes_term", "episodes_person", "episodes_source")
    ),
    *(
        f"CREATE INDEX IF NOT EXISTS {table}_search_names_trgm ON {table} "
        f"USING gin (search_names gin_trgm_ops)"
        for table in ("episodes_term", "episodes_person", "episodes_source")
    ),
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _fts.recreate(schema_editor)
    elif vendor == "postgresql":
        for statement in POSTGRES_STATEMENTS:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for fts in _fts.TABLES:
            for statement in _fts.drop_statements(fts):
                schema_editor.execute(statement)
    elif vendor == "postgresql":
        for table in ("episodes_sentence", "episodes_term", "episodes_person", "episodes_source"):
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_vector_gin")
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_names_trgm")


class Migration(migrations.Migration):
    dependencies = [("episodes", "0003_search_fields")]

    operations = [migrations.RunPython(create, drop)]
