"""
Settings for Companion, in one module, driven by the environment.

Local defaults are safe for a developer's machine; production (DJANGO_DEBUG
off) refuses to start without DJANGO_SECRET_KEY. Every variable is listed in
the README.
"""

import logging
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    # Only ever used on a developer's machine: DEBUG is on.
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # Full-text search, trigram similarity and their fields when DATABASE_URL is PostgreSQL.
    "django.contrib.postgres",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles so runserver serves files the way gunicorn will.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # /sitemap.xml (episodes/sitemaps.py): the app brings the sitemap templates.
    "django.contrib.sitemaps",
    "django_htmx",
    # The database task backend (below): its queue table and `manage.py db_worker`.
    "companion.task_queue_app.TaskQueueConfig",
    # The project package, for its management commands (backup, restore).
    "companion",
    # Our apps, each built on the ones above it (the import-linter contracts in .importlinter).
    "accounts",
    "episodes",
    "notes",
    "timeline",
    "suggestions",
    # After episodes: its admin extends the episode's admin page with "Align to audio".
    "alignment",
]

# Listeners sign up to post notes; a custom user model from the start.
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "episodes:home"
LOGOUT_REDIRECT_URL = "episodes:home"

MIDDLEWARE = [
    # One structured log line per request, static files and errors included.
    "companion.logs.RequestLogMiddleware",
    # Above every middleware that adds headers or cookies: it decides, on the
    # finished answer, whether a shared cache may keep it.
    "companion.shared_pages.SharedPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Right after SecurityMiddleware, as whitenoise documents.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "companion.urls"
# A less guessable admin path is one more hurdle for scripted attacks.
ADMIN_PATH = os.environ.get("DJANGO_ADMIN_PATH", "admin/").strip("/") + "/"
WSGI_APPLICATION = "companion.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite by default; DATABASE_URL=postgres://… for the scale-out path.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and env_bool("DJANGO_SQLITE_DEFAULTS", False):
    # Django's own SQLite settings (rollback journal, 5 s timeout, deferred
    # transactions): only so benchmarks/load_faults.py can show where they fail
    # (docs/load-faults.md). Never in production.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tuned for a web server with several workers: WAL lets readers and one
    # writer work at once, the timeout waits for a lock instead of failing,
    # and IMMEDIATE takes the write lock at BEGIN so two writers never
    # deadlock upgrading a read lock. Connections persist like PostgreSQL's:
    # opening one registers Django's SQL functions and runs the PRAGMAs, which
    # cost an uncached episode page a third of its time (docs/load-benchmark.md).
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Seconds a 503 "database unavailable" page asks clients to wait (companion/views.py).
DATABASE_RETRY_AFTER = int(os.environ.get("DJANGO_DATABASE_RETRY_AFTER", "5"))

# Cache: Redis when REDIS_URL is set (shared by every worker, also the
# rate-limit store); otherwise local memory, and rate limits are counted in
# the database so they still hold across gunicorn workers.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
        "pages": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                  "KEY_PREFIX": "pages"},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Rendered pages for anonymous readers, keyed by ETag (episodes/page_cache.py).
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages",
                  "OPTIONS": {"MAX_ENTRIES": 1000}},
    }
# How long a worker answers repeats of a shared page from memory, before Django and
# without asking the database whether it changed (companion/page_memory.py). 0 turns it off.
PAGE_FRESH_SECONDS = float(os.environ.get("DJANGO_PAGE_FRESH_SECONDS", "5"))
PAGE_FRESH_ENTRIES = 200
if os.environ.get("DJANGO_PAGE_CACHE", "on") == "off":
    PAGE_FRESH_SECONDS = 0
    # Every page rendered afresh (ETags and 304s still work): for measuring, or debugging.
    CACHES["pages"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
RATE_LIMIT_USE_CACHE = bool(REDIS_URL)

# Pages every anonymous reader sees alike are public (companion/shared_pages.py):
# browsers and shared caches keep them this many seconds, then may serve them
# this many more while they fetch a fresh copy. A change reaches every reader
# within the sum, or at once from proxies that are purged (docs/shared-cache.md).
SHARED_PAGE_MAX_AGE = int(os.environ.get("DJANGO_SHARED_PAGE_MAX_AGE", "60"))
SHARED_PAGE_STALE_SECONDS = int(os.environ.get("DJANGO_SHARED_PAGE_STALE_SECONDS", "30"))
# Reverse proxies to send `BAN /` when content changes, e.g. http://127.0.0.1:6081.
SHARED_CACHE_PURGE_URLS = env_list("DJANGO_SHARED_CACHE_PURGE_URLS", [])
SHARED_CACHE_PURGE_TIMEOUT = 2
# Apps whose rows appear on shared pages: saving or deleting one purges the proxies.
SHARED_CACHE_CONTENT_APPS = {"episodes", "notes", "timeline"}


def rate(name, default):
    """'10/60' from DJANGO_RATE_LIMIT_<NAME>: 10 attempts per 60 seconds."""
    count, seconds = os.environ.get(f"DJANGO_RATE_LIMIT_{name.upper()}", default).split("/")
    return int(count), int(seconds)


RATE_LIMITS = {
    "signup": rate("signup", "5/3600"),
    "login": rate("login", "10/300"),
    "note": rate("note", "10/600"),
    "flag": rate("flag", "20/3600"),
}
TRUSTED_PROXY_HEADER = os.environ.get("DJANGO_TRUSTED_PROXY_HEADER", "")

# A new account's first notes wait for a moderator.
NOTES_HELD_FOR_NEW_ACCOUNTS = int(os.environ.get("DJANGO_NOTES_HELD_FOR_NEW_ACCOUNTS", "2"))
NOTE_MAX_LENGTH = 2000

# Django 6.1's MAILERS (EMAIL_BACKEND is deprecated): the console while
# debugging, SMTP (DJANGO_EMAIL_HOST …) in production.
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "DJANGO_EMAIL_BACKEND",
            "django.core.mail.backends.console.EmailBackend"
            if DEBUG
            else "django.core.mail.backends.smtp.EmailBackend",
        ),
    }
}
if MAILERS["default"]["BACKEND"].endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("DJANGO_EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("DJANGO_EMAIL_PORT", "25")),
        "username": os.environ.get("DJANGO_EMAIL_USER", ""),
        "password": os.environ.get("DJANGO_EMAIL_PASSWORD", ""),
        "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", False),
    }
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "companion@localhost")

# Slow work (relinking after an edit, aligning an episode to its audio) runs
# as a task. Django ships only the immediate backend (runs it inside the
# request, where gunicorn's timeout cuts a long alignment short) and the dummy
# one, so tasks are queued in the database (django-tasks-db, by the author of
# django.tasks) and run by `manage.py db_worker`, which gunicorn.conf.py starts
# beside the web workers. Tests run tasks immediately (tests/conftest.py).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("DJANGO_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files with far-future headers in production;
        # plain storage while developing so no collectstatic is needed.
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            # whitenoise's, with each URL worked out once per worker.
            else "companion.static_files.StaticFilesStorage"
        )
    },
}

# Content-Security-Policy: scripts and styles only from our origin or with
# the per-request nonce. No inline handlers, no unsafe-inline, no eval.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "media-src": [CSP.SELF, "https:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
# HTTPS in production: redirect plain HTTP and tell browsers to stay on HTTPS.
# `make run` serves plain HTTP on loopback and switches these off.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = False
# Kept on purpose: covering subdomains and joining the preload list are
# decisions for whoever owns the domain (DJANGO_HSTS_INCLUDE_SUBDOMAINS).
SILENCED_SYSTEM_CHECKS = ["security.W021"] + (
    [] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]
)
if env_bool("DJANGO_BEHIND_HTTPS_PROXY", False):
    # The proxy terminates TLS and says so in this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# JSON lines on stderr (gunicorn passes them through); DJANGO_LOG_FORMAT=text for
# a human at a terminal.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "companion.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            # In production, request lines in batches, within a second (warnings and errors
            # at once); while developing or testing, each line as it comes.
            "class": "logging.StreamHandler" if DEBUG else "companion.logs.BatchingStreamHandler",
            "formatter": os.environ.get("DJANGO_LOG_FORMAT", "json"),
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Without a level of its own, django.server would double the request lines under runserver.
        "django.server": {"level": "WARNING"},
    },
}

# Our log lines carry no thread or source-line fields: don't collect them on every record
# (the logging HOWTO's "Optimization" section). gunicorn's own lines name the process.
logging.logThreads = logging.logMultiprocessing = logging.logAsyncioTasks = False
logging._srcfile = None

# Our /feed.xml republishes someone else's show, so it asks hosting platforms not to import
# it (podcast:locked yes) when an owner address to verify with is configured; unset, no tag.
PODCAST_FEED_OWNER_EMAIL = os.environ.get("PODCAST_FEED_OWNER_EMAIL", "")

# Every fetch (companion/fetch.py: feeds, their files, audio to align) goes to URLs someone
# outside wrote; refusing loopback and private addresses keeps a hostile feed or link from
# making the server read its own network. On for files served from the same machine or network.
# DJANGO_FEED_FETCH_ALLOW_PRIVATE is its old name, from when only feed import checked.
FETCH_ALLOW_PRIVATE = env_bool(
    "DJANGO_FETCH_ALLOW_PRIVATE", env_bool("DJANGO_FEED_FETCH_ALLOW_PRIVATE", False)
)

# Where `load_demo` reads its content and the demo transcript.
DEMO_CONTENT_DIR = BASE_DIR / "episodes" / "demo"
