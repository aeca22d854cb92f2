"""manage.py backup / restore: a round trip gives back what was there."""

import json
import os
import sys

import pytest
from django.core.management import CommandError, call_command

from companion.backups import run_postgres_tool

from episodes.models import Episode, Term
from tests.factories import make_episode, make_sentences, make_term

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_backup_and_restore_round_trip(tmp_path):
    episode = make_episode(number=1, slug="1-one")
    make_sentences(episode, "Stalin met Kirov.", "The NKVD watched.")
    make_term("NKVD")
    backup = tmp_path / ("companion.backup")
    call_command("backup", str(backup), verbosity=0)
    assert backup.stat().st_size > 0

    Term.objects.all().delete()
    episode.delete()
    make_term("Gulag")
    call_command("restore", str(backup), "--yes", verbosity=0)

    assert list(Term.objects.values_list("name", flat=True)) == ["NKVD"]
    restored = Episode.objects.get(slug="1-one")
    assert list(restored.sentences.values_list("text", flat=True)) == ["Stalin met Kirov.", "The NKVD watched."]


def test_restoring_a_file_that_is_not_a_backup_changes_nothing(tmp_path):
    make_term("NKVD")
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(CommandError):
        call_command("restore", str(junk), "--yes", verbosity=0)
    assert Term.objects.filter(name="NKVD").exists()


def test_restoring_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="No such backup"):
        call_command("restore", str(tmp_path / "nope"), "--yes", verbosity=0)


def test_restore_asks_first(tmp_path, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    with pytest.raises(CommandError, match="Nothing restored"):
        call_command("restore", str(tmp_path / "x"), verbosity=0)


def test_the_database_password_goes_to_pg_tools_in_their_environment_not_their_command_line(tmp_path, monkeypatch):
    """A command line is visible to every user of the machine (ps); the environment only to its owner."""
    record = tmp_path / "pg_dump.json"
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"json.dump({{'argv': sys.argv, 'env': {{k: v for k, v in os.environ.items() if k.startswith('PG')}}}},"
        f" open({str(record)!r}, 'w'))\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    for name in [name for name in os.environ if name.startswith("PG")]:
        monkeypatch.delenv(name)  # only what the tool is given
    database = {"NAME": "companion", "USER": "companion", "PASSWORD": "a secret: p@ss word", "HOST": "db.internal",
                "PORT": "6432"}
    run_postgres_tool(["pg_dump", "--format=custom", f"--file={tmp_path / 'out'}"], database)
    seen = json.loads(record.read_text())
    assert not any("secret" in argument for argument in seen["argv"])
    assert seen["env"] == {"PGHOST": "db.internal", "PGPORT": "6432", "PGDATABASE": "companion",
                           "PGUSER": "companion", "PGPASSWORD": "a secret: p@ss word"}
