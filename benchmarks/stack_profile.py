"""
What one request costs through the site's whole WSGI stack, in-process, beside the bare app.

load_benchmark.py gives the figures that count (requests/s through gunicorn);
this script shows where a request's time goes without the server, the
network or wrk. It sets up the same production-like demo database, then
calls companion.wsgi.application (the page memory in front of Django, then
the middleware, the view, the request log at INFO into a file) and
benchmarks/bare_app.py with WSGI environs, and prints the CPU time of one
request (time.process_time, best of --rounds × --requests, so other load
on the machine counts little) for each row:

- bare: the reference's 200 and 304 for the page's bytes;
- memory: a repeat of the anonymous episode page, and its 304;
- page cache: the same with the page memory off (2 queries, the ETag-keyed copy);
- rendered: the page rendered afresh (page cache emptied before each request);
- search: the search page for "Yezhov", rendered.

With --profile ROW, cProfile (on CPU time) prints that row's top functions.
From the repository root:

    .venv/bin/python benchmarks/stack_profile.py
    .venv/bin/python benchmarks/stack_profile.py --profile memory
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, load_demo_site
from load_benchmark import EPISODE, SEARCH, environment

ROWS = ("bare", "bare 304", "memory", "memory 304", "page cache", "rendered", "search")


def wsgi_environ(path, **headers):
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
        "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    environ.update({"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()})
    return environ


def call(application, path, **headers):
    """One request, its body read as a server would; (status, headers)."""
    answered = []
    result = application(wsgi_environ(path, **headers), lambda status, header_list, exc_info=None: answered.extend([status, header_list]))
    try:
        if hasattr(result, "filelike"):  # WhiteNoise's file: gunicorn would sendfile it
            result.filelike.read()
        else:
            b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return answered[0], dict(answered[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", choices=ROWS, help="cProfile's top functions for this row")
    parser.add_argument("--sort", choices=["tottime", "cumulative"], default="tottime",
                        help="the profile's order: own time, or with what a function calls")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = environment(workdir, scale_out=False) | {"BARE_APP_ROOT": str(workdir / "reference")}
        load_demo_site(env)
        os.environ.clear()
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "companion.settings"
        sys.path.insert(0, str(ROOT))
        from django.conf import settings
        from django.core.cache import caches

        from companion.wsgi import application as site

        # The request log at INFO, into a file as gunicorn's stderr would be.
        import logging

        logging.getLogger().handlers[0].setStream(open(workdir / "site.log", "w"))
        _, headers = call(site, EPISODE)
        page = b"".join(site(wsgi_environ(EPISODE), lambda *args: None))
        (workdir / "reference").mkdir()
        (workdir / "reference" / "page.html").write_bytes(page)
        import bare_app

        bare = bare_app.application
        _, bare_headers = call(bare, "/page.html")
        fresh = settings.PAGE_FRESH_SECONDS

        def memory_off():
            settings.PAGE_FRESH_SECONDS = 0

        def rendered():
            settings.PAGE_FRESH_SECONDS = 0
            caches["pages"].clear()

        rows = {
            "bare": (bare, "/page.html", {}, None),
            "bare 304": (bare, "/page.html", {"If-None-Match": bare_headers["ETag"]}, None),
            "memory": (site, EPISODE, {}, None),
            "memory 304": (site, EPISODE, {"If-None-Match": headers["ETag"]}, None),
            "page cache": (site, EPISODE, {}, memory_off),
            "rendered": (site, EPISODE, {}, rendered),
            "search": (site, SEARCH, {"Cache-Control": "no-cache"}, None),  # no-cache: past the page memory
        }
        print(f"CPU time of one request, in-process (best of {options.rounds} × {options.requests}); "
              f"page {len(page):,} bytes\n")
        print("| Row | µs a request | × bare |")
        print("|---|---:|---:|")
        results = {}
        for name, (application, path, request_headers, before) in rows.items():
            settings.PAGE_FRESH_SECONDS = fresh
            count = options.requests if name not in ("rendered", "search") else max(options.requests // 10, 20)

            def run():
                for _ in range(count):
                    if before:
                        before()
                    status, _ = call(application, path, **request_headers)
                assert status[:3] in ("200", "304"), (name, status)

            run()  # warm-up
            best = min(
                (lambda start: (run(), time.process_time() - start)[1])(time.process_time())
                for _ in range(options.rounds)
            )
            results[name] = best / count * 1e6
            reference = results["bare 304" if "304" in name else "bare"]
            print(f"| {name} | {results[name]:,.0f} | {results[name] / reference:.2f} |")
            if options.profile == name:
                profiler = cProfile.Profile(time.process_time)
                profiler.runcall(run)
                profile_of = name
        if options.profile:
            order = "own CPU time" if options.sort == "tottime" else "CPU time with callees"
            print(f"\ncProfile of '{profile_of}' ({count} requests), by {order}:")
            pstats.Stats(profiler).sort_stats(options.sort).print_stats(40)


if __name__ == "__main__":
    main()
