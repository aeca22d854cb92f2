"""
Background tasks for real: with the database backend (the default when
serving) an alignment or a relink is only queued by the request, and
`manage.py db_worker` does it; gunicorn starts that worker beside its web
workers and takes it down with it. The rest of the suite runs tasks
immediately (tests/conftest.py).

The worker commits as it goes, so these tests use transactional databases.
"""

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from companion import task_worker
from alignment.runs import create_run, run_alignment
from alignment.tasks import start_alignment
from alignment.models import AlignmentRun
from episodes.models import Episode, Mention
from tests.factories import make_episode, make_sentences, make_term
from tests.test_aligning import TEXTS, TOLERANCE, recording, timings  # noqa: F401  (recording: a fixture)
from tests.test_project import clean_environment

Status = AlignmentRun.Status
DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
FINISHED = ("SUCCESSFUL", "FAILED")
BASE_DIR = Path(django_settings.BASE_DIR)


@pytest.fixture
def queued(settings):
    """Tasks go to the database queue, as when serving."""
    settings.TASKS = {"default": {"BACKEND": DATABASE_BACKEND}}


@pytest.fixture
def run_worker():
    """`manage.py db_worker --batch`: runs what is queued, then returns; leaves pytest's signals and log levels alone."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    loggers = [logging.getLogger(name) for name in ("django.tasks", "django_tasks_db")]
    levels = [logger.level for logger in loggers]

    def run():
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0)

    yield run
    for sig, handler in handlers.items():
        signal.signal(sig, handler)
    for logger, level in zip(loggers, levels):
        logger.setLevel(level)


@pytest.fixture
def episode():
    episode = make_episode(title="The Great Purges", slug="138-the-great-purges")
    make_sentences(episode, *TEXTS)
    episode.save_timings([(0.0, 1.0, []), (2.0, 3.0, []), (4.0, 5.0, [])], Episode.Timing.ESTIMATED)
    return episode


@pytest.mark.django_db(transaction=True)
def test_start_alignment_only_queues_and_the_worker_aligns(queued, run_worker, episode, recording):
    path, truth = recording
    before = timings(episode)
    run = start_alignment(episode, path)
    run.refresh_from_db()
    assert run.status == Status.QUEUED and run.started is None
    (task,) = DBTaskResult.objects.all()
    assert (task.status, task.task_path, task.args_kwargs["args"]) == ("READY", "alignment.tasks.align_episode", [run.pk])
    assert timings(episode) == before

    run_worker()

    run.refresh_from_db()
    task.refresh_from_db()
    assert run.status == Status.DONE, run.message
    assert task.status == "SUCCESSFUL" and task.return_value == Status.DONE
    assert run.created <= run.started <= run.finished and run.result["compute_seconds"] > 0
    starts = [start for start, *_ in timings(episode)]
    assert all(abs(start - true) <= TOLERANCE for start, true in zip(starts, truth)), (starts, truth)
    episode.refresh_from_db()
    assert episode.timing == Episode.Timing.ALIGNED


@pytest.mark.django_db(transaction=True)
def test_the_admin_queues_an_upload_and_the_run_page_says_it_waits(queued, run_worker, admin_client, episode, recording):
    align_url = reverse("admin:episodes_episode_align", args=[episode.pk])
    page = admin_client.get(align_url).content.decode()
    assert "only queues the run" in page and "runs background tasks immediately" not in page
    upload = SimpleUploadedFile("narration.wav", recording[0].read_bytes(), content_type="audio/wav")
    response = admin_client.post(align_url, {"upload": upload, "keep_manual": "on"}, follow=True)
    run = AlignmentRun.objects.get()
    assert run.status == Status.QUEUED
    assert DBTaskResult.objects.get().status == "READY"
    page = response.content.decode()
    assert "Alignment queued." in page and "waiting for a background task worker" in page
    assert '<meta http-equiv="refresh" content="5">' in page

    run_worker()

    run.refresh_from_db()
    assert run.status == Status.DONE, run.message
    page = admin_client.get(reverse("admin:alignment_alignmentrun_change", args=[run.pk])).content.decode()
    assert "3 sentences timed" in page and 'http-equiv="refresh"' not in page


@pytest.mark.django_db(transaction=True)
def test_the_relink_action_is_queued_and_done_by_the_worker(queued, run_worker, admin_client):
    episode = make_episode(slug="138-the-great-purges")
    make_sentences(episode, "The NKVD arrested thousands.")
    make_term("NKVD", definition="The Soviet secret police.")
    response = admin_client.post(
        reverse("admin:episodes_episode_changelist"),
        {"action": "relink", "_selected_action": [episode.pk]},
    )
    assert response.status_code == 302
    task = DBTaskResult.objects.get()
    assert task.status == "READY" and task.task_path == "episodes.tasks.relink_episodes"
    assert not Mention.objects.exists()

    run_worker()

    task.refresh_from_db()
    assert task.status == "SUCCESSFUL", task.traceback
    assert task.return_value == {"138-the-great-purges": 1}
    assert Mention.objects.filter(sentence__episode=episode, term__name="NKVD").count() == 1


@pytest.mark.django_db
def test_an_alignment_interrupted_by_the_worker_stopping_fails_and_changes_nothing(episode, recording):
    """A stopping db_worker interrupts its task with SystemExit (its signal handler calls sys.exit)."""
    run = create_run(episode, recording[0])
    before = timings(episode)

    def interrupt(fraction, stage):
        if stage == "Aligning":
            raise SystemExit(1)

    with pytest.raises(SystemExit):
        run_alignment(run, echo=interrupt)
    run.refresh_from_db()
    assert run.status == Status.FAILED and "Interrupted" in run.message
    assert timings(episode) == before
    # The episode is free to be aligned again at once.
    assert create_run(episode, recording[0]).status == Status.QUEUED


@pytest.mark.parametrize(
    "environ, wanted",
    [
        ({}, True),
        ({"DJANGO_TASKS_BACKEND": DATABASE_BACKEND}, True),
        ({"COMPANION_TASK_WORKER": "off"}, False),
        ({"COMPANION_TASK_WORKER": "OFF "}, False),
        ({"COMPANION_TASK_WORKER": "on"}, True),
        # Nothing would ever be queued for it.
        ({"DJANGO_TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}, False),
    ],
)
def test_gunicorn_starts_a_worker_unless_told_not_to(environ, wanted):
    assert task_worker.wanted(environ) is wanted


# --- gunicorn ------------------------------------------------------------------------------------


def children(pid):
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def command_line(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def running(pid):
    """Alive and not a zombie (a zombie orphan waits for PID 1, which may never reap it here)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s")


def child_running(parent, what):
    """The pid of parent's child whose command line has what, or None."""
    return next((pid for pid in children(parent) if what in command_line(pid)), None)


MANAGE = [sys.executable, str(BASE_DIR / "manage.py")]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Production settings on a migrated SQLite file, for processes of their own: (env, database path)."""
    folder = tmp_path_factory.mktemp("served")
    database = folder / "db.sqlite3"
    env = clean_environment(
        DATABASE_URL=f"sqlite:///{database}", DJANGO_DEBUG="False", DJANGO_SECRET_KEY="w" * 50,
        DJANGO_SECURE_SSL_REDIRECT="False", DJANGO_STATIC_ROOT=str(folder / "static"),
        DJANGO_MEDIA_ROOT=str(folder / "media"),
    )
    for name in ("DJANGO_TASKS_BACKEND", "COMPANION_TASK_WORKER"):
        env.pop(name, None)
    subprocess.run([*MANAGE, "migrate", "-v", "0"], env=env, cwd=BASE_DIR, check=True)
    return env, database


def enqueue(env, task, *args):
    """Queue task (a dotted path) in the served database from a process of its own; returns its id."""
    module, name = task.rsplit(".", 1)
    code = f"from {module} import {name}; print({name}.enqueue(*{list(args)!r}).id)"
    return subprocess.run([*MANAGE, "shell", "-v", "0", "-c", code], env=env, cwd=BASE_DIR,
                          check=True, capture_output=True, text=True).stdout.strip()


def task_status(database, task_id):
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT status, exception_class_path FROM django_tasks_database_dbtaskresult WHERE id = ?",
                         [uuid.UUID(task_id).hex]).fetchone()
    return row or (None, None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_gunicorn_runs_a_task_worker_and_takes_it_down_with_it(served, tmp_path):
    env, database = served
    with open(tmp_path / "gunicorn.log", "wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "companion.wsgi", "--config", "gunicorn.conf.py",
             "--bind", "127.0.0.1:0", "--workers", "1"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        supervisor = wait_for(lambda: child_running(server.pid, "companion.task_worker"), 60,
                              "gunicorn's master started no task worker")
        first = wait_for(lambda: child_running(supervisor, "db_worker"), 60, "no db_worker started")
        # A worker that dies (as db_worker does when PostgreSQL goes away) is started again.
        os.kill(first, signal.SIGKILL)
        worker = wait_for(lambda: (pid := child_running(supervisor, "db_worker")) != first and pid, 30,
                          "db_worker was not started again")
        task_id = enqueue(env, "episodes.tasks.relink_episodes", [])
        finished = wait_for(lambda: (status := task_status(database, task_id)[0]) in FINISHED and status,
                            60, "the queued task was not run")
        assert finished == "SUCCESSFUL"
    finally:
        server.send_signal(signal.SIGINT)  # what Ctrl-C sends gunicorn
        server.wait(timeout=60)
    log = (tmp_path / "gunicorn.log").read_text()
    assert server.returncode == 0, log
    assert "Started the task worker" in log and "Stopped the task worker" in log  # by on_exit
    assert "starting it again" in log
    for pid in (supervisor, worker):
        wait_for(lambda: not running(pid), 15, "the task worker outlived gunicorn")


@pytest.mark.parametrize("seconds, grace, outcome", [(3, 20, ("SUCCESSFUL", "")), (60, 1, ("FAILED", "builtins.SystemExit"))])
def test_stopping_lets_a_task_finish_within_the_grace_and_interrupts_it_after(served, seconds, grace, outcome):
    env, database = served
    supervisor = subprocess.Popen([sys.executable, "-m", "companion.task_worker"], cwd=BASE_DIR, env=env)
    try:
        task_id = enqueue(env, "tests.worker_tasks.hold", seconds)
        wait_for(lambda: task_status(database, task_id)[0] == "RUNNING", 60, "the task was not started")
        began = time.monotonic()
        task_worker.stop(supervisor, logging.getLogger(__name__), grace=grace)
        assert supervisor.returncode is not None
        assert time.monotonic() - began < grace + 6
        assert task_status(database, task_id) == outcome
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
