"""
Load and fault test: writers post notes through gunicorn; each must be stored once.

Concurrent writers post notes while a fault happens, then the database is
asked whether every note was stored exactly once.

Each writer is a thread with its own account, signed in through the real login
form (CSRF cookie and token). For every note it loads the new-note form (for
the CSRF token and the form's idempotency key), posts a body carrying a unique
marker, and counts the note acknowledged on the 302 that follows a save. A
connection error or a 503 is retried with the same key (after the 503's
Retry-After), so a retried POST can never make a second note.

Faults, each a phase against a fresh gunicorn on the same database:
  none         just the load;
  kill-worker  kill -9 a gunicorn worker (a child of the master) at 25 %, 50 %
               and 75 % of the notes acknowledged, while the others post;
  db-outage    PostgreSQL only: at a third of the notes, a TCP proxy between
               gunicorn and PostgreSQL drops every connection and refuses new
               ones for --outage seconds (or, with --real-restart, the
               PostgreSQL cluster is restarted with pg_ctlcluster);
  long-write   SQLite only: at a third of the notes, another process holds a
               write transaction for --hold seconds (8), as `manage.py align`
               or a feed import does while it rewrites an episode.

--sqlite-defaults runs on Django's own SQLite settings (DJANGO_SQLITE_DEFAULTS=1:
rollback journal, 5 s timeout, deferred transactions) to show what the tuned
ones buy: with long-write they fail (503 "database is locked"), and so they
do, rarely, under plain load with many workers (docs/load-faults.md).

Invariants, checked in the database by each note's marker: every marker
stored once (no duplicates, no acknowledged note missing), every stored note
complete (body_html rendered, anchored to sentences), the note badges stored
for anonymous readers equal to a fresh count, no 5xx except the 503s
of a database outage, the site healthy afterwards (healthz 200, the master
back to --workers workers). The script prints a table and exits 1 when an
invariant breaks. From the repository root:

    .venv/bin/python benchmarks/load_faults.py                          # SQLite, 16 writers x 50 notes, 4 workers
    .venv/bin/python benchmarks/load_faults.py --fault kill-worker
    .venv/bin/python benchmarks/load_faults.py --fault long-write --sqlite-defaults   # fails
    .venv/bin/python benchmarks/load_faults.py --database postgres --fault none --fault kill-worker --fault db-outage
    .venv/bin/python benchmarks/load_faults.py --database postgres --fault db-outage --real-restart

Results: docs/load-faults.md. tests/test_load_faults.py runs it at a small size.
"""

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from harness import (  # noqa: E402
    PYTHON, ROOT, Server, drop_postgres_database, environment, free_port, manage,
    recreate_postgres_database,
)

EPISODE = "138-the-great-purges"
PASSWORD = "load-writer-password-1938"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY_INPUT = re.compile(r'name="idempotency_key" value="([^"]+)"')
MARKER = re.compile(r"LF-[0-9a-f]{8}-\d{2}-\d{3}")
KILL_AT = (0.25, 0.5, 0.75)
# A Redis database of the script's own: the test suite uses 1, load_benchmark.py 3.
REDIS_URL = "redis://127.0.0.1:6379/4"
OUTAGE_AT = 1 / 3


# ---- a writer ------------------------------------------------------------------

class Stats:
    """What every writer saw, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.events = []  # (started, ended, what): every 5xx and connection error
        self.acknowledged = set()
        self.given_up = []

    def record(self, started, what):
        with self.lock:
            if isinstance(what, int):
                self.statuses[what] += 1
                if what < 500:
                    return
            self.events.append((started, time.monotonic(), what))

    def ack(self, marker):
        with self.lock:
            self.acknowledged.add(marker)


class Writer:
    """One listener with one session: cookies kept by hand, one connection per request
    (gunicorn's sync workers close it after each response anyway)."""

    def __init__(self, port, stats, number):
        self.port = port
        self.stats = stats
        self.number = number
        self.cookies = {}

    def request(self, method, path, fields=None):
        """(status, headers, body); connection errors are raised as OSError."""
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://127.0.0.1:{self.port}{path}"
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.stats.record(started, f"connection error ({type(error).__name__}) on {method}")
            raise OSError(str(error)) from error
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        self.stats.record(started, response.status)
        return response.status, response, content.decode("utf-8", "replace")

    def pause(self, response):
        """Honour Retry-After (a 503 sends it), else a short pause; never more than 30 s."""
        retry_after = response.getheader("Retry-After") if response is not None else None
        wait = float(retry_after) if retry_after and retry_after.isdigit() else 0.2
        time.sleep(min(wait, 30) + random.uniform(0, 0.2))

    def until_answered(self, method, path, fields=None, deadline=None):
        """Retry connection errors and 5xx, the same request each time."""
        while True:
            try:
                status, response, body = self.request(method, path, fields)
            except OSError:
                status, response, body = None, None, ""
            if status is not None and status < 500:
                return status, response, body
            if time.monotonic() > deadline:
                return status, response, body
            self.pause(response)

    def log_in(self, username, deadline):
        status, _, page = self.until_answered("GET", "/accounts/login/", deadline=deadline)
        token = CSRF_INPUT.search(page)
        if status != 200 or not token:
            raise RuntimeError(f"{username}: the login form answered {status}")
        fields = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)}
        status, response, _ = self.until_answered("POST", "/accounts/login/", fields, deadline=deadline)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{username}: logging in answered {status}")

    def post_note(self, marker, number, sentence, deadline):
        """Load the form, post the note; retried with the same key until a 302 or the deadline."""
        form_path = f"/episodes/{EPISODE}/notes/new/?paragraph=1"
        status, _, page = self.until_answered("GET", form_path, deadline=deadline)
        token, key = CSRF_INPUT.search(page), KEY_INPUT.search(page)
        if status != 200 or not token or not key:
            self.stats.given_up.append((marker, f"the form answered {status}"))
            return
        fields = {
            "csrfmiddlewaretoken": token.group(1), "idempotency_key": key.group(1),
            "first": str(sentence), "last": str(sentence),
            "body": f"Note {number} from writer {self.number}, *under load*: {marker}",
        }
        status, _, _ = self.until_answered(
            "POST", f"/episodes/{EPISODE}/notes/new/", fields, deadline=deadline
        )
        if status == 302:
            self.stats.ack(marker)
        else:
            self.stats.given_up.append((marker, f"posting answered {status}"))

    def run(self, run_id, notes, sentences, deadline):
        for number in range(notes):
            if time.monotonic() > deadline:
                self.stats.given_up.append((f"{run_id}-{self.number:02d}-{number:03d}", "out of time"))
                continue
            marker = f"LF-{run_id}-{self.number:02d}-{number:03d}"
            self.post_note(marker, number, sentences[(self.number + number) % len(sentences)], deadline)


# ---- faults --------------------------------------------------------------------

class Proxy:
    """A TCP proxy to PostgreSQL that can go down: it drops every connection and
    closes its listening socket (new connections are refused), then comes back."""

    def __init__(self, target_port=5432):
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self.lock = threading.Lock()
        self.sockets = set()
        self.running = True
        self.listener = None
        self.listen()
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def listen(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self.listener = listener

    def accept_loop(self):
        while self.running:
            listener = self.listener
            if listener is None:
                time.sleep(0.05)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self.lock:
                self.sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(source, sink), daemon=True).start()

    def pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self.close(sock)

    def close(self, sock):
        with self.lock:
            self.sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def outage(self, seconds):
        listener, self.listener = self.listener, None
        listener.close()
        with self.lock:
            live = list(self.sockets)
        for sock in live:
            self.close(sock)
        time.sleep(seconds)
        self.listen()

    def stop(self):
        self.running = False
        if self.listener:
            self.listener.close()
        with self.lock:
            live = list(self.sockets)
        for sock in live:
            self.close(sock)


def redis_reachable(url):
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "redis":
        return False
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=1).close()
        return True
    except OSError:
        return False


def restart_postgres():
    """The real thing: restart the local cluster (Debian's pg_ctlcluster)."""
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                   check=True, capture_output=True)


def wait_for_acks(stats, target, done):
    while len(stats.acknowledged) < target and not done.is_set():
        time.sleep(0.02)
    return not done.is_set()


def kill_workers(server, stats, total, done, record):
    for fraction in KILL_AT:
        if not wait_for_acks(stats, int(total * fraction), done):
            return
        pids = server.worker_pids()
        if pids:
            pid = random.choice(pids)
            os.kill(pid, signal.SIGKILL)
            record["killed"].append(pid)


def database_outage(options, proxy, stats, total, done, record):
    if not wait_for_acks(stats, int(total * OUTAGE_AT), done):
        return
    started = time.monotonic()
    if options.real_restart:
        restart_postgres()
    else:
        proxy.outage(options.outage)
    record["outage"] = (started, time.monotonic())


def long_write(options, database_file, stats, total, done, record):
    """SQLite: one long write transaction, as `manage.py align` or a feed import holds
    while it replaces an episode's timings; the site's writers must wait it out."""
    if not wait_for_acks(stats, int(total * OUTAGE_AT), done):
        return
    connection = sqlite3.connect(database_file, timeout=60, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        connection.execute(
            "UPDATE episodes_sentence SET start = start WHERE episode_id = "
            "(SELECT id FROM episodes_episode WHERE slug = ?)", [EPISODE]
        )
        time.sleep(options.hold)
        connection.execute("COMMIT")
        record["outage"] = (started, time.monotonic())
    finally:
        connection.close()


# ---- the database, from inside Django --------------------------------------------

def inspect_notes(run_id):
    """Run in a subprocess with the server's environment: every load note, as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "companion.settings")
    django.setup()
    from notes.models import Note

    notes = []
    for note in Note.objects.filter(body__contains=f"LF-{run_id}-").select_related("author"):
        marker = MARKER.search(note.body).group(0)
        notes.append({
            "marker": marker,
            "writer": note.author.username,
            "complete": bool(
                marker in note.body_html and "<em>under load</em>" in note.body_html
                and note.first_sentence_id and note.last_sentence_id
                and note.position_start <= note.position_end and note.idempotency_key
            ),
        })
    # The badges anonymous readers see are written by each note's transaction
    # (notes/models.py): after concurrent posts they must equal a fresh count.
    from django.contrib.auth.models import AnonymousUser

    from episodes.models import Episode

    episode = Episode.objects.get(slug=EPISODE)
    counted = Note.objects.filter(episode=episode).visible_to(AnonymousUser()).badge_counts()
    badges = {"stored": dict(episode.public_note_counts), "counted": counted}
    print(json.dumps({"notes": notes, "badges": {key: sorted(value.items()) for key, value in badges.items()}}))


def make_writers(count):
    """Run in a subprocess: the writers' accounts and the sentences they can note."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "companion.settings")
    django.setup()
    from django.contrib.auth import get_user_model

    from episodes.models import Episode

    User = get_user_model()
    for number in range(count):
        username = f"loadwriter{number:02d}"
        if not User.objects.filter(username=username).exists():
            User.objects.create_user(username, f"{username}@example.org", PASSWORD)
    episode = Episode.objects.get(slug=EPISODE)
    print(json.dumps(list(episode.sentences.filter(paragraph=1).values_list("position", flat=True))))


def in_django(env, function, argument):
    done = subprocess.run([PYTHON, __file__, f"--{function}", str(argument)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"--{function} failed:\n{done.stderr}")
    return json.loads(done.stdout)


# ---- one phase -------------------------------------------------------------------

def run_phase(options, fault, env, workdir, sentences):
    run_id = uuid.uuid4().hex[:8]
    proxy = None
    phase_env = dict(env)
    if fault == "db-outage" and not options.real_restart:
        proxy = Proxy()
        phase_env["DATABASE_URL"] = env["DATABASE_URL"].replace(":5432/", f":{proxy.port}/")
    log_path = workdir / f"gunicorn-{fault}.log"
    server = Server(phase_env, options.workers, log_path=log_path)
    stats = Stats()
    record = {"killed": [], "outage": None}
    started = time.monotonic()
    deadline = started + options.timeout
    try:
        writers = [Writer(server.port, stats, number) for number in range(options.writers)]
        for writer in writers:
            writer.log_in(f"loadwriter{writer.number:02d}", deadline)
        total = options.writers * options.notes
        done = threading.Event()
        threads = [threading.Thread(target=w.run, args=(run_id, options.notes, sentences, deadline))
                   for w in writers]
        if fault == "kill-worker":
            threads.append(threading.Thread(target=kill_workers, args=(server, stats, total, done, record)))
        elif fault == "db-outage":
            threads.append(threading.Thread(
                target=database_outage, args=(options, proxy, stats, total, done, record)))
        elif fault == "long-write":
            threads.append(threading.Thread(
                target=long_write, args=(options, workdir / "db.sqlite3", stats, total, done, record)))
        for thread in threads:
            thread.start()
        for thread in threads[: options.writers]:
            thread.join()
        done.set()
        for thread in threads[options.writers:]:
            thread.join()
        elapsed = time.monotonic() - started
        health = healthz(server)
        workers_after = wait_for_workers(server, options.workers, record["killed"])
    finally:
        server.stop()
        if proxy:
            proxy.stop()
    inspected = in_django(env, "inspect", run_id)
    log = log_path.read_text(errors="replace")
    return summarise(options, fault, stats, record, inspected, elapsed, health, workers_after, log)


def healthz(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def wait_for_workers(server, workers, killed):
    """The master respawns killed workers: wait (up to 30 s) for the full count, none of them killed."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = server.worker_pids()
        if len(pids) == workers and not set(pids) & set(killed):
            return len(pids)
        time.sleep(0.2)
    return len(server.worker_pids())


def summarise(options, fault, stats, record, inspected, elapsed, health, workers_after, log):
    stored = inspected["notes"]
    counts = Counter(note["marker"] for note in stored)
    total = options.writers * options.notes
    duplicates = sum(count - 1 for count in counts.values() if count > 1)
    missing_acknowledged = sorted(stats.acknowledged - set(counts))
    incomplete = sum(1 for note in stored if not note["complete"])
    wrong_writer = sum(
        1 for note in stored if note["writer"] != f"loadwriter{note['marker'].split('-')[2]}"
    )
    server_errors = sum(n for status, n in stats.statuses.items() if status >= 500)
    connection_errors = sum(1 for *_, what in stats.events if isinstance(what, str))
    # A POST cut off (its worker killed) may or may not have saved its note: the retry decides.
    posts_cut_off = sum(1 for *_, what in stats.events if isinstance(what, str) and what.endswith("POST"))
    outage = record["outage"]
    during = after = 0
    if outage:
        for begun, ended, what in stats.events:
            if begun >= outage[1]:
                after += 1  # a request begun once the database was back
            elif ended >= outage[0]:
                during += 1
    result = {
        "database": options.database + (" (Django defaults)" if options.sqlite_defaults else "")
                    + (" + Redis" if options.redis_used else ""),
        "fault": fault,
        "writers": options.writers, "notes": options.notes, "workers": options.workers,
        "intended": total,
        "acknowledged": len(stats.acknowledged),
        "stored": len(counts),
        "duplicates": duplicates,
        "acknowledged_missing": len(missing_acknowledged),
        "incomplete": incomplete + wrong_writer,
        "badges_match": inspected["badges"]["stored"] == inspected["badges"]["counted"],
        "public_threads": sum(count for _, count in inspected["badges"]["counted"]),
        "status_5xx": server_errors,
        "status_500": stats.statuses.get(500, 0),
        "status_503": stats.statuses.get(503, 0),
        "connection_errors": connection_errors,
        "posts_cut_off": posts_cut_off,
        "errors_during_outage": during,  # or during the long write
        "errors_after_outage": after,
        "outage_seconds": round(outage[1] - outage[0], 1) if outage else None,
        "workers_killed": len(record["killed"]),
        "workers_after": workers_after,
        "healthz_after": health,
        "given_up": len(stats.given_up),
        "seconds": round(elapsed, 1),
        "log_database_locked": log.count("database is locked"),
        "requests": sum(stats.statuses.values()),
    }
    problems = []
    if duplicates:
        problems.append(f"{duplicates} duplicated notes")
    if missing_acknowledged:
        problems.append(f"{len(missing_acknowledged)} acknowledged notes missing, e.g. {missing_acknowledged[:3]}")
    if result["incomplete"]:
        problems.append(f"{result['incomplete']} stored notes incomplete (body_html, anchor or author)")
    if not result["badges_match"]:
        problems.append(f"note badges stored as {inspected['badges']['stored']}, "
                        f"but the notes count {inspected['badges']['counted']}")
    if len(stats.acknowledged) != total:
        problems.append(f"{total - len(stats.acknowledged)} of {total} notes never acknowledged")
    if fault == "db-outage":
        if result["status_500"]:
            problems.append(f"{result['status_500']} bare 500s (a database outage should answer 503)")
        if other := server_errors - result["status_500"] - result["status_503"]:
            problems.append(f"{other} other 5xx")
        if not during:
            problems.append("no errors seen during the outage (did the fault happen?)")
        if after:
            problems.append(f"{after} errors after the database came back")
    elif server_errors:
        problems.append(f"{server_errors} responses with status 5xx "
                        f"({result['log_database_locked']} 'database is locked' in the server log)")
    if fault == "kill-worker" and len(record["killed"]) != len(KILL_AT):
        problems.append(f"killed {len(record['killed'])} workers, meant {len(KILL_AT)}")
    if health != 200:
        problems.append(f"/healthz answered {health} afterwards")
    if workers_after != options.workers:
        problems.append(f"{workers_after} workers afterwards, not {options.workers}")
    result["problems"] = problems
    return result


COLUMNS = [
    ("Database", "database"), ("Fault", "fault"), ("Notes sent", "intended"),
    ("Acknowledged", "acknowledged"), ("Stored", "stored"), ("Duplicates", "duplicates"),
    ("Ack'd but missing", "acknowledged_missing"), ("Incomplete", "incomplete"),
    ("5xx", "status_5xx"), ("Connection errors", "connection_errors"),
    ("Errors during outage/long write", "errors_during_outage"), ("Errors after", "errors_after_outage"),
    ("Workers killed", "workers_killed"), ("healthz after", "healthz_after"), ("Seconds", "seconds"),
]


def table(results):
    lines = ["| " + " | ".join(title for title, _ in COLUMNS) + " |",
             "|" + "|".join("---" if key in ("database", "fault") else "---:" for _, key in COLUMNS) + "|"]
    for result in results:
        cells = ["–" if result[key] is None else str(result[key]) for _, key in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--notes", type=int, default=50, help="notes per writer")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--fault", action="append", choices=["none", "kill-worker", "db-outage", "long-write"],
                        help="repeat for several phases on one database (default: none)")
    parser.add_argument("--sqlite-defaults", action="store_true",
                        help="Django's default SQLite settings (DJANGO_SQLITE_DEFAULTS=1), to show they fail")
    parser.add_argument("--outage", type=float, default=5, help="seconds the proxy stays down")
    parser.add_argument("--hold", type=float, default=8,
                        help="seconds the long-write fault holds SQLite's write lock")
    parser.add_argument("--real-restart", action="store_true",
                        help="db-outage restarts the PostgreSQL cluster instead of using the proxy")
    parser.add_argument("--redis", default=REDIS_URL,
                        help="with --database postgres: cache and rate-limit store, as in production "
                             "(used when reachable; 'none' for without)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a phase may take")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--inspect", help=argparse.SUPPRESS)
    parser.add_argument("--make-writers", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    # A plain kill still stops gunicorn and drops the database (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if options.inspect:
        return inspect_notes(options.inspect)
    if options.make_writers:
        return make_writers(options.make_writers)
    faults = options.fault or ["none"]
    if "db-outage" in faults and options.database != "postgres":
        parser.error("--fault db-outage needs --database postgres")
    if "long-write" in faults and options.database != "sqlite":
        parser.error("--fault long-write is for --database sqlite")
    if options.sqlite_defaults and options.database != "sqlite":
        parser.error("--sqlite-defaults is for --database sqlite")

    database = f"companion_loadfaults_{os.getpid()}" if options.database == "postgres" else None
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        overrides = {
            # Every note goes straight to the page: no moderation queue to count around.
            "DJANGO_NOTES_HELD_FOR_NEW_ACCOUNTS": "0",
            "DJANGO_RATE_LIMIT_NOTE": "1000000/60",
            "DJANGO_DATABASE_RETRY_AFTER": "1",
        }
        if options.sqlite_defaults:
            overrides["DJANGO_SQLITE_DEFAULTS"] = "1"
        if database:
            recreate_postgres_database(database)
        try:
            redis_url = options.redis if database and redis_reachable(options.redis) else None
            options.redis_used = bool(redis_url)
            env = environment(workdir, postgres=database, redis_url=redis_url, **overrides)
            manage(env, "migrate", "--noinput")
            manage(env, "load_demo", "--no-narration")
            manage(env, "collectstatic", "--noinput")
            sentences = in_django(env, "make-writers", options.writers)
            for fault in faults:
                results.append(run_phase(options, fault, env, workdir, sentences))
        finally:
            if database:
                drop_postgres_database(database)

    print(f"\n{options.writers} writers x {options.notes} notes, gunicorn {options.workers} workers\n")
    print(table(results))
    failed = False
    for result in results:
        for problem in result["problems"]:
            failed = True
            print(f"FAIL [{result['database']}, {result['fault']}]: {problem}")
    if options.json:
        print("JSON " + json.dumps(results))
    if failed:
        sys.exit(1)
    print("All invariants held.")


if __name__ == "__main__":
    main()
