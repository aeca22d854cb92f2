"""
benchmarks/load_faults.py at a small size: concurrent writers post notes through
gunicorn (production settings, a throw-away database) while workers are killed
or the database goes away, and every note must be stored exactly once.

Each run starts its own gunicorn and database, so these take a while (about
a minute each on 2 cores); the full-size figures are in docs/load-faults.md.
The PostgreSQL one runs when DATABASE_URL names PostgreSQL (CI's second pass)
or the local server answers.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from harness import postgres_reachable  # noqa: E402

SCRIPT = ROOT / "benchmarks" / "load_faults.py"
SMALL = ["--writers", "4", "--notes", "5", "--workers", "2"]
# Longer than Django's default 5 s SQLite timeout (so the defaults fail), shorter than ours (20 s).
HOLD = ["--hold", "6"]


def load_faults(*args):
    """Run the script; its exit status, its results and its output (for failure messages)."""
    done = subprocess.run([sys.executable, str(SCRIPT), "--json", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("JSON ")]
    assert lines, output
    return done.returncode, {result["fault"]: result for result in json.loads(lines[0][5:])}, output


def assert_every_note_once(result, output):
    assert result["acknowledged"] == result["intended"], output
    assert result["stored"] == result["intended"], output
    assert result["duplicates"] == 0 and result["acknowledged_missing"] == 0, output
    assert result["incomplete"] == 0, output
    # Anonymous readers' badges, written by each note's transaction, agree with the notes.
    assert result["badges_match"] and result["public_threads"] > 0, output
    assert result["healthz_after"] == 200 and result["workers_after"] == result["workers"], output


def test_sqlite_stores_every_note_once_under_load_worker_kills_and_a_long_write():
    """Tuned SQLite (WAL, 20 s timeout, IMMEDIATE): no 5xx; killed workers lose or double
    nothing; writers wait out another process's 6 s write transaction instead of failing."""
    status, results, output = load_faults(
        *SMALL, *HOLD, "--fault", "none", "--fault", "kill-worker", "--fault", "long-write"
    )
    assert status == 0, output
    for fault in ("none", "kill-worker", "long-write"):
        assert_every_note_once(results[fault], output)
        assert results[fault]["status_5xx"] == 0, output
    assert results["kill-worker"]["workers_killed"] == 3, output
    assert results["long-write"]["outage_seconds"] >= 6, output


def test_the_harness_catches_djangos_default_sqlite_settings():
    """On Django's SQLite defaults (rollback journal, 5 s timeout) the same long write
    makes the site's writers give up: 503 "database is locked", and the harness fails.

    Plain load alone fails them only rarely, and only far above this size
    (docs/load-faults.md), so the test uses the long write, which fails them every time.
    """
    status, results, output = load_faults(*SMALL, *HOLD, "--sqlite-defaults", "--fault", "long-write")
    assert status == 1, output
    result = results["long-write"]
    assert result["status_503"] > 0 and result["errors_during_outage"] > 0, output
    assert result["log_database_locked"] > 0, output
    assert "FAIL" in output
    # Retried with the same key, every note still lands once: the harness fails on the 5xx alone.
    assert_every_note_once(result, output)


def postgres_url():
    url = os.environ.get("DATABASE_URL", "")
    return url.startswith(("postgres://", "postgresql://"))


@pytest.mark.skipif(not (postgres_url() or postgres_reachable()),
                    reason="PostgreSQL is not reachable on 127.0.0.1:5432")
def test_postgres_survives_load_worker_kills_and_an_outage():
    """PostgreSQL: every note once under load and kills; during a 3 s outage the site
    answers 503 with Retry-After (never a bare 500), and afterwards serves fully with
    every acknowledged note kept."""
    status, results, output = load_faults(
        *SMALL, "--database", "postgres", "--outage", "3",
        "--fault", "none", "--fault", "kill-worker", "--fault", "db-outage",
    )
    assert status == 0, output
    for fault in ("none", "kill-worker", "db-outage"):
        assert_every_note_once(results[fault], output)
    assert results["none"]["status_5xx"] == 0, output
    assert results["kill-worker"]["status_5xx"] == 0, output
    outage = results["db-outage"]
    assert outage["errors_during_outage"] > 0, output
    assert outage["status_500"] == 0 and outage["status_503"] > 0, output
    assert outage["errors_after_outage"] == 0, output
