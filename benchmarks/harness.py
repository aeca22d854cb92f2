"""
What the load scripts share: a production-like environment for a throw-away
database, and gunicorn started on a free loopback port.

The environment drops every DJANGO_* variable the caller had (a test run's
DJANGO_ALLOW_ASYNC_UNSAFE, a developer's DJANGO_DEBUG) and sets production
settings: DEBUG off, a secret key, manifest static files, plain HTTP on
loopback. The database is a new SQLite file in the work folder, or a new
PostgreSQL database (dropped again by drop_postgres_database).
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_SERVER = "postgres://postgres@127.0.0.1:5432/"
PR_SET_PDEATHSIG = 1


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def load_demo_site(env):
    """Migrate the throw-away database, load the demo (no narration) and collect static files."""
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo", "--no-narration")
    manage(env, "collectstatic", "--noinput")


def postgres_reachable(server=PG_SERVER):
    try:
        import psycopg

        with psycopg.connect(server + "postgres", connect_timeout=2):
            return True
    except Exception:
        return False


def recreate_postgres_database(name, server=PG_SERVER):
    import psycopg

    with psycopg.connect(server + "postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")


def drop_postgres_database(name, server=PG_SERVER):
    import psycopg

    with psycopg.connect(server + "postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def environment(workdir, *, postgres=None, redis_url=None, **overrides):
    """Production settings for a server on loopback; SQLite in workdir unless postgres names a database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DJANGO_DEBUG="False",
        DJANGO_SECRET_KEY="load-benchmark-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_COOKIES="False",
        DJANGO_SECURE_SSL_REDIRECT="False",
        DJANGO_HSTS_SECONDS="0",
        DJANGO_STATIC_ROOT=str(workdir / "static"),
        DJANGO_MEDIA_ROOT=str(workdir / "media"),
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        DJANGO_LOG_LEVEL="WARNING",
        # Generous limits: the scripts measure serving, not the rate limiter.
        DJANGO_RATE_LIMIT_LOGIN="1000000/60",
        # No task worker beside gunicorn (companion/task_worker.py): the master's
        # children are then exactly its web workers, which the fault test counts.
        COMPANION_TASK_WORKER="off",
    )
    if postgres:
        env["DATABASE_URL"] = PG_SERVER + postgres
    else:
        env["DATABASE_URL"] = f"sqlite:///{workdir / 'db.sqlite3'}"
    if redis_url:
        env["REDIS_URL"] = redis_url
    else:
        env.pop("REDIS_URL", None)
    env.update(overrides)
    return env


def stop_with_parent():
    """On Linux, have the child sent SIGTERM if this script dies, so no server outlives it."""
    parent = os.getpid()

    def preexec():
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            return
        if os.getppid() != parent:  # the parent died before prctl
            os._exit(1)

    return preexec


class Server:
    """
    gunicorn with the project's gunicorn.conf.py; stderr to log_path when given.
    app names another WSGI application under the same settings (a module in
    benchmarks/, e.g. the bare reference app), answering ready_path once up.
    """

    def __init__(self, env, workers, log_path=None, app="companion.wsgi", ready_path="/healthz"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "ab") if log_path else None
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", app, "--config", "gunicorn.conf.py",
             "--pythonpath", str(ROOT / "benchmarks"),
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=self.log or subprocess.DEVNULL, preexec_fn=stop_with_parent(),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + ready_path, timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not start within 30 s")

    def get(self, path, **headers):
        request = urllib.request.Request(self.url + path, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read(), response.headers

    def worker_pids(self):
        """gunicorn's workers: the master's children that are forks of it (the
        task worker gunicorn.conf.py starts is a child too, but another program)."""
        master = self.process.pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
            command = Path(f"/proc/{master}/cmdline").read_bytes()
        except FileNotFoundError:
            return []
        pids = []
        for pid in children:
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes() == command:
                    pids.append(int(pid))
            except FileNotFoundError:  # it just exited
                pass
        return pids

    def cpu_seconds(self):
        """CPU time of the master and its workers so far, recycled workers included."""
        total = 0
        for pid, own in [(self.process.pid, True), *((pid, False) for pid in self.worker_pids())]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:  # it just exited: the master's cutime has it
                continue
            # utime, stime, and for the master, cutime and cstime: the workers that have exited.
            total += sum(int(value) for value in fields[11:15 if own else 13])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        if self.log:
            self.log.close()
