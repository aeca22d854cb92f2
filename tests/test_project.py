"""Project-wide rules: migrations, settings, the admin."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from episodes.models import Mention
from tests.factories import make_sentences


def test_no_missing_migrations(db):
    output = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=output)
    assert "No changes detected" in output.getvalue()


def test_the_database_is_tuned_for_a_web_server(db):
    database = settings.DATABASES["default"]
    assert not database.get("ATOMIC_REQUESTS")
    if connection.vendor == "sqlite":
        assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
        assert database["OPTIONS"]["timeout"] >= 5
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal_mode = cursor.fetchone()[0]
        # The test database lives in memory, which has no WAL; the setting is what counts.
        assert journal_mode in {"wal", "memory"}
        assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    else:
        assert database["CONN_MAX_AGE"] > 0 and database["CONN_HEALTH_CHECKS"]


def run_settings(env):
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "companion.settings", **env},
        capture_output=True, text=True, cwd=settings.BASE_DIR,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_settings({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": ""})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_starts_with_a_secret_key():
    result = run_settings({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 50})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.fixture
def editor(admin_client, small_episode):
    return admin_client


@pytest.mark.parametrize(
    "url",
    ["/admin/episodes/episode/", "/admin/episodes/term/", "/admin/episodes/person/",
     "/admin/episodes/source/", "/admin/episodes/citation/", "/admin/episodes/mention/",
     "/admin/episodes/sentence/", "/admin/episodes/term/?q=commissariat",
     "/admin/episodes/sentence/?q=NKVD"],
)
def test_admin_pages_open(editor, url):
    assert editor.get(url).status_code == 200


def test_admin_relink_action_relinks(editor, small_episode, django_capture_on_commit_callbacks):
    episode = small_episode["episode"]
    Mention.objects.all().delete()
    response = editor.post(
        "/admin/episodes/episode/",
        {"action": "relink", "_selected_action": [episode.pk]},
    )
    assert response.status_code == 302
    assert Mention.objects.filter(sentence__episode=episode).count() == 4


def test_saving_a_person_in_the_admin_relinks(editor, small_episode, django_capture_on_commit_callbacks):
    episode = small_episode["episode"]
    make_sentences(episode, "Kopelev remembered.")
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post("/admin/episodes/person/add/", {
            "name": "Lev Kopelev", "slug": "lev-kopelev", "aliases": "Kopelev",
            "role": "Writer.", "full_name": "", "biography": "", "reference": "",
            "born": "1912", "died": "1997",
        })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Mention.objects.filter(person__slug="lev-kopelev").count() == 2
    episode.refresh_from_db()
    assert 'href="/people/lev-kopelev/"' in episode.transcript_html
