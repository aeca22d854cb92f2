"""
SQLite FTS5 tables and their sync triggers, frozen for the search migrations
(0004, 0006) as they were when those ran: never edit this copy. The site's
own, which may change, is episodes/fts.py.
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
