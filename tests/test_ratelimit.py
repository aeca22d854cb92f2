"""Rate limits: a 429 people can read, per IP and per user, one count for every worker."""

import json
import re
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django_htmx.middleware import HtmxDetails

from accounts.models import RateCounter
from accounts.ratelimit import count_hit, rate_limit
from tests.factories import make_user

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"
# The start of a window for every limit below (divisible by 300, 600 and 3600),
# so no test straddles two windows and sees its count reset.
FROZEN_NOW = 3600 * 300_000


class FrozenTime:
    @staticmethod
    def time():
        return float(FROZEN_NOW)


@pytest.fixture(autouse=True)
def limits(settings, monkeypatch):
    """Known limits, counted in the database, at a fixed moment; fast password hashing."""
    settings.RATE_LIMITS = {"signup": (5, 3600), "login": (10, 300), "note": (3, 600), "flag": (20, 3600)}
    settings.RATE_LIMIT_USE_CACHE = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr("accounts.ratelimit.time", FrozenTime)


def bad_signup(client, **headers):
    """A sign-up attempt that fails validation (so the visitor stays anonymous)."""
    data = {"username": "someone", "password1": "one password here", "password2": "another one"}
    return client.post("/accounts/signup/", data, headers=headers)


# The 429 itself

@pytest.mark.django_db
def test_signup_over_the_limit_is_429_with_retry_after_and_a_page(client):
    for _ in range(5):
        assert bad_signup(client).status_code == 200
    response = bad_signup(client)
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    html = response.content.decode()
    assert "<h1>Too many attempts</h1>" in html and 'class="site-header"' in html
    assert "try again in 60 minutes" in html


@pytest.mark.django_db
def test_htmx_gets_a_short_notice_retargeted_to_the_flash_region(client):
    for _ in range(5):
        bad_signup(client)
    response = bad_signup(client, **{"HX-Request": "true"})
    assert response.status_code == 429
    assert response["HX-Retarget"] == "#flash" and response["HX-Reswap"] == "innerHTML"
    assert response["Retry-After"] == "3600"
    html = response.content.decode().strip()
    assert html.startswith('<p class="message message-error rate-limited">') and "<html" not in html
    assert len(html) < 400


def test_the_page_lets_htmx_swap_a_429_into_the_flash_region(client, db):
    html = client.get("/").content.decode()
    assert '<div id="flash" class="flash" role="status" aria-live="polite">' in html
    config = html.split('name="htmx-config" content=\'')[1].split("'")[0]
    handling = json.loads(config)["responseHandling"]
    first_match = next(rule for rule in handling if re.fullmatch(rule["code"], "429"))
    assert first_match == {"code": "4(00|03|09|29)", "swap": True, "error": False}


@pytest.mark.django_db
def test_only_the_limited_methods_count(client):
    for _ in range(10):
        assert client.get("/accounts/signup/").status_code == 200
    assert not RateCounter.objects.exists()
    assert bad_signup(client).status_code == 200


# Login throttling

@pytest.mark.django_db
def test_ten_failed_logins_then_429_even_with_the_right_password(client):
    make_user("ann", password="the right password")
    for _ in range(10):
        response = client.post("/accounts/login/", {"username": "ann", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "ann", "password": "the right password"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_guessing_one_accounts_password_from_many_addresses_is_throttled(client):
    for attempt in range(10):
        client.post("/accounts/login/", {"username": "Ann", "password": "x"}, REMOTE_ADDR=f"10.0.0.{attempt}")
    response = client.post("/accounts/login/", {"username": "ann ", "password": "x"}, REMOTE_ADDR="10.0.1.1")
    assert response.status_code == 429
    other = client.post("/accounts/login/", {"username": "bob", "password": "x"}, REMOTE_ADDR="10.0.1.2")
    assert other.status_code == 200


# Per IP and per user, on the decorator itself

def limited_view():
    return rate_limit("note")(lambda request: HttpResponse("ok"))


def post(user, ip, **meta):
    request = RequestFactory().post("/notes/", REMOTE_ADDR=ip, **meta)
    request.user = user
    request.htmx = HtmxDetails(request)
    return limited_view()(request)


@pytest.mark.django_db
def test_one_address_is_limited_whoever_signs_in_from_it():
    codes = [post(make_user(), "192.0.2.1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


@pytest.mark.django_db
def test_one_user_is_limited_whatever_address_they_use():
    user = make_user()
    codes = [post(user, f"192.0.2.{n}").status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]


@pytest.mark.django_db
def test_a_spoofed_forwarded_for_does_not_escape_the_limit(settings):
    """Only the address our proxy appended (the right-most) is trusted."""
    from django.contrib.auth.models import AnonymousUser

    settings.TRUSTED_PROXY_HEADER = "HTTP_X_FORWARDED_FOR"
    codes = [
        post(AnonymousUser(), "10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7").status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]


@pytest.mark.django_db
def test_huge_or_odd_idents_make_short_keys(client):
    client.post("/accounts/login/", {"username": "x y\n" * 5000, "password": "x"})
    assert all(len(key) < 100 for key in RateCounter.objects.values_list("key", flat=True))


# Shared across processes: the building block, count_hit

def hit_concurrently(threads, hits, close_connections=True):
    """count_hit from several threads at once, each on its own connection; every count seen."""
    seen, errors = [], []
    start = threading.Barrier(threads)

    def work():
        try:
            start.wait()
            seen.extend(count_hit("rl:test:shared", 600) for _ in range(hits))
        except Exception as error:  # reported by the test
            errors.append(error)
        finally:
            if close_connections:
                connections.close_all()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    return seen


WORKER = """
import json, sys, threading
import django
django.setup()
from django.db import connection, connections
from accounts.models import RateCounter
from accounts.ratelimit import count_hit

mode, threads, hits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if mode == "create":
    with connection.schema_editor() as editor:
        editor.create_model(RateCounter)
    sys.exit()
seen = []

def work():
    seen.extend(count_hit("rl:test:shared", 600) for _ in range(hits))
    connections.close_all()

workers = [threading.Thread(target=work) for _ in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print(json.dumps(seen))
"""


def run_workers(tmp_path, processes, threads, hits):
    """Start processes × threads hitting one counter in one SQLite file; every count seen."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "companion.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
        "REDIS_URL": "",
    }
    options = {"env": env, "cwd": Path(django_settings.BASE_DIR), "text": True,
               "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    subprocess.run([sys.executable, "-c", WORKER, "create", "0", "0"], check=True, timeout=120, **options)
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, "hit", str(threads), str(hits)], **options)
        for _ in range(processes)
    ]
    seen = []
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err
        seen += json.loads(out)
    return seen


def test_count_hit_counts_every_hit_once_under_concurrent_threads(tmp_path):
    """Every hit gets its own count, 1…N: the increment and the read are one atomic step.

    On a SQLite file, as deployed (the busy timeout and BEGIN IMMEDIATE from
    settings make writers queue). Not on the test database: pytest-django's
    in-memory SQLite is "shared cache", whose table locks fail at once
    ("database table is locked") instead of waiting; the next test covers
    the test database when it is PostgreSQL or a file.
    """
    assert sorted(run_workers(tmp_path, processes=1, threads=6, hits=15)) == list(range(1, 91))


@pytest.mark.django_db(transaction=True)
def test_count_hit_counts_every_hit_once_under_concurrent_threads_on_the_test_database():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("in-memory shared-cache SQLite locks tables without waiting; "
                    "the SQLite-file tests above cover this (runs on PostgreSQL)")
    seen = hit_concurrently(threads=6, hits=15)
    assert sorted(seen) == list(range(1, 91))
    assert RateCounter.objects.get(key="rl:test:shared").count == 90


def test_count_hit_is_shared_by_separate_processes_on_one_sqlite_file(tmp_path):
    """Gunicorn's workers are processes: four of them, two threads each, one SQLite file, one count."""
    assert sorted(run_workers(tmp_path, processes=4, threads=2, hits=12)) == list(range(1, 97))


# The same limits with Redis as the store

@pytest.fixture
def redis_store():
    """RATE_LIMIT_USE_CACHE with Redis (database 15, emptied before and after)."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but Redis is unreachable at {REDIS_TEST_URL}: {error}")
        pytest.skip(f"SKIPPED: Redis unreachable at {REDIS_TEST_URL} ({error}); start redis-server")
    client.flushdb()
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_TEST_URL}}
    with override_settings(RATE_LIMIT_USE_CACHE=True, CACHES=caches):
        yield client
    client.flushdb()
    client.close()


@pytest.mark.django_db
def test_with_redis_the_same_limit_holds(client, redis_store):
    for _ in range(5):
        assert bad_signup(client).status_code == 200
    response = bad_signup(client)
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert not RateCounter.objects.exists()
    assert redis_store.keys("*rl:signup:ip:*")


def test_with_redis_count_hit_counts_every_hit_once_under_concurrent_threads(redis_store):
    seen = hit_concurrently(threads=6, hits=15, close_connections=False)
    assert sorted(seen) == list(range(1, 91))


@pytest.mark.django_db
def test_csrf_is_checked_before_anything_is_counted():
    csrf_client = Client(enforce_csrf_checks=True)
    for _ in range(7):
        assert bad_signup(csrf_client).status_code == 403
    assert not RateCounter.objects.exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_htmx_shows_the_notice_in_the_flash_region(live_server, browser_context, settings):
    from playwright.sync_api import expect

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup": (1, 3600)}
    page = browser_context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    try:
        page.goto(live_server.url + "/accounts/signup/")
        post = "() => htmx.ajax('POST', '/accounts/signup/', {source: 'main', target: 'main', swap: 'none', values: {username: 'x'}})"
        page.evaluate(post)
        expect(page.locator("h1")).to_have_text("Sign up")
        page.evaluate(post)
        expect(page.locator("#flash .rate-limited")).to_contain_text("Please try again in 60 minutes.")
        expect(page.locator("h1")).to_have_text("Sign up")  # the page itself is left alone
        # Only the browser's and htmx's own notes of the 429, nothing else.
        assert all("429" in error for error in errors), errors
    finally:
        page.close()
