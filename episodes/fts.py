"""
SQLite FTS5 tables and their sync triggers, as the site uses them now.

SQLite rebuilds a table for many schema changes (adding a field to Sentence,
say), and the rebuild drops the table's triggers. ensure() runs after every
migrate (episodes/apps.py) and recreates whatever went missing. The
migrations that made these tables use their own frozen copy
(episodes/migrations/_fts.py), which must not change with this one.
"""


TABLES = {
    # fts table: (content table, indexed columns)
    "episodes_sentence_fts": ("episodes_sentence", ["text"]),
    "episodes_term_fts": ("episodes_term", ["name", "aliases", "definition", "article"]),
    "episodes_person_fts": ("episodes_person", ["name", "full_name", "aliases", "role", "biography"]),
    "episodes_source_fts": ("episodes_source", ["title", "author", "publisher", "note"]),
}
TOKENIZER = "porter unicode61 remove_diacritics 2"


def create_statements(fts, content, columns, prefix=""):
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    prefix_option = f", prefix='{prefix}'" if prefix else ""
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{content}', "
        f"content_rowid='id', tokenize='{TOKENIZER}'{prefix_option})",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {content} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {content} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE ON {content} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def drop_statements(fts):
    return [f"DROP TRIGGER IF EXISTS {fts}_{suffix}" for suffix in ("ai", "ad", "au")] + [
        f"DROP TABLE IF EXISTS {fts}"
    ]


def recreate(schema_editor, prefix=""):
    if schema_editor.connection.vendor != "sqlite":
        return
    for fts, (content, columns) in TABLES.items():
        for statement in drop_statements(fts) + create_statements(fts, content, columns, prefix):
            schema_editor.execute(statement)


PREFIX = "2 3 4"


def ensure(connection):
    """Recreate any FTS table whose sync triggers a table rebuild dropped."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {row[0] for row in cursor.fetchall()}
    with connection.schema_editor() as schema_editor:
        for fts, (content, columns) in TABLES.items():
            wanted = {fts} | {f"{fts}_{suffix}" for suffix in ("ai", "ad", "au")}
            if fts in present and not wanted <= present:
                for statement in drop_statements(fts) + create_statements(
                    fts, content, columns, PREFIX
                ):
                    schema_editor.execute(statement)
