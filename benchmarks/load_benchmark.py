"""
Requests per second through gunicorn on loopback, the site against a bare reference, alternated.

The reference (benchmarks/bare_app.py) serves the episode page's exact bytes
with WhiteNoise alone, under the same gunicorn.conf.py and worker count; the
site runs production settings with its request log on (INFO, to a file).
Rows, against one throw-away copy of the demo (episode 138, loaded without
narration; SQLite, or PostgreSQL + Redis with --scale-out):

- the episode page, anonymous, as repeat readers get it (the page memory in
  front of Django, then the ETag-keyed page cache: episodes/page_cache.py);
- the episode page rendered afresh each time (DJANGO_PAGE_CACHE=off);
- the episode page revalidated with If-None-Match (a 304), against the
  reference's own 304 for its file;
- the search page for "Yezhov", rendered each time (on the DJANGO_PAGE_CACHE=off
  server), and as the site serves a repeated query (from the page memory);
- with --only floor, what any answer from Django costs: the episode page from
  the ETag-keyed page cache with the page memory off (DJANGO_PAGE_FRESH_SECONDS=0:
  two queries, nothing rendered), and /healthz (one SELECT 1, a small JSON
  answer, through the whole middleware stack). These bound what a rendered
  page can reach (docs/load-benchmark.md).

Other helpers' work shares the machine's two cores, so absolute rates move a
lot: each row runs wrk (-t2 -c16 --latency) in --slices pairs of slices of
--seconds, reference and site in turn (the order swapping each pair), and the
figure to read is the ratio within each pair: its median, min and max are
printed, with the servers' CPU time per request (a figure other load hardly
moves), the site's p50/p99, its failures (non-2xx/3xx answers and socket
errors, per request) and the load average before and after. --runs repeats
everything and ends with the spread over runs. From the repository root:

    .venv/bin/python benchmarks/load_benchmark.py --runs 3          # ~12 min
    .venv/bin/python benchmarks/load_benchmark.py --seconds 2 --slices 2  # quick look
    .venv/bin/python benchmarks/load_benchmark.py --scale-out       # PostgreSQL + Redis

Results and analysis: docs/load-benchmark.md. Needs wrk (installed with
apt-get when missing, as root).
"""

import argparse
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from harness import Server, environment as server_environment, load_demo_site, recreate_postgres_database

PG_DATABASE = "companion_issue23"
REDIS_URL = "redis://127.0.0.1:6379/10"
EPISODE = "/episodes/138-the-great-purges/"
SEARCH = "/search/?q=Yezhov"
REFERENCE_FILE = "/page.html"


def environment(workdir, scale_out):
    if scale_out:
        recreate_postgres_database(PG_DATABASE)
        env = server_environment(workdir, postgres=PG_DATABASE, redis_url=REDIS_URL)
    else:
        env = server_environment(workdir)
    # The site as it runs: one JSON log line per request (the harness turns them off).
    return env | {"DJANGO_LOG_LEVEL": "INFO"}


def ensure_installed(program, package):
    """apt-get install the Debian package when the program is missing (benchmarks run as root here)."""
    if shutil.which(program):
        return
    if os.geteuid() != 0:
        raise SystemExit(f"{program} is not installed: apt-get install {package}")
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, stdout=subprocess.DEVNULL)


def load_average():
    return float(Path("/proc/loadavg").read_text().split()[0])


LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(server, path, seconds, headers=()):
    """One wrk slice: rate, p50/p99 ms, requests, failures, and the server's CPU µs per request."""
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    cpu = server.cpu_seconds()
    output = subprocess.run(command + [server.url + path], check=True, capture_output=True, text=True).stdout
    cpu = server.cpu_seconds() - cpu
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    latency = {p: float(v) * UNITS[unit] for p, v, unit in LATENCY.findall(output)}
    non_2xx_3xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    failures = (int(non_2xx_3xx.group(1)) if non_2xx_3xx else 0) + (
        sum(int(n) for n in sockets.groups()) if sockets else 0
    )
    return {
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency["50"], "p99": latency["99"], "requests": requests, "failures": failures,
        "cpu_us": cpu / max(requests, 1) * 1e6,
    }


def alternate(site, site_path, reference, reference_path, options, site_headers=(), reference_headers=()):
    """--slices pairs of slices, the reference and the site in turn; the ratio is taken within each pair."""
    for server, path, headers in ((site, site_path, site_headers), (reference, reference_path, reference_headers)):
        subprocess.run(["wrk", "-t1", "-c2", "-d1s", *sum((["-H", h] for h in headers), []), server.url + path],
                       check=True, capture_output=True)  # warm-up
    load_before = load_average()
    pairs = []
    for index in range(options.slices):
        first_reference = index % 2 == 0
        if first_reference:
            ref = wrk(reference, reference_path, options.seconds, reference_headers)
        mine = wrk(site, site_path, options.seconds, site_headers)
        if not first_reference:
            ref = wrk(reference, reference_path, options.seconds, reference_headers)
        pairs.append((mine, ref))
    ratios = [mine["rate"] / ref["rate"] for mine, ref in pairs]
    cpu_ratios = [ref["cpu_us"] / max(mine["cpu_us"], 1e-9) for mine, ref in pairs]
    requests = sum(mine["requests"] for mine, _ in pairs)
    return {
        "site_rate": statistics.median(mine["rate"] for mine, _ in pairs),
        "reference_rate": statistics.median(ref["rate"] for _, ref in pairs),
        "ratio": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
        "cpu_ratio": statistics.median(cpu_ratios),
        "site_cpu_us": statistics.median(mine["cpu_us"] for mine, _ in pairs),
        "reference_cpu_us": statistics.median(ref["cpu_us"] for _, ref in pairs),
        "p50": statistics.median(mine["p50"] for mine, _ in pairs),
        "p99": max(mine["p99"] for mine, _ in pairs),
        "failures": sum(mine["failures"] for mine, _ in pairs), "requests": requests,
        "reference_failures": sum(ref["failures"] for _, ref in pairs),
        "load": (load_before, load_average()),
    }


def server_times(log_path, path):
    """duration_ms of each request for the path in a JSON request log."""
    times = []
    for line in log_path.read_text().splitlines():
        if line.startswith("{") and '"companion.request"' in line:
            entry = json.loads(line)
            if entry.get("path") == path:
                times.append(entry["duration_ms"])
    return times


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def print_run(number, rows, options, page_size):
    print(f"\nRun {number}: gunicorn {options.workers} workers; wrk -t2 -c16, {options.slices} pairs of "
          f"{options.seconds} s slices; page {page_size:,} bytes\n")
    print("| Row | site req/s | reference req/s | × reference, median (min–max) | × by CPU/request "
          "| site CPU µs/req | site p50 / p99 ms | failures | load before → after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        failures = f"{row['failures']}/{row['requests']:,}"
        if row["reference_failures"]:
            failures += f" (reference: {row['reference_failures']})"
        print(f"| {name} | {row['site_rate']:,.0f} | {row['reference_rate']:,.0f} | "
              f"{row['ratio']:.2f} ({row['ratio_min']:.2f}–{row['ratio_max']:.2f}) | {row['cpu_ratio']:.2f} | "
              f"{row['site_cpu_us']:.0f} | {row['p50']:.1f} / {row['p99']:.1f} | {failures} | "
              f"{row['load'][0]:.1f} → {row['load'][1]:.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--seconds", type=int, default=4, help="length of one wrk slice")
    parser.add_argument("--slices", type=int, default=4, help="pairs of slices per row")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale-out", action="store_true", help="PostgreSQL + Redis")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting to try, e.g. --env DJANGO_CONN_MAX_AGE=60")
    parser.add_argument("--only", action="append", choices=["cached", "uncached", "304", "search", "floor"],
                        help="just these rows (repeatable); floor only when asked for")
    options = parser.parse_args()
    ensure_installed("wrk", "wrk")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = environment(workdir, options.scale_out)
        env |= dict(setting.split("=", 1) for setting in options.env)
        load_demo_site(env)

        servers = []
        try:
            site = Server(env, options.workers, log_path=workdir / "site.log")
            servers.append(site)
            uncached = Server(env | {"DJANGO_PAGE_CACHE": "off"}, options.workers, log_path=workdir / "uncached.log")
            servers.append(uncached)
            page, headers = site.get(EPISODE)
            etag = headers["ETag"]
            (workdir / "reference").mkdir()
            (workdir / "reference" / REFERENCE_FILE.strip("/")).write_bytes(page)
            reference = Server(env | {"BARE_APP_ROOT": str(workdir / "reference")}, options.workers,
                               app="bare_app:application", ready_path=REFERENCE_FILE)
            servers.append(reference)
            _, reference_headers = reference.get(REFERENCE_FILE)
            reference_etag = reference_headers["ETag"]
            if options.only and "floor" in options.only:
                no_memory = Server(env | {"DJANGO_PAGE_FRESH_SECONDS": "0"}, options.workers,
                                   log_path=workdir / "no-memory.log")
                servers.append(no_memory)

            rows_wanted = {
                "Episode page, cached": ("cached", lambda: alternate(site, EPISODE, reference, REFERENCE_FILE, options)),
                "Episode page, uncached": ("uncached", lambda: alternate(uncached, EPISODE, reference, REFERENCE_FILE, options)),
                "Episode page, 304 (reference: its 304)": ("304", lambda: alternate(
                    site, EPISODE, reference, REFERENCE_FILE, options,
                    [f"If-None-Match: {etag}"], [f"If-None-Match: {reference_etag}"])),
                "Search page (Yezhov), rendered each time": ("search", lambda: alternate(
                    uncached, SEARCH, reference, REFERENCE_FILE, options)),
                "Search page (Yezhov), repeated, as served (page memory)": ("search", lambda: alternate(
                    site, SEARCH, reference, REFERENCE_FILE, options)),
                "Episode page, page cache only (page memory off)": ("floor", lambda: alternate(
                    no_memory, EPISODE, reference, REFERENCE_FILE, options)),
                "Django's floor: /healthz": ("floor", lambda: alternate(
                    uncached, "/healthz", reference, REFERENCE_FILE, options)),
            }
            runs = []
            for number in range(1, options.runs + 1):
                rows = {name: run() for name, (key, run) in rows_wanted.items()
                        if (key in options.only if options.only else key != "floor")}
                print_run(number, rows, options, len(page))
                runs.append(rows)
        finally:
            for server in servers:
                server.stop()
        log_lines = sum(1 for line in (workdir / "site.log").read_text().splitlines() if '"companion.request"' in line)
        search_times = server_times(workdir / "uncached.log", "/search/")

    backend = "PostgreSQL + Redis" if options.scale_out else "SQLite + local-memory cache"
    print(f"\n{backend}: {len(runs)} run(s); the site wrote {log_lines:,} request log lines")
    if search_times:
        print(f"Search page server time (duration_ms in the request log, under wrk's 16 connections): "
              f"median {statistics.median(search_times):.1f} ms, p95 {percentile(search_times, 95):.1f} ms, "
              f"max {max(search_times):.1f} ms over {len(search_times):,} requests")
    if len(runs) > 1:
        print("\n| Row | median ratio of each run | by CPU/request, each run | failures |")
        print("|---|---|---|---:|")
        for name in runs[0]:
            ratios = ", ".join(f"{rows[name]['ratio']:.2f}" for rows in runs)
            cpu = ", ".join(f"{rows[name]['cpu_ratio']:.2f}" for rows in runs)
            failures = sum(rows[name]["failures"] for rows in runs)
            print(f"| {name} | {ratios} | {cpu} | {failures} |")


if __name__ == "__main__":
    main()
