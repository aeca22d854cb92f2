"""
How long a big feed takes to import (episodes/feeds/imports.py), and to
import again unchanged: the goals are 5,000 items in at most 10 s and an
unchanged re-import in at most 3 s, on two cores.

Feeds are generated, one per seed, each in the shape of a different kind of
real show (numbers in itunes:episode, in "Episode 12 - …" titles, in bare
"12: …" titles, dated daily news titles, a mix), with HTML show notes of
varying length, 0–3 credits, 0–3 transcript links, chapters links, seasons,
Media RSS or image-before-audio enclosures on some items, and a few items
skipped (no guid, a repeated guid). Files are not fetched (--no-fetch), so
the figures are the import's own.

Each trial starts from an empty catalogue and times, in this process:
  first     the first import of the feed;
  unchanged the same feed again;
  changed   the feed with a tenth of its titles changed (updates and locks).
Wall time, this process's CPU time, and the time it spent ready to run but
waiting for a CPU (the kernel's run-queue delay, /proc/self/schedstat): other
helpers share the two cores, and wall time less that wait is what the import
takes on a machine to itself. A trial fails if it raises or its wall time
misses the goal; the failures with the wait taken out are counted beside.

The reference, on the same feeds, run alternately with the importer: the
importer as it was before issue 22 (its source from git, on a smaller feed:
it takes minutes at 5,000), and a floor, parse_feed alone plus one
bulk_create of bare Episode rows.

    .venv/bin/python benchmarks/feed_import_benchmark.py
    .venv/bin/python benchmarks/feed_import_benchmark.py --items 500 --seeds 2 --no-reference   # quick
    .venv/bin/python benchmarks/feed_import_benchmark.py --database postgres

The database is a throw-away SQLite file (or PostgreSQL database
companion_feed_bench, dropped afterwards).
"""

import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.harness import PG_SERVER, drop_postgres_database, recreate_postgres_database  # noqa: E402

GOALS = {"first": 10.0, "unchanged": 3.0}
STYLES = ["itunes", "named", "bare", "dated", "mixed"]
PG_DATABASE = "companion_feed_bench"
OLD_COMMIT = "bc9e39d"  # main before issue 22: the importer that went item by item

WORDS = ("war front army treaty purge trial party minister general winter offensive retreat siege "
         "border pact navy convoy harbour factory plan famine election decree speech").split()


# --- Feeds --------------------------------------------------------------------


def _sentence(rng, words=12):
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _title(rng, style, number, day):
    subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))).title()
    if style == "mixed":
        style = rng.choice(STYLES[:4])
    if style == "itunes":
        return subject, f"<itunes:episode>{number}</itunes:episode>"
    if style == "named":
        return f"Episode {number} - {subject}", ""
    if style == "bare":
        return f"{number}: {subject}", ""
    return f"{day.strftime('%d.%m.%Y')} – {subject}", ""


def _enclosure(rng, number):
    url = f"https://media.example.org/show/{number}.mp3"
    size = rng.randint(5_000_000, 90_000_000)
    shape = rng.random()
    if shape < 0.1:  # Media RSS only
        return f'<media:content url="{url}" type="audio/mpeg" fileSize="{size}" duration="{rng.randint(600, 5400)}"/>'
    audio = f'<enclosure url="{url}" length="{size}" type="audio/mpeg"/>'
    if shape < 0.2:  # the cover enclosed first
        return f'<enclosure url="https://media.example.org/show/{number}.jpg" length="50000" type="image/jpeg"/>{audio}'
    return audio


def make_feed(count, seed, *, change_every=0):
    """A feed of count items in the shape STYLES[seed % 5]; change_every=n retitles every nth item."""
    import datetime

    style = STYLES[seed % len(STYLES)]
    start = datetime.date(2024, 1, 1)
    items = []
    for index in range(count):
        number = count - index
        day = start - datetime.timedelta(days=index * (1 if style == "dated" else 7))
        item_rng = random.Random(f"{seed}-{number}")
        title, number_tag = _title(item_rng, style, number, day)
        if change_every and number % change_every == 0:
            title += " (revised)"
        notes = "".join(f"<p>{_sentence(item_rng, item_rng.randint(8, 40))}</p>" for _ in range(item_rng.randint(1, 8)))
        people = "".join(
            f'<podcast:person role="{role}">{name}</podcast:person>'
            for role, name in item_rng.sample([("host", "Ann Host"), ("guest", f"Guest {number % 97}"),
                                               ("producer", "Pat Producer")], item_rng.randint(0, 3))
        )
        transcripts = "".join(
            f'<podcast:transcript url="https://media.example.org/show/{number}.{ext}" type="{kind}"/>'
            for ext, kind in item_rng.sample([("vtt", "text/vtt"), ("srt", "application/x-subrip"),
                                              ("html", "text/html")], item_rng.randint(0, 3))
        )
        chapters = (f'<podcast:chapters url="https://media.example.org/show/{number}-chapters.json" '
                    'type="application/json+chapters"/>') if item_rng.random() < 0.3 else ""
        season = f"<itunes:season>{1 + number // 100}</itunes:season>" if style == "itunes" else ""
        duration = item_rng.choice([str(item_rng.randint(600, 5400)), f"0{item_rng.randint(0, 1)}:{item_rng.randint(10, 59)}:0{item_rng.randint(0, 9)}"])
        guid = f"<guid isPermaLink=\"false\">show-{seed}-{number}</guid>" if item_rng.random() > 0.02 else ""
        items.append(
            f"<item><title>{title}</title>{guid}<pubDate>{day.strftime('%a, %d %b %Y')} 10:00:00 GMT</pubDate>"
            f"{number_tag}{season}<itunes:duration>{duration}</itunes:duration>{_enclosure(item_rng, number)}"
            f"<description><![CDATA[{notes}]]></description>{people}{transcripts}{chapters}</item>"
        )
    # What real feeds carry too: a repeated item, an item with nothing to know it by.
    items.insert(count // 2, items[count // 3])
    items.append("<item><description>Nothing to know it by.</description></item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0" xmlns:media="http://search.yahoo.com/mrss/">'
        f"<channel><title>Generated {style} show {seed}</title><link>https://show.example.org/</link>"
        "<description>A generated show.</description><language>en</language>"
        '<itunes:image href="https://show.example.org/cover.jpg"/><itunes:author>Ann Host</itunes:author>'
        '<podcast:person role="host">Ann Host</podcast:person>'
        + "".join(items) + "</channel></rss>"
    ).encode()


# --- Measuring ------------------------------------------------------------------


def run_queue_wait():
    """Seconds this process has spent runnable but waiting for a CPU (0 where the kernel doesn't say)."""
    try:
        return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def timed(function, *args, **kwargs):
    """(wall, CPU, wall less the wait for a CPU, result)."""
    wall, cpu, waited = time.perf_counter(), time.process_time(), run_queue_wait()
    result = function(*args, **kwargs)
    wall = time.perf_counter() - wall
    return wall, time.process_time() - cpu, wall - (run_queue_wait() - waited), result


def empty_catalogue():
    from episodes.models import Chapter, Credit, Episode, Podcast, Series, TranscriptLink

    for model in (Chapter, TranscriptLink, Credit, Episode, Series, Podcast):
        model.objects.all().delete()


def old_importer():
    """The importer at OLD_COMMIT, loaded from git as a module of its own (it needs only today's helpers)."""
    source = subprocess.run(["git", "show", f"{OLD_COMMIT}:episodes/feeds/imports.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    spec = importlib.util.spec_from_loader("old_feed_imports", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, "old_feed_imports.py", "exec"), module.__dict__)  # noqa: S102  (our own file, from git)
    return module.import_feed


def floor(data):
    """The least any importer does: read the feed, insert one bare row per item."""
    from episodes.feeds.parse import parse_feed
    from episodes.models import Episode

    feed = parse_feed(data)
    Episode.objects.bulk_create(
        [Episode(title=item.title, slug=f"floor-{n}", guid=item.guid) for n, item in enumerate(feed.items)],
        batch_size=500,
    )
    return feed


def summary(name, rows, goal=None):
    """rows: (wall, CPU, wall less the wait for a CPU, raised?)."""
    walls, cpus, alone = ([row[i] for row in rows] for i in range(3))
    limit = goal or float("inf")
    failed = sum(1 for row in rows if row[3] or row[0] > limit)
    failed_alone = sum(1 for row in rows if row[3] or row[2] > limit)
    goal_text = f"  goal ≤ {goal:.0f} s: failed {failed}/{len(rows)} (without the wait {failed_alone}/{len(rows)})" if goal else ""
    return (f"  {name:<22} wall {statistics.median(walls):5.2f} / {max(walls):5.2f} s   "
            f"CPU {statistics.median(cpus):5.2f} / {max(cpus):5.2f} s   "
            f"wall less wait {statistics.median(alone):5.2f} / {max(alone):5.2f} s{goal_text}")


def run_trials(args):
    from django.db import connection

    from episodes.feeds.imports import import_feed

    results = {"first": [], "unchanged": [], "changed": [], "floor": []}
    old = old_importer() if args.reference else None
    for seed in range(1, args.seeds + 1):
        data = make_feed(args.items, seed)
        changed = make_feed(args.items, seed, change_every=10)
        for name, call, source in (("first", import_feed, data), ("unchanged", import_feed, data),
                                   ("changed", import_feed, changed)):
            if name == "first":
                empty_catalogue()
            try:
                wall, cpu, alone, report = timed(call, source, fetch=False)
                raised = False
                detail = (f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
                          f"{len(report.skipped)} skipped")
            except Exception as error:  # a failure is a figure, not the end of the run
                wall = cpu = alone = float("nan")
                raised, detail = True, f"raised {error!r}"
            results[name].append((wall, cpu, alone, raised))
            print(f"seed {seed} ({STYLES[seed % len(STYLES)]:>6}) {name:<9} {wall:6.2f} s wall {cpu:6.2f} s CPU "
                  f"{alone:6.2f} s less wait  {detail}", flush=True)
        if args.reference:
            empty_catalogue()
            results["floor"].append(timed(floor, data)[:3] + (False,))
            small = make_feed(args.reference_items, seed)
            # Alternately, on the same small feed: the old importer, then ours, each first and again.
            for importer, label in ((old, "old"), (import_feed, "new")):
                empty_catalogue()
                for name in (f"{label} first", f"{label} unchanged"):
                    results.setdefault(f"{name} ({args.reference_items})", []).append(
                        timed(importer, small, fetch=False)[:3] + (False,))
            old_first, old_again, new_first, new_again = (
                results[f"{name} ({args.reference_items})"][-1][1]
                for name in ("old first", "old unchanged", "new first", "new unchanged"))
            print(f"seed {seed} reference CPU: floor {results['floor'][-1][1]:.2f} s; at {args.reference_items} "
                  f"items old {old_first:.2f} / {old_again:.2f} s, new {new_first:.2f} / {new_again:.2f} s", flush=True)
    print(f"\n{args.items:,} items a feed, {args.seeds} seeds, {connection.vendor}, fetch off, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; median / max:")
    for name, rows in results.items():
        if rows:
            print(summary(name, rows, GOALS.get(name)))
    return all(not row[3] and row[0] <= GOALS[name] for name in GOALS for row in results[name])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reference-items", type=int, default=500,
                        help="items in the feed the old importer and ours are compared on")
    parser.add_argument("--no-reference", dest="reference", action="store_false")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="feed-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "companion.settings"
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    if args.database == "postgres":
        recreate_postgres_database(PG_DATABASE)
        os.environ["DATABASE_URL"] = PG_SERVER + PG_DATABASE
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    try:
        ok = run_trials(args)
    finally:
        from django.db import connections

        connections.close_all()
        if args.database == "postgres":
            drop_postgres_database(PG_DATABASE)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
