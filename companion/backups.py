"""
Back up and restore the whole database.

SQLite uses its online backup API (consistent while the site runs, and the
same call restores); PostgreSQL uses pg_dump's custom format and
pg_restore. Backups are written to a temporary file and renamed into place,
so a failed run never leaves half a backup behind.
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from django.db import connection

SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    pass


def postgres_url():
    settings = connection.settings_dict
    user = settings.get("USER") or ""
    password = settings.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return (
        f"postgresql://{credentials}{settings.get('HOST') or 'localhost'}:"
        f"{settings.get('PORT') or 5432}/{settings['NAME']}"
    )


def run(command):
    if not shutil.which(command[0]):
        raise BackupError(f"{command[0]} is not installed (apt-get install postgresql-client).")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:500]}")


def backup(path):
    """Write a backup of the database to path; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(temporary)
            with target:
                connection.connection.backup(target)
            target.close()
        elif connection.vendor == "postgresql":
            run(["pg_dump", "--format=custom", "--no-owner", f"--file={temporary}", postgres_url()])
        else:
            raise BackupError(f"No backup method for {connection.vendor}.")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def restore(path):
    """Replace the database's contents with the backup's."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No such backup: {path}")
    if connection.vendor == "sqlite":
        with path.open("rb") as file:
            if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise BackupError(f"{path.name} is not a SQLite backup.")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{path.name} is damaged (integrity check failed).")
            connection.ensure_connection()
            source.backup(connection.connection)
        finally:
            source.close()
    elif connection.vendor == "postgresql":
        connection.close()
        run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
             f"--dbname={postgres_url()}", str(path)])
    else:
        raise BackupError(f"No restore method for {connection.vendor}.")
