"""
Varnish in front of the site: what it serves against the origin, and how stale it can get.

Starts the site (gunicorn, production settings, request log on) over a
throw-away copy of the demo, and Varnish (Debian's `varnish`, installed with
apt-get when missing) in front of it with docs/varnish.vcl, its backend port
filled in. Then:

1. Rates: for the anonymous episode, glossary and person pages, wrk
   (-t2 -c16 --latency, with `Accept-Encoding: gzip` as browsers send it)
   alternates the origin (its cached answer: the page memory) and the proxy
   in --slices pairs of --seconds; printed: each side's rate, the ratio within
   each pair (median, min, max), p50/p99, failures and the load average.
2. Staleness, twice: wrk keeps loading the episode page through the proxy
   while a poller reads it every 50 ms; the proxy is made to fetch the page
   afresh, then the episode's title is edited (manage.py shell, as an editor's
   save would), once with the proxy purged on commit
   (DJANGO_SHARED_CACHE_PURGE_URLS) and once without, the worst case: the
   edit lands just after the proxy fetched the page. Printed: how long the
   old title was still served, against the bound the site states (max-age +
   stale-while-revalidate). Exits 1 if any stale page came after the bound
   (one second when purged), or if any request failed.

    .venv/bin/python benchmarks/proxy_benchmark.py                 # ~4 min
    .venv/bin/python benchmarks/proxy_benchmark.py --max-age 10 --grace 5 --seconds 2 --slices 2   # quick

Results: docs/shared-cache.md.
"""

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from harness import ROOT, Server, free_port, load_demo_site, stop_with_parent
from load_benchmark import EPISODE, alternate, ensure_installed, environment, load_average

PAGES = {
    "Episode page": EPISODE,
    "Glossary": "/glossary/",
    "Person page": "/people/nikolai-yezhov/",
}
GZIP = "Accept-Encoding: gzip"
# Django is set up first; the save waits for a line on stdin, so it lands when the script says.
EDIT = """
import sys
from episodes.models import Episode
episode = Episode.objects.get(slug="138-the-great-purges")
episode.title = {title!r}
sys.stdin.readline()
episode.save()
"""


class Varnish:
    """varnishd in the foreground, on a free port, with the sample config pointed at the origin."""

    def __init__(self, workdir, backend_port):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        vcl = (ROOT / "docs" / "varnish.vcl").read_text().replace('.port = "8000";', f'.port = "{backend_port}";')
        assert f'"{backend_port}"' in vcl, "docs/varnish.vcl no longer names port 8000"
        (workdir / "companion.vcl").write_text(vcl)
        self.process = subprocess.Popen(
            ["varnishd", "-F", "-j", "none", "-n", str(workdir / "varnish"), "-a", f"127.0.0.1:{self.port}",
             "-f", str(workdir / "companion.vcl"), "-s", "malloc,256m"],
            stdout=subprocess.DEVNULL, stderr=open(workdir / "varnish.log", "wb"),
            preexec_fn=stop_with_parent(),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("varnishd did not start within 30 s (see varnish.log)")

    def cpu_seconds(self):
        """CPU time of the manager and the child that serves (its threads included)."""
        pids = [self.process.pid]
        try:
            pids += Path(f"/proc/{pids[0]}/task/{pids[0]}/children").read_text().split()
        except FileNotFoundError:
            pass
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def ban(self, prefix="/"):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        connection.request("BAN", prefix)
        status = connection.getresponse().status
        connection.close()
        assert status == 200, f"BAN answered {status}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def title_served(url):
    """(time received, the page's <title>, status) of one request through the proxy."""
    with urllib.request.urlopen(url, timeout=5) as response:
        page = response.read().decode()
        status = response.status
    start = page.index("<title>") + len("<title>")
    return time.monotonic(), page[start : page.index("</title>", start)], status


def staleness(proxy, env, options, purge):
    """Edit the title under load; how long after the edit the old one was served."""
    url = proxy.url + EPISODE
    load = subprocess.Popen(["wrk", "-t1", "-c4", f"-d{options.max_age + options.grace + 20}s", "-H", GZIP, url],
                            stdout=subprocess.DEVNULL)
    seen, failures, stop = [], [], threading.Event()

    def poll():
        while not stop.is_set():
            try:
                seen.append(title_served(url))
            except OSError as error:
                failures.append(repr(error))
            time.sleep(0.05)

    title = f"The Great Purges (edited at {time.time():.0f}, purge {'on' if purge else 'off'})"
    edit_env = env | {"DJANGO_SHARED_CACHE_PURGE_URLS": proxy.url if purge else ""}
    editor = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", EDIT.format(title=title)],
                              cwd=ROOT, env=edit_env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    poller = threading.Thread(target=poll)
    poller.start()
    try:
        time.sleep(3)  # the editor has set Django up by now
        # The worst case: the proxy has just fetched the page when the edit lands.
        proxy.ban()
        banned = time.monotonic()
        while not any(moment > banned + 0.1 for moment, _, _ in seen):
            time.sleep(0.01)
        editor.communicate("save\n")
        assert editor.returncode == 0, "the edit failed"
        edited = time.monotonic()
        bound = options.max_age + options.grace
        deadline = edited + bound + 3
        while time.monotonic() < deadline and not any(t > edited and title in served for t, served, _ in seen[-3:]):
            time.sleep(0.1)
        time.sleep(1)  # a little more, to see that nothing old comes back
    finally:
        stop.set()
        poller.join()
        load.terminate()
        load.wait()
    stale = [moment - edited for moment, served, _ in seen if moment > edited and title not in served]
    fresh = [moment - edited for moment, served, _ in seen if moment > edited and title in served]
    return {
        "purge": purge, "bound": bound, "last_stale": max(stale, default=0.0),
        "first_fresh": min(fresh, default=float("nan")), "polls": len(seen), "failures": len(failures),
        "non_200": sum(1 for _, _, status in seen if status != 200), "load": load_average(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--seconds", type=int, default=4, help="length of one wrk slice")
    parser.add_argument("--slices", type=int, default=4, help="pairs of slices per page")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-age", type=int, default=60, help="DJANGO_SHARED_PAGE_MAX_AGE for the site")
    parser.add_argument("--grace", type=int, default=30, help="DJANGO_SHARED_PAGE_STALE_SECONDS for the site")
    parser.add_argument("--no-staleness", action="store_true", help="only the rates")
    options = parser.parse_args()
    ensure_installed("wrk", "wrk")
    ensure_installed("varnishd", "varnish")

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = environment(workdir, scale_out=False) | {
            "DJANGO_SHARED_PAGE_MAX_AGE": str(options.max_age),
            "DJANGO_SHARED_PAGE_STALE_SECONDS": str(options.grace),
        }
        load_demo_site(env)
        servers = []
        try:
            origin = Server(env, options.workers, log_path=workdir / "site.log")
            servers.append(origin)
            proxy = Varnish(workdir, origin.port)
            servers.append(proxy)
            rows = {}
            for name, path in PAGES.items():
                with urllib.request.urlopen(proxy.url + path, timeout=10) as response:
                    assert response.headers["Cache-Control"].startswith("public"), (path, response.headers)
                rows[name] = alternate(proxy, path, origin, path, options, [GZIP], [GZIP])
            results = [] if options.no_staleness else [staleness(proxy, env, options, purge) for purge in (True, False)]
        finally:
            for server in reversed(servers):
                server.stop()

    print(f"\nVarnish (docs/varnish.vcl) in front of gunicorn ({options.workers} workers); wrk -t2 -c16 with "
          f"'{GZIP}', {options.slices} pairs of {options.seconds} s slices\n")
    print("| Page | proxy req/s | origin (cached) req/s | × origin, median (min–max) | proxy p50 / p99 ms "
          "| failures (proxy, origin) | load before → after |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in rows.items():
        print(f"| {name} | {row['site_rate']:,.0f} | {row['reference_rate']:,.0f} | {row['ratio']:.1f} "
              f"({row['ratio_min']:.1f}–{row['ratio_max']:.1f}) | {row['p50']:.2f} / {row['p99']:.1f} | "
              f"{row['failures']}/{row['requests']:,}, {row['reference_failures']} | "
              f"{row['load'][0]:.1f} → {row['load'][1]:.1f} |")
    ok = all(row["failures"] == 0 and row["reference_failures"] == 0 for row in rows.values())
    if results:
        print(f"\nStaleness: max-age {options.max_age} s + stale-while-revalidate {options.grace} s; "
              "the episode edited just after the proxy fetched it, under load\n")
        print("| Purge on commit | old page last served | new page first served | bound | polls | failures | load |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for result in results:
            print(f"| {'yes' if result['purge'] else 'no'} | {result['last_stale']:.2f} s after the edit | "
                  f"{result['first_fresh']:.2f} s | {result['bound']} s | {result['polls']} | "
                  f"{result['failures'] + result['non_200']} | {result['load']:.1f} |")
            # Purged, the change is there at once; without, within the bound.
            within = 1 if result["purge"] else result["bound"]
            ok &= result["last_stale"] <= within and result["first_fresh"] <= within
            ok &= result["failures"] == result["non_200"] == 0
    print(f"\n{'PASS' if ok else 'FAIL'}: " + ("no stale page after its bound, no failures" if ok else "see above"))
    ratios = [row["ratio"] for row in rows.values()]
    print(f"Proxy against the origin's cached rate: {min(ratios):.1f}–{max(ratios):.1f}× (median of each page: "
          f"{', '.join(f'{r:.1f}' for r in ratios)}; median {statistics.median(ratios):.1f}×)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
