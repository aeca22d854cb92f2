"""Project-wide rules: migrations, settings, the admin."""

import os
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import FieldFetchBlocked
from django.core.management import call_command
from django.db import connection, connections

from episodes.models import Episode, Mention, Sentence
from tests.factories import make_sentences


def test_no_missing_migrations(db):
    output = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=output)
    assert "No changes detected" in output.getvalue()


def test_the_import_layers_hold():
    """The .importlinter contracts: apps layered, the alignment engine free of Django, no cycles."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=settings.BASE_DIR, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def test_a_foreign_key_read_row_by_row_raises_in_tests(small_episode):
    """N+1 queries fail the tests (tests/conftest.py); a lone instance still fetches lazily."""
    with pytest.raises(FieldFetchBlocked, match="Sentence.episode"):
        [sentence.episode for sentence in Sentence.objects.all()]
    assert [s.episode for s in Sentence.objects.select_related("episode")][0] == small_episode["episode"]
    assert Sentence.objects.first().episode == small_episode["episode"]


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
    # Persistent connections, checked before reuse: opening one costs more than a page's queries.
    assert database["CONN_MAX_AGE"] > 0 and database["CONN_HEALTH_CHECKS"]


@pytest.mark.skipif(not connection.vendor == "sqlite", reason="only an in-memory SQLite test database is shared")
def test_the_live_servers_threads_can_share_the_in_memory_database(small_episode):
    """Threads running one query on the shared test connection all find the row (tests/conftest.py)."""
    slug = small_episode["episode"].slug
    shared = connections["default"]
    shared.inc_thread_sharing()
    missed, failed = [], []

    def look_up():
        connections["default"] = shared  # as the live server's request threads do
        for _ in range(1500):
            try:
                if not Episode.objects.filter(slug=slug).exists():
                    missed.append(slug)
            except Exception as error:
                failed.append(repr(error))

    try:
        threads = [threading.Thread(target=look_up) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        shared.dec_thread_sharing()
    assert (len(missed), failed[:3]) == (0, [])


def clean_environment(**overrides):
    """The process environment without what the browser tests set for themselves."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**env, **overrides}


def run_settings(env):
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean_environment(DJANGO_SETTINGS_MODULE="companion.settings", **env),
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
    """Applied from the preview of the links it adds (tests/test_link_preview.py)."""
    episode = small_episode["episode"]
    make_sentences(episode, "Kopelev remembered.")
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post("/admin/episodes/person/add/", {
            "name": "Lev Kopelev", "slug": "lev-kopelev", "aliases": "Kopelev",
            "role": "Writer.", "full_name": "", "biography": "", "reference": "",
            "born": "1912", "died": "1997", "_apply_links": "Apply",
            "scopedalias_set-TOTAL_FORMS": "0", "scopedalias_set-INITIAL_FORMS": "0",
            "ambiguityrule_set-TOTAL_FORMS": "0", "ambiguityrule_set-INITIAL_FORMS": "0",
        })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Mention.objects.filter(person__slug="lev-kopelev").count() == 2
    episode.refresh_from_db()
    assert 'href="/people/lev-kopelev/"' in episode.transcript_html


def episode_form(episode, **extra):
    data = {
        "number": episode.number, "title": episode.title, "slug": episode.slug,
        "tagline": episode.tagline, "series": episode.series_id or "", "part": episode.part or "", "published": "", "audio_url": "",
        "duration": "", "summary": "", "audio_note": "",
    }
    return data | extra


def test_the_admin_imports_timings_from_an_upload_after_a_preview(editor, small_episode):
    from django.core.files.uploadedfile import SimpleUploadedFile

    episode = small_episode["episode"]
    vtt = SimpleUploadedFile("t.vtt", (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nThe NKVD arrested thousands.\n\n"
        "00:00:02.000 --> 00:00:03.000\nStalin signed the lists.\n\n00:00:03.000 --> 00:00:09.000\n"
        "Kopelev wrote: We were forced to resort to barbaric methods. and the NKVD obeyed Stalin.\n"
    ).encode())
    response = editor.post(f"/admin/episodes/episode/{episode.pk}/timings/", {"upload": vtt}, follow=True)
    assert response.content.decode().count("Newly timed") == 3
    response = editor.post(response.redirect_chain[-1][0], {"action": "apply"}, follow=True)
    assert "Timings applied: 3 sentences: 3 newly timed." in response.content.decode()
    assert list(episode.sentences.values_list("start", flat=True)) == [1.0, 2.0, 3.0]


def test_the_admin_refuses_a_timing_file_that_does_not_match(editor, small_episode):
    from django.core.files.uploadedfile import SimpleUploadedFile

    episode = small_episode["episode"]
    vtt = SimpleUploadedFile("t.vtt", b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nPasta recipes for beginners.\n")
    response = editor.post(f"/admin/episodes/episode/{episode.pk}/timings/", {"upload": vtt}, follow=True)
    assert "does not match this transcript" in response.content.decode()
    assert not episode.sentences.filter(start__isnull=False).exists()


def test_the_admin_refuses_a_binary_transcript_upload(editor, small_episode):
    from django.core.files.uploadedfile import SimpleUploadedFile

    episode = small_episode["episode"]
    upload = SimpleUploadedFile("t.txt", b"\x00\x01binary")
    response = editor.post(f"/admin/episodes/episode/{episode.pk}/change/",
                           episode_form(episode, transcript_file=upload))
    assert response.status_code == 200  # the form comes back with the error
    assert "looks like a binary file" in response.content.decode()


def test_the_admin_estimates_timings(editor, small_episode):
    episode = small_episode["episode"]
    episode.duration = __import__("datetime").timedelta(minutes=1)
    episode.save()
    editor.post("/admin/episodes/episode/", {"action": "estimate_timings", "_selected_action": [episode.pk]})
    episode.refresh_from_db()
    assert episode.timing == "estimated"
    assert not episode.sentences.filter(start__isnull=True).exists()


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=clean_environment(
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="a-long-random-looking-secret-Xq7pL9vR2mZ8wK4tB6nH3jD5fG1cS0yE",
            DJANGO_ALLOWED_HOSTS="companion.example",
            DJANGO_EMAIL_HOST="mail.example",
        ),
        capture_output=True, text=True, cwd=settings.BASE_DIR,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_healthz_answers_200_with_the_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper
    from django.db.utils import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("database is gone")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
