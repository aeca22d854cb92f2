"""
The task worker gunicorn starts beside its web workers (gunicorn.conf.py), so
that `make run` alone runs queued tasks (an alignment, a relink) outside any
request.

It is `manage.py db_worker` (django-tasks-db) as a child of gunicorn's
master: started when the master is ready, stopped when it exits. A task under
way when gunicorn stops gets STOP_GRACE seconds to finish; after that it is
interrupted (an alignment run is then marked failed, its timings untouched)
so stopping the server never leaves a process behind. On Linux the worker is
also told to stop if the master dies without running its exit hook (kill -9).

COMPANION_TASK_WORKER=off leaves it out, for sites that run their workers
separately (`manage.py db_worker`, as many as they like, on any machine that
reaches the database). None is started either when DJANGO_TASKS_BACKEND names
another backend than the database one: nothing would be queued for it.

This module is imported by gunicorn's master before Django is set up, so it
uses nothing from Django.
"""

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
#: settings.TASKS' backend when DJANGO_TASKS_BACKEND is not set.
DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
#: Seconds a task under way gets to finish when the server stops.
STOP_GRACE = 10
PR_SET_PDEATHSIG = 1


def wanted(environ=os.environ):
    """Whether gunicorn should start a worker: on unless turned off, and only for queued tasks."""
    switch = environ.get("COMPANION_TASK_WORKER", "on").strip().lower()
    if switch in {"off", "false", "0", "no"}:
        return False
    return environ.get("DJANGO_TASKS_BACKEND", DATABASE_BACKEND) == DATABASE_BACKEND


def start(log):
    """Start `manage.py db_worker` as a child of this process; returns the Popen."""
    command = [
        sys.executable, str(BASE_DIR / "manage.py"), "db_worker",
        # DEBUG turns on db_worker's autoreloader, a process of its own that a stop would orphan.
        "--no-reload",
    ]
    process = subprocess.Popen(command, cwd=BASE_DIR, preexec_fn=_stop_with_parent(os.getpid()))
    log.info("Started the task worker: manage.py db_worker (pid %s)", process.pid)
    return process


def stop(process, log, grace=STOP_GRACE):
    """Stop the worker: let a task under way finish within grace seconds, then interrupt it."""
    if process is None or process.poll() is not None:
        return
    # db_worker's first signal means "finish the current task, then exit"; a
    # second one interrupts the task (it is recorded as failed).
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        log.warning("The task worker is still busy after %s s; interrupting its task", grace)
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log.info("Stopped the task worker (pid %s)", process.pid)


def _stop_with_parent(parent):
    """A preexec_fn asking Linux to send SIGTERM to the child when its parent dies (else nothing)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # loaded here: a forked child should not dlopen
    except (OSError, AttributeError):
        return None

    def preexec():
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(0)

    return preexec
