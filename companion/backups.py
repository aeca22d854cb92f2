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


def postgres_environment(settings):
    """
    Where pg_dump and pg_restore connect, as libpq's environment variables, the
    password in PGPASSWORD: a command line is visible to every user of the
    machine (ps), a process's environment only to its owner and root.
    """
    environment = dict(os.environ) | {
        "PGHOST": settings.get("HOST") or "localhost",
        "PGPORT": str(settings.get("PORT") or 5432),
        "PGDATABASE": settings["NAME"],
    }
    if settings.get("USER"):
        environment["PGUSER"] = settings["USER"]
    if settings.get("PASSWORD"):
        environment["PGPASSWORD"] = settings["PASSWORD"]
    return environment


def run_postgres_tool(command, settings=None):
    """Run pg_dump or pg_restore against the database (connection.settings_dict unless given)."""
    if not shutil.which(command[0]):
        raise BackupError(f"{command[0]} is not installed (apt-get install postgresql-client).")
    environment = postgres_environment(settings or connection.settings_dict)
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
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
            run_postgres_tool(["pg_dump", "--format=custom", "--no-owner", f"--file={temporary}"])
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
        run_postgres_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                           f"--dbname={connection.settings_dict['NAME']}", str(path)])
    else:
        raise BackupError(f"No restore method for {connection.vendor}.")
