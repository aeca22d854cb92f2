"""gunicorn settings for Companion: `gunicorn companion.wsgi --config gunicorn.conf.py`."""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# The usual rule of thumb, capped so a big machine doesn't open dozens of
# SQLite writers; WEB_CONCURRENCY overrides it.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then so a slow leak never grows without bound, but
# seldom: a new worker sets Django up again and starts with empty page memories
# and a new database connection, which every 2,000 requests cost a cached page
# a third of its time at a few thousand requests a second (docs/load-benchmark.md).
max_requests = 50000
max_requests_jitter = 5000
# Load Django once in the master and fork workers from it, so that a recycled
# or killed worker is back in milliseconds. New code needs a restart, not a HUP.
preload_app = True
# Django logs one JSON line per request (companion/logs.py); gunicorn's own
# access log is there for debugging the server itself: GUNICORN_ACCESS_LOG=-.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# Queued tasks (an alignment, a relink) run in `manage.py db_worker`, started
# beside the web workers and stopped with them (companion/task_worker.py);
# COMPANION_TASK_WORKER=off when workers run separately.
from companion import task_worker  # noqa: E402

_task_worker = None


def when_ready(server):
    global _task_worker
    # Django is loaded (preload_app): move what it made out of the collector's sight, so
    # the workers' collections never walk it (nor copy its pages) on every request's garbage.
    gc.collect()
    gc.freeze()
    if task_worker.wanted():
        _task_worker = task_worker.start(server.log)


def on_exit(server):
    task_worker.stop(_task_worker, server.log)
