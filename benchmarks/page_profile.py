"""
Where an uncached episode page spends its time, in-process, without HTTP.

load_benchmark.py gives the figure that counts (requests/s through gunicorn
under wrk); this script is for finding what to make faster. It sets up the
same production-like database (episode 138, demo content, no narration),
then renders the anonymous episode page through Django's test client with
the page caches off, --rounds × --requests times, and prints the best
round's milliseconds per page and the queries one page makes. With
--profile it also prints cProfile's top functions. From the repository root:

    .venv/bin/python benchmarks/page_profile.py
    .venv/bin/python benchmarks/page_profile.py --profile
    .venv/bin/python benchmarks/page_profile.py --scale-out   # PostgreSQL + Redis
"""

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

from harness import load_demo_site
from load_benchmark import EPISODE, environment

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top 30")
    parser.add_argument("--scale-out", action="store_true", help="PostgreSQL + Redis")
    parser.add_argument("--path", default=EPISODE)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting to try, e.g. --env DJANGO_CONN_MAX_AGE=60")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = environment(workdir, options.scale_out)
        env |= {"DJANGO_PAGE_CACHE": "off", "DJANGO_PAGE_FRESH_SECONDS": "0", "DJANGO_LOG_LEVEL": "WARNING"}
        env |= dict(setting.split("=", 1) for setting in options.env)
        load_demo_site(env)

        os.environ.clear()
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "companion.settings")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.db import connection
        from django.test import Client

        client = Client(HTTP_HOST="127.0.0.1")

        def get():
            response = client.get(options.path)
            assert response.status_code == 200, response.status_code
            assert "X-Page-Cache" not in response, "the page came from a cache"
            return response

        size = len(get().content)
        queries = []

        def record(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            get()
        rounds = []
        for _ in range(options.rounds):
            start = time.perf_counter()
            for _ in range(options.requests):
                get()
            rounds.append((time.perf_counter() - start) * 1000 / options.requests)

        backend = "PostgreSQL + Redis" if options.scale_out else "SQLite"
        print(f"{backend}: {options.path}, {size:,} bytes, {len(queries)} queries")
        for query in queries:
            print("   ", " ".join(query.split())[:160])
        print(f"best of {options.rounds} × {options.requests}: {min(rounds):.2f} ms a page "
              f"(median round {sorted(rounds)[len(rounds) // 2]:.2f} ms)")

        if options.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(options.requests):
                get()
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(r"/(work/main/)?(episodes|companion|accounts)/|reverse|query.py.*(_fetch_all|get)\b|template/base.py.*render\b", 40)
            stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
