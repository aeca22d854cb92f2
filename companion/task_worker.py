"""
The task worker gunicorn starts beside its web workers (gunicorn.conf.py), so
that `make run` alone runs queued tasks (an alignment, a relink) outside any
request.

gunicorn's master starts `python -m companion.task_worker` when it is ready
and stops it when it exits. That small supervisor runs `manage.py db_worker`
(django-tasks-db) and starts it again if it exits by itself: db_worker gives
up on any database error other than "locked", so a PostgreSQL restart would
otherwise end background work until the next deploy. A task under way when
gunicorn stops gets STOP_GRACE seconds to finish; after that it is
interrupted (an alignment run is then marked failed, its timings untouched),
so stopping the server never leaves a process behind. Ctrl-C interrupts it
at once: the terminal's SIGINT and then on_exit's SIGTERM make two signals. On Linux both
processes are also told to stop if their parent dies without stopping them
(kill -9).

COMPANION_TASK_WORKER=off leaves it out, for sites that run their workers
separately (`manage.py db_worker`, as many as they like, on any machine that
reaches the database). None is started either when DJANGO_TASKS_BACKEND names
another backend than the database one: nothing would be queued for it.

This module runs in gunicorn's master and as the supervisor, before Django
is set up, so it uses nothing from Django.
"""

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
#: settings.TASKS' backend when DJANGO_TASKS_BACKEND is not set.
DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
#: Seconds a task under way gets to finish when the server stops.
STOP_GRACE = 10
#: Seconds before db_worker is started again after it exits by itself; doubled on each quick exit.
RESTART_DELAY, RESTART_DELAY_MAX = 2, 60
PR_SET_PDEATHSIG = 1


def wanted(environ=os.environ):
    """Whether gunicorn should start a worker: on unless turned off, and only for queued tasks."""
    switch = environ.get("COMPANION_TASK_WORKER", "on").strip().lower()
    if switch in {"off", "false", "0", "no"}:
        return False
    return environ.get("DJANGO_TASKS_BACKEND", DATABASE_BACKEND) == DATABASE_BACKEND


def start(log):
    """Start the supervised worker as a child of this process; returns the Popen."""
    process = subprocess.Popen(
        [sys.executable, "-m", "companion.task_worker"], cwd=BASE_DIR,
        preexec_fn=_stop_with_parent(os.getpid()),
    )
    log.info("Started the task worker: manage.py db_worker, supervised by pid %s", process.pid)
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


def supervise(command, restart_delay=RESTART_DELAY, restart_delay_max=RESTART_DELAY_MAX):
    """
    Run command; when it exits by itself, run it again after a pause. SIGTERM
    and SIGINT are passed on to it, and once it exits after one, so does this.
    """
    stopping = False
    child = None

    def pass_on(signum, frame):
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGINT, pass_on)
    delay = None
    while not stopping:
        began = time.monotonic()
        # A process group of its own: Ctrl-C at a terminal reaches it once, through this
        # supervisor, not twice (a second signal would cut short a task it could finish).
        child = subprocess.Popen(command, cwd=BASE_DIR, process_group=0,
                                 preexec_fn=_stop_with_parent(os.getpid()))
        if stopping:  # a signal came before child was set
            child.terminate()
        code = child.wait()
        if stopping:
            return code
        # A worker that ran a while had a passing fault (the database went away); one that
        # dies at once may stay broken (no migrations yet), so it is retried less and less often.
        ran_a_while = time.monotonic() - began > restart_delay_max
        delay = restart_delay if delay is None or ran_a_while else min(delay * 2, restart_delay_max)
        print(f"task worker: db_worker exited with {code}; starting it again in {delay} s",
              file=sys.stderr, flush=True)
        deadline = time.monotonic() + delay
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
    return 0


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


if __name__ == "__main__":
    sys.exit(supervise([
        sys.executable, str(BASE_DIR / "manage.py"), "db_worker",
        # DEBUG turns on db_worker's autoreloader, a process of its own that a stop would orphan.
        "--no-reload",
    ]))
