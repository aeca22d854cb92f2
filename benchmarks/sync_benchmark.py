"""
How long one read-along update takes in the browser.

The player runs `Companion.sync(t)` on every animation frame while playing:
a binary search over the sentence start times, then (only when the sentence
changes) moving aria-current, keeping the sentence in view and refreshing the
Now panel, plus the current-word highlight. This script loads the demo
episode in Debian's Chromium and times 1,000 updates with performance.now():

- playback: t advancing 0.25 s per update, as timeupdate/frames do;
- seeking: 1,000 random times over the whole episode (every update changes
  the sentence, segment and Now panel: the worst case);
- the binary search alone (the bare reference).

Each mode runs once per seed (the seed picks the random times, and where
playback starts); it prints the median, p99 and max per update and the share
of updates over the 1 ms goal. Chromium rounds performance.now() to 0.1 ms,
so single updates read as 0 or 0.1 ms: the mean (total time / updates) is the
precise figure. Results: docs/sync-benchmark.md.

Run from the repo root after `make run` has set things up (it serves the
project's own database with Django's runserver on a free port):

    .venv/bin/python benchmarks/sync_benchmark.py
"""

import argparse
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

MEASURE = """
async ([mode, count, seed]) => {
  const starts = Array.from(document.querySelectorAll('.sentence[data-start]'), s => +s.dataset.start);
  const last = starts.at(-1);
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const offset = random() * last;
  const times = [];
  for (let i = 0; i < count; i++) {
    times.push(mode === 'seeking' ? random() * last : (offset + i * 0.25) % last);
  }
  const run = mode === 'search' ? t => Companion.indexAt(t) : t => Companion.sync(t);
  const costs = [];
  const begin = performance.now();
  for (const t of times) {
    const t0 = performance.now();
    run(t);
    costs.push(performance.now() - t0);
  }
  const total = performance.now() - begin;
  costs.sort((a, b) => a - b);
  return {total, mean: total / count, median: costs[Math.floor(count / 2)], p99: costs[Math.floor(count * 0.99)],
          max: costs.at(-1), over: costs.filter(c => c > 1).length / count, sentences: starts.length};
}
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 2024], help="one run per seed")
    parser.add_argument("--updates", type=int, default=1000)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/episodes/138-the-great-purges/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                tempfile.mkdtemp(), executable_path=str(CHROMIUM), headless=True,
                args=CHROMIUM_ARGS, viewport={"width": 1200, "height": 900},
            )
            page = context.new_page()
            print(f"{'mode':<10} {'seed':>5} {'updates':>8} {'mean ms':>9} {'median':>7} {'p99 ms':>7} "
                  f"{'max ms':>7} {'> 1 ms':>7}")
            for mode in ("playback", "seeking", "search"):
                for seed in args.seeds:
                    page.goto(url)
                    page.wait_for_load_state("networkidle")  # the audio's metadata, the page settled
                    result = page.evaluate(MEASURE, [mode, args.updates, seed])
                    print(f"{mode:<10} {seed:>5} {args.updates:>8} {result['mean']:>9.4f} {result['median']:>7.1f} "
                          f"{result['p99']:>7.1f} {result['max']:>7.1f} {result['over']:>7.1%}")
            print(f"({result['sentences']} timed sentences; goal: under 1 ms per update)")
            context.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
