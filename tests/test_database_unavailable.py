"""When the database can't be reached, pages say so with a 503 and Retry-After, not a bare 500."""

import logging

import pytest
from django.conf import settings
from django.db import InterfaceError, OperationalError, ProgrammingError, connection
from django.test import Client
from django.urls import reverse

from notes.models import Note
from tests.factories import make_episode, make_sentences, make_user


def failing_with(error):
    """A query wrapper (Django's execute_wrapper hook) that fails every query like a lost server."""

    def wrapper(execute, sql, params, many, context):
        raise error

    return wrapper


@pytest.fixture
def client():
    # Answer errors the way the site does, instead of raising them into the test.
    return Client(raise_request_exception=False)


@pytest.fixture
def writer(client, db):
    user = make_user()
    client.force_login(user)
    episode = make_episode()
    make_sentences(episode, "The NKVD arrested thousands.")
    return {"user": user, "episode": episode}


def test_a_lost_database_answers_503_with_retry_after(client, writer):
    """Posting a note while the server is gone: a plain 503 page, Retry-After, never cached."""
    url = reverse("notes:create", args=[writer["episode"].slug])
    refused = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    with connection.execute_wrapper(failing_with(refused)):
        response = client.post(url, {"body": "Lost?", "first": "1", "idempotency_key": "k1"})
    assert response.status_code == 503
    assert response["Retry-After"] == str(settings.DATABASE_RETRY_AFTER)
    assert "no-store" in response["Cache-Control"]
    assert "can’t reach its database" in response.text or "can't reach its database" in response.text
    assert f"try again in {settings.DATABASE_RETRY_AFTER} second" in response.text
    assert not Note.objects.exists()


def test_a_closed_connection_is_unavailable_too(client, writer):
    """psycopg's "connection already closed" arrives as Django's InterfaceError."""
    with connection.execute_wrapper(failing_with(InterfaceError("connection already closed"))):
        response = client.get(reverse("notes:list", args=[writer["episode"].slug]))
    assert response.status_code == 503
    assert "Retry-After" in response


def test_other_database_errors_stay_500(client, writer):
    """A bug (bad SQL) is not an outage: retrying would not help, so no 503 and no Retry-After."""
    with connection.execute_wrapper(failing_with(ProgrammingError("no such column: nonsense"))):
        response = client.get(reverse("notes:list", args=[writer["episode"].slug]))
    assert response.status_code == 500
    assert "Retry-After" not in response


def test_the_site_answers_normally_once_the_database_is_back(client, writer):
    url = reverse("notes:create", args=[writer["episode"].slug])
    with connection.execute_wrapper(failing_with(OperationalError("server closed the connection"))):
        assert client.post(url, {"body": "Saved later.", "first": "1", "idempotency_key": "k2"}).status_code == 503
    response = client.post(url, {"body": "Saved later.", "first": "1", "idempotency_key": "k2"})
    assert response.status_code == 302
    assert Note.objects.filter(author=writer["user"], idempotency_key="k2").count() == 1


def test_the_503_is_logged_as_one_request_line(client, writer, caplog):
    """The request log still writes its line when the session (and so the user) can't be read."""
    url = reverse("notes:list", args=[writer["episode"].slug])
    with caplog.at_level(logging.INFO, logger="companion.request"):
        with connection.execute_wrapper(failing_with(OperationalError("Connection refused"))):
            client.get(url)
    [record] = [r for r in caplog.records if r.name == "companion.request"]
    assert record.status == 503 and record.path == url and record.user_id is None
