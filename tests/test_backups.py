"""manage.py backup / restore: a round trip gives back what was there."""

import pytest
from django.core.management import CommandError, call_command

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
