import copy
import os

import django.db.models.query
import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import connections
from django.db.models.fetch_modes import FETCH_RAISE, FetchMode
from django.test import override_settings

from episodes.demo import load_demo

from episodes.linking import relink_all
from episodes.page_cache import transcripts
from episodes.models.show import forget_show
from episodes.search import forget_names
from tests.factories import make_citation, make_episode, make_person, make_sentences, make_source, make_term


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """
    The test databases, let go of before they are dropped. A request thread of
    the live server that still serves a browser's kept-alive connection holds
    its database session (CONN_MAX_AGE) until the socket closes, and
    PostgreSQL won't drop a database that has a session open: end them first.
    """
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """
    The live server's request threads share the test thread's in-memory SQLite
    connection, and Python's sqlite3 can hand one cached prepared statement to
    two threads running the same query at once: one reads the row, the other
    an empty result (a 404 for words.json while the audio loads). Production
    has a connection per thread; here, no statement cache means no sharing.
    """
    for connection in connections.all():
        if connection.vendor == "sqlite":
            connection.settings_dict["OPTIONS"]["cached_statements"] = 0


def caches_of_this_worker():
    """
    The tests run in two processes (pytest-xdist, pytest.ini), and clearing a
    Redis cache empties its whole database: each process gets a Redis database
    of its own, the next numbers after REDIS_URL's (gw0 → 1, gw1 → 2).
    """
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    configured = copy.deepcopy(settings.CACHES)
    for cache in configured.values():
        if cache["BACKEND"].endswith("RedisCache"):
            base, _, number = cache["LOCATION"].rpartition("/")
            cache["LOCATION"] = f"{base}/{int(number or 0) + worker}"
    return configured


@pytest.fixture(scope="session", autouse=True)
def test_settings(tmp_path_factory):
    """
    Audio goes to a folder of the session's own; passwords hash fast; rate
    limits count in the (per-test) database even when REDIS_URL is set, so
    no test inherits another's counters; tasks run immediately.
    """
    with override_settings(
        CACHES=caches_of_this_worker(),
        MEDIA_ROOT=tmp_path_factory.mktemp("media"),
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        RATE_LIMIT_USE_CACHE=False,
        # Tests change content and read it back at once; tests/test_page_cache.py turns it on.
        PAGE_FRESH_SECONDS=0,
        # Tasks run at enqueue time, so a test sees their effect; tests/test_task_worker.py
        # queues them in the database and runs the worker.
        TASKS={"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}},
    ):
        yield


class FetchRaiseInLoops(FetchMode):
    """
    Django's fetch modes, set to catch N+1 queries: a field fetched lazily on
    an instance that came from a query of several rows (it has peers) raises,
    since in a loop it would be one query per row; a lone instance fetches as
    usual. Production keeps Django's default (FETCH_ONE).
    """

    __slots__ = ()
    track_peers = True

    def fetch(self, fetcher, instance):
        if sum(peer() is not None for peer in instance._state.peers) > 1:
            FETCH_RAISE.fetch(fetcher, instance)
        fetcher.fetch_one(instance)


@pytest.fixture(scope="session", autouse=True)
def n_plus_one_queries_raise():
    """Every QuerySet in the tests, and in the live server's threads, starts in FetchRaiseInLoops."""
    default = django.db.models.query.DEFAULT_FETCH_MODE
    django.db.models.query.DEFAULT_FETCH_MODE = FetchRaiseInLoops()
    yield
    django.db.models.query.DEFAULT_FETCH_MODE = default


@pytest.fixture(autouse=True)
def empty_page_cache():
    """
    Cached pages, kept transcripts and name lines are keyed by version, but a test database
    reuses ids and times can tie; and a rolled-back Podcast row sends no signal.
    """
    caches["pages"].clear()
    transcripts.kept.clear()
    forget_show()
    forget_names()
    yield
    caches["pages"].clear()
    transcripts.kept.clear()
    forget_show()
    forget_names()


@pytest.fixture
def small_episode(db):
    """An episode with a few linked sentences, a citation, a term and a person."""
    episode = make_episode(number=138, slug="138-the-great-purges", title="The Great Purges",
                           tagline="It was time to clean house.", series="The Soviet Union", part=8)
    sentences = make_sentences(
        episode,
        "The NKVD arrested thousands.",
        "Stalin signed the lists.",
        paragraph=1,
    ) + make_sentences(
        episode,
        "Kopelev wrote: “We were forced to resort to barbaric methods.” and the NKVD obeyed Stalin.",
        paragraph=2,
    )
    nkvd = make_term("NKVD", aliases="People's Commissariat for Internal Affairs",
                     category="organisation", definition="The Soviet interior ministry and secret police.")
    stalin = make_person("Joseph Stalin", aliases="Stalin", born=1878, died=1953,
                         role="General Secretary of the Communist Party.")
    source = make_source("The Education of a True Believer", author="Lev Kopelev", year=1980,
                         slug="education-of-a-true-believer")
    make_citation(sentences[2], source, quoted_text="We were forced to resort to barbaric methods.",
                  locator="p. 11")
    relink_all()
    episode.refresh_from_db()
    return {"episode": episode, "nkvd": nkvd, "stalin": stalin, "source": source, "sentences": sentences}


@pytest.fixture(scope="module")
def demo_content(django_db_setup, django_db_blocker):
    """
    The demo episode, glossary, people and sources (no narration), loaded once
    for a module whose tests only read it or change it inside their own
    transaction (rolled back after each test); removed after the module.
    """
    with django_db_blocker.unblock():
        episode = load_demo(settings.DEMO_CONTENT_DIR)
        yield episode
        call_command("flush", "--noinput", verbosity=0)


# What the demo writes; Django's own tables are made by migrate and kept by flush.
DEMO_TABLES = ["episodes", "timeline"]


@pytest.fixture(scope="session")
def demo_fixture(django_db_setup, django_db_blocker, tmp_path_factory):
    """
    The demo with its narration, loaded once per session and kept as a fixture
    file: a transactional test (a browser's live server needs committed rows)
    loads that file, about twice as fast as loading the demo again.
    """
    path = tmp_path_factory.mktemp("demo") / "demo.json"
    with django_db_blocker.unblock():
        call_command("load_demo", verbosity=0)  # the narration is synthesised here, once
        call_command("dumpdata", *DEMO_TABLES, output=str(path), verbosity=0)
        call_command("flush", "--noinput", verbosity=0)
    return path


@pytest.fixture
def site(live_server, demo_fixture):
    """The live server's address, with the demo (and its narration) loaded."""
    call_command("loaddata", str(demo_fixture), verbosity=0)
    return live_server.url


from tests.browser import (  # noqa: E402,F401
    NO_CHROMIUM,
    browser_context,
    chromium_available,
    no_script_page,
    page,
    phone_page,
    playwright_session,
    staff_browser,
)


def pytest_terminal_summary(terminalreporter):
    if not chromium_available() and any(
        "browser" in report.keywords for report in terminalreporter.stats.get("skipped", [])
    ):
        terminalreporter.write_line(NO_CHROMIUM, red=True, bold=True)
