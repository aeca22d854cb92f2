"""
Requests per second through gunicorn on loopback, measured with wrk, side by side.

Rows, in one run against the same demo database (episode 138, loaded without
narration into a throw-away SQLite file, or PostgreSQL + Redis with --scale-out):

- a static file of exactly the episode page's size, served by whitenoise (the yardstick);
- the episode page, anonymous, from the page cache (episodes/page_cache.py);
- the episode page, anonymous, rendered afresh each time (DJANGO_PAGE_CACHE=off);
- the episode page revalidated with If-None-Match (a 304);
- the search page for "Yezhov".

Each row gets a warm-up, then wrk -t2 -c16 for --seconds with --latency, so p50
and p99 come from wrk's own histogram. gunicorn runs production settings
(DEBUG off, manifest static files) with --workers (default: 2, one per core here).
wrk and gunicorn share the machine's cores, which is the same for every row:
compare ratios, not absolute figures. From the repository root:

    .venv/bin/python benchmarks/load_benchmark.py             # ~2 min
    .venv/bin/python benchmarks/load_benchmark.py --seconds 3 # quick look
    .venv/bin/python benchmarks/load_benchmark.py --scale-out # PostgreSQL + Redis

Results and analysis: docs/load-benchmark.md. Needs wrk (apt-get install wrk).
"""

import argparse
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness import Server, environment as server_environment, manage, recreate_postgres_database

PG_DATABASE = "companion_loadbench"
EPISODE = "/episodes/138-the-great-purges/"
SEARCH = "/search/?q=Yezhov"
STATIC_NAME = "episode-sized.html"


def environment(workdir, scale_out):
    if scale_out:
        recreate_postgres_database(PG_DATABASE)
        return server_environment(workdir, postgres=PG_DATABASE, redis_url="redis://127.0.0.1:6379/3")
    return server_environment(workdir)


LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url, seconds, headers=()):
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", url]
    for header in headers:
        command[1:1] = ["-H", header]
    subprocess.run(command[:1] + ["-t1", "-c2", "-d1s", url], check=True, capture_output=True)
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = {p: float(v) * UNITS[unit] for p, v, unit in LATENCY.findall(output)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rate": rate, "p50": latency["50"], "p99": latency["99"],
            "non_2xx_3xx": int(errors.group(1)) if errors else 0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale-out", action="store_true", help="PostgreSQL + Redis")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting to try, e.g. --env DJANGO_CONN_MAX_AGE=60")
    parser.add_argument("--only", choices=["uncached"], help="just the static file and this row")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = environment(workdir, options.scale_out)
        env |= dict(setting.split("=", 1) for setting in options.env)
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo", "--no-narration")
        manage(env, "collectstatic", "--noinput")

        server = Server(env, options.workers)
        page, _ = server.get(EPISODE)
        server.stop()
        # The yardstick: a static file of exactly the page's size, served by whitenoise.
        (workdir / "static" / STATIC_NAME).write_bytes(b"x" * len(page))

        rows = []
        server = Server(env, options.workers)
        try:
            _, headers = server.get(EPISODE)
            etag = headers["ETag"]
            rows.append(("Static file, same size (whitenoise)", wrk(server.url + "/static/" + STATIC_NAME, options.seconds)))
            if not options.only:
                rows.append(("Episode page, cached", wrk(server.url + EPISODE, options.seconds)))
                rows.append(("Episode page, 304 revalidation", wrk(server.url + EPISODE, options.seconds, [f"If-None-Match: {etag}"])))
                rows.append(("Search page (Yezhov)", wrk(server.url + SEARCH, options.seconds)))
        finally:
            server.stop()
        uncached = Server(env | {"DJANGO_PAGE_CACHE": "off"}, options.workers)
        try:
            rows.insert(1 if options.only else 2, ("Episode page, uncached", wrk(uncached.url + EPISODE, options.seconds)))
        finally:
            uncached.stop()

    static_rate = rows[0][1]["rate"]
    backend = "PostgreSQL + Redis" if options.scale_out else "SQLite + local-memory cache"
    print(f"\n{backend}; gunicorn {options.workers} workers; wrk -t2 -c16 -d{options.seconds}s; "
          f"page size {len(page):,} bytes\n")
    print("| Request | Requests/s | × static | p50 ms | p99 ms | non-2xx/3xx |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, row in rows:
        print(f"| {name} | {row['rate']:,.0f} | {row['rate'] / static_rate:.2f} | "
              f"{row['p50']:.1f} | {row['p99']:.1f} | {row['non_2xx_3xx']} |")


if __name__ == "__main__":
    main()
