"""
Search indexes for each backend.

SQLite: FTS5 tables that use our tables as external content, kept in sync
by triggers on every insert, update and delete (so bulk writes, the admin
and raw SQL all stay indexed), with Porter stemming and diacritics removed.

PostgreSQL: GIN indexes on the stored search vectors, and pg_trgm with a
trigram index on every entry's names for typo tolerance.
"""

from django.db import migrations

FTS_TABLES = {
    # fts table: (content table, indexed columns)
    "episodes_sentence_fts": ("episodes_sentence", ["text"]),
    "episodes_term_fts": ("episodes_term", ["name", "aliases", "definition", "article"]),
    "episodes_person_fts": ("episodes_person", ["name", "full_name", "aliases", "role", "biography"]),
    "episodes_source_fts": ("episodes_source", ["title", "author", "publisher", "note"]),
}
TOKENIZER = "porter unicode61 remove_diacritics 2"


def sqlite_statements(fts, content, columns):
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{content}', "
        f"content_rowid='id', tokenize='{TOKENIZER}')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {content} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {content} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE ON {content} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


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
        for fts, (content, columns) in FTS_TABLES.items():
            for statement in sqlite_statements(fts, content, columns):
                schema_editor.execute(statement)
    elif vendor == "postgresql":
        for statement in POSTGRES_STATEMENTS:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for fts, (content, _) in FTS_TABLES.items():
            for suffix in ("ai", "ad", "au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")
    elif vendor == "postgresql":
        for table in ("episodes_sentence", "episodes_term", "episodes_person", "episodes_source"):
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_vector_gin")
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_names_trgm")


class Migration(migrations.Migration):
    dependencies = [("episodes", "0003_search_fields")]

    operations = [migrations.RunPython(create, drop)]
