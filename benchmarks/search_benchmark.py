"""
Time episodes.search.search() on each database backend beside a naive icontains scan.

In one run, per backend in --backends, the script re-invokes itself (--worker, DATABASE_URL
set) on a throw-away database: a temporary SQLite file, or `companion_bench` on
postgres://postgres@127.0.0.1:5432/ (skipped with a message when unreachable). The worker
migrates, generates with random.Random(seed) a catalogue the size of the real show (500
episodes x ~4,000 words; 5,000 terms and people with aliases, each mentioned a few times;
a few very common words and a long Zipf tail), then times 50 queries, 10 per category
(rare names, common words, quoted phrases, 3-4-letter prefixes, typos of names): search(q)
as the results page runs it, and a naive icontains count + first page over sentences,
terms, people and sources. One warm-up, then --repeat timed runs per query; p50 and p95
are over all runs of a category. About 3-4 minutes on 2 cores. From the repository root:

    .venv/bin/python benchmarks/search_benchmark.py
    .venv/bin/python benchmarks/search_benchmark.py --backends sqlite --episodes 50 --per-query

Results and analysis: docs/search-benchmark.md.
"""

import argparse
import gc
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = "postgres://postgres@127.0.0.1:5432/"
CATEGORIES = ("rare", "common", "phrase", "prefix", "typo")
ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "kr", "st", "tr", "sh"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"]
CODAS = ["", "", "n", "r", "l", "k", "v", "sk", "m"]
STOPWORDS = "the of and to in a was that he his it by with for as on had were which at from they this their".split()
# Share of all words: "party" is in ~40% of sentences, "war" in ~10%.
COMMON = {"party": 0.025, "soviet": 0.02, "government": 0.015, "committee": 0.012, "central": 0.01,
          "people": 0.009, "power": 0.008, "moscow": 0.007, "state": 0.006, "war": 0.005}
MEDIUM = "secret police red army congress trial plan year five civil show commissar peasants workers".split()
PHRASES = ["central committee", "secret police", "red army", "party congress", "soviet government",
           "show trial", "five year plan", "civil war", "people's commissar", "state power"]
P_MENTION, P_PHRASE = 0.012, 0.004  # per word: a name (~5 mentions per entry), a set phrase


def pseudo_word(rng, syllables):
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables - 1)) + (
        rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS))


def zipf(count, mass, shift):
    raw = [1 / (rank + shift) for rank in range(count)]
    total = sum(raw)
    return [mass * weight / total for weight in raw]


def make_vocabulary(rng, tail_size=30000):
    reserved = set(STOPWORDS) | set(COMMON) | set(MEDIUM)
    tail = [w for w in dict.fromkeys(pseudo_word(rng, rng.randint(1, 3)) for _ in range(45000)) if w not in reserved]
    tail = tail[:tail_size]
    rest = 1 - 0.35 - sum(COMMON.values()) - 0.002 * len(MEDIUM)
    weights = zipf(len(STOPWORDS), 0.35, 1) + list(COMMON.values()) + [0.002] * len(MEDIUM) + zipf(len(tail), rest, 5)
    return STOPWORDS + list(COMMON) + MEDIUM + tail, list(accumulate(weights))


def make_entities(rng, count, taken):
    """People and terms as dicts: model fields, `mentions` (what transcripts say), `key` (what readers type)."""
    def fresh(syllables):
        while (word := pseudo_word(rng, syllables).capitalize()).lower() in taken:
            pass
        taken.add(word.lower())
        return word

    firsts = [fresh(2) for _ in range(200)]
    people, terms = [], []
    for _ in range(count // 2):
        first, surname = rng.choice(firsts), fresh(rng.randint(2, 3))
        variant = surname[1:].capitalize() if len(surname) > 5 else surname + "a"  # Yezhov / Ezhov
        people.append({"name": f"{first} {surname}", "full_name": f"{first} {fresh(2)}ovich {surname}",
                       "aliases": f"{surname}\n{variant}", "key": surname, "hits": 0,
                       "mentions": [surname, surname, f"{first} {surname}", variant]})
    for _ in range(count - count // 2):
        words = [fresh(rng.randint(2, 3)) for _ in range(rng.choice([1, 1, 2]))]
        name = " ".join(words) if rng.random() < 0.5 else " ".join(words).lower()
        alias = f"{name} {rng.choice(['movement', 'affair', 'decree', 'commission'])}"
        terms.append({"name": name, "aliases": alias, "key": name, "hits": 0,
                      "mentions": [name, name, alias]})
    return people, terms


def generate(rng, args):
    from django.db import transaction

    from episodes.models import Episode, Person, Sentence, Source, Term

    words, cum = make_vocabulary(rng)
    people, terms = make_entities(rng, args.entities, {w.lower() for w in words})
    entities = people + terms

    def filler(low, high):
        return " ".join(rng.choices(words, cum_weights=cum, k=rng.randint(low, high)))

    total_words = 0
    with transaction.atomic():
        Person.objects.bulk_create([
            Person(slug=f"person-{i}", name=p["name"], full_name=p["full_name"], aliases=p["aliases"],
                   role=filler(4, 8), biography=filler(30, 80)) for i, p in enumerate(people)], batch_size=1000)
        Term.objects.bulk_create([
            Term(slug=f"term-{i}", name=t["name"], aliases=t["aliases"], definition=filler(6, 14),
                 article=filler(30, 80)) for i, t in enumerate(terms)], batch_size=1000)
        Source.objects.bulk_create([
            Source(slug=f"source-{i}", title=filler(3, 7).capitalize(), author=rng.choice(people)["full_name"],
                   publisher=filler(1, 3).title(), note=filler(0, 20)) for i in range(args.entities // 25)])
        episodes = Episode.objects.bulk_create([
            Episode(number=n, title=f"Episode {n}: {filler(2, 5)}", slug=f"episode-{n}")
            for n in range(1, args.episodes + 1)])
        for episode in episodes:
            batch, count, paragraph = [], 0, 1
            while count < args.words:
                tokens = rng.choices(words, cum_weights=cum, k=rng.randint(15, 30))
                for i in range(len(tokens)):
                    chance = rng.random()
                    if chance < P_MENTION:
                        entity = rng.choice(entities)
                        entity["hits"] += 1
                        tokens[i] = rng.choice(entity["mentions"])
                    elif chance < P_MENTION + P_PHRASE:
                        tokens[i] = rng.choice(PHRASES)
                text = " ".join(tokens)
                count += len(text.split())
                paragraph += bool(batch) and rng.random() < 0.2
                batch.append(Sentence(episode=episode, position=len(batch) + 1, paragraph=paragraph,
                                      text=text[0].upper() + text[1:] + "."))
            Sentence.objects.bulk_create(batch)
            total_words += count
    return people, terms, total_words


def make_queries(rng, people, terms):
    pool = [e["key"] for e in people + terms if 2 <= e["hits"] <= 10 and " " not in e["key"] and len(e["key"]) >= 6]
    names = rng.sample(pool, 30)

    def typo(word):  # two letters swapped, or one dropped
        i = rng.randrange(1, len(word) - 2)
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        return swapped if rng.random() < 0.5 and swapped != word else word[:i] + word[i + 1:]

    return {"rare": names[:10], "common": list(COMMON), "phrase": [f'"{p}"' for p in PHRASES],
            "prefix": [name[: 3 + i % 2] for i, name in enumerate(names[10:20])],
            "typo": [typo(name) for name in names[20:30]]}


def naive(query):
    """The obvious implementation: icontains everywhere, a count and the first page of each group."""
    from django.db.models import Q

    from episodes.models import Person, Sentence, Source, Term

    needles = re.findall(r'"([^"]*)"', query) + re.sub(r'"[^"]*"', " ", query).split()
    sentences = Sentence.objects.select_related("episode")
    for needle in needles:
        sentences = sentences.filter(text__icontains=needle)
    whole = " ".join(needles)
    groups = [(sentences, 20), (Term.objects.matching(whole), 5), (Person.objects.matching(whole), 5),
              (Source.objects.filter(Q(title__icontains=whole) | Q(author__icontains=whole)), 5)]
    return [(queryset.count(), list(queryset[:size])) for queryset, size in groups]


def fts_lookup(query):
    """Only the index lookups a search makes (entries in three groups, transcript moments), as the yardstick."""
    from episodes.search import GROUPS, Expansion, backend, parse_query

    parsed, engine = parse_query(query), backend()
    for key in ("terms", "people", "sources"):
        engine.entity_hits(GROUPS[key][1], parsed)
    engine.moments(parsed, Expansion(), 0, 10)  # the words as typed, no entry's names


def timed_runs(function, repeat, cpu=None):
    """Wall-clock ms of each run after a warm-up; with a cpu list, also this process's CPU ms of each."""
    result, runs = function(), []  # the first call warms up
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        runs.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1000)
    return runs, result


def worker(args):
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "companion.settings"
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from episodes.models import Episode, Person, Sentence, Source, Term
    from episodes.search import search

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # the page names hashed static files
    rng, start = random.Random(args.seed), time.perf_counter()
    people, terms, words = generate(rng, args)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    generation = time.perf_counter() - start
    models = (Episode, Sentence, Term, Person, Source)
    rows = {str(model._meta.verbose_name_plural): model.objects.count() for model in models}
    print(f"[{args.worker}] data generated in {generation:.0f} s", flush=True)
    # As the server's workers do (gunicorn.conf.py): what is alive now, here the generator's
    # lists as well, is kept out of the collector's walks, or a full collection costs 50-80 ms.
    gc.collect()
    gc.freeze()
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")

    def page(query):
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200, response.status_code
        return response

    results, load_before = [], os.getloadavg()[0]
    for category, queries in make_queries(rng, people, terms).items():
        for query in queries:
            search_runs, found = timed_runs(lambda: search(query), args.repeat)
            naive_runs, plain = timed_runs(lambda: naive(query), args.repeat) if not args.skip_naive else ([0], [[0]])
            page_cpu = []
            page_runs, _ = timed_runs(lambda: page(query), args.repeat, page_cpu)
            lookup_runs, _ = timed_runs(lambda: fts_lookup(query), args.repeat)
            results.append({"category": category, "query": query, "search": search_runs, "naive": naive_runs,
                            "page": page_runs, "page_cpu": page_cpu, "lookup": lookup_runs,
                            "hits": next(g.count for g in found.groups if g.key == "moments"),
                            "naive_hits": plain[0][0]})
    load = " → ".join(f"{value:.1f}" for value in (load_before, os.getloadavg()[0]))
    Path(args.out).write_text(json.dumps({"generation": generation, "rows": {**rows, "words": words},
                                          "queries": results, "load": load}))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def report(backend, data, per_query):
    queries = data["queries"]
    print(f"\n{backend}: data generated in {data['generation']:.0f} s; rows: "
          + ", ".join(f"{count:,} {name}" for name, count in data["rows"].items()))
    lines, p95 = [("category", "median hits", "search p50", "search p95", "naive p50", "naive p95", "p95 ratio")], {}
    for category in (*CATEGORIES, "all"):
        chosen = [q for q in queries if category in (q["category"], "all")]
        fast, slow = ([t for q in chosen for t in q[kind]] for kind in ("search", "naive"))
        p95[category] = percentile(fast, 95) / percentile(slow, 95) if percentile(slow, 95) else float("nan")
        lines.append((category, f"{sorted(q['hits'] for q in chosen)[len(chosen) // 2]:,}",
                      *(f"{percentile(times, p):.1f} ms" for times in (fast, slow) for p in (50, 95)),
                      f"{p95[category]:.2f}x"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for index, line in enumerate(lines):
        print("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if index == 0:
            print("  ".join("-" * w for w in widths))
    worst = max(queries, key=lambda q: percentile(q["search"], 95))
    worst_p95 = percentile(worst["search"], 95)
    verdict = ("MET" if worst_p95 <= 50 else "MISSED") if backend == "sqlite" else "(the goal is for SQLite)"
    print(f"Goal rare p95 <= 0.1x naive p95:  {p95['rare']:.3f}x  {'MET' if p95['rare'] <= 0.1 else 'MISSED'}\n"
          f"Goal common p95 <= naive p95:     {p95['common']:.3f}x  {'MET' if p95['common'] <= 1 else 'MISSED'}\n"
          f"Goal every query's p95 <= 50 ms:  worst {worst_p95:.1f} ms ({worst['category']} {worst['query']}), "
          f"{sum(percentile(q['search'], 95) > 50 for q in queries)} of {len(queries)} over  {verdict}")
    page_goal = 20 if backend == "sqlite" else 50
    pages = [t for q in queries for t in q["page"]]
    cpu = [t for q in queries for t in q["page_cpu"]]
    lookups = [t for q in queries for t in q["lookup"]]
    worst_page = max(queries, key=lambda q: percentile(q["page"], 95))
    print(f"Whole page (Django's test client, every group rendered): p50 {percentile(pages, 50):.1f} ms, "
          f"p95 {percentile(pages, 95):.1f} ms, max {max(pages):.1f} ms; worst query p95 "
          f"{percentile(worst_page['page'], 95):.1f} ms ({worst_page['category']} {worst_page['query']})\n"
          f"The FTS lookups alone: p50 {percentile(lookups, 50):.2f} ms, p95 {percentile(lookups, 95):.2f} ms; "
          f"page / lookup at p50: {percentile(pages, 50) / percentile(lookups, 50):.1f}x\n"
          f"The page's CPU time in this process (SQLite's work included, PostgreSQL's not; other load on "
          f"the machine hardly counts): p50 {percentile(cpu, 50):.1f} ms, p95 {percentile(cpu, 95):.1f} ms, "
          f"max {max(cpu):.1f} ms\n"
          f"Goal page p95 <= {page_goal} ms:        {percentile(pages, 95):.1f} ms  "
          f"{'MET' if percentile(pages, 95) <= page_goal else 'MISSED'} (wall clock; load average "
          f"{data.get('load', '?')})")
    for category in CATEGORIES:
        chosen = [t for q in queries if q["category"] == category for t in q["page"]]
        print(f"  page {category:7} p50 {percentile(chosen, 50):6.1f} ms  p95 {percentile(chosen, 95):6.1f} ms")
    if per_query:
        print(f"\n{'category':8}  {'query':22}  {'hits':>6}  {'naive hits':>10}  search p50 / p95 ms"
              "  naive p50 / p95 ms")
        for q in queries:
            print(f"{q['category']:8}  {q['query']:22}  {q['hits']:6}  {q['naive_hits']:10}  "
                  + "  ".join(f"{percentile(q[k], 50):8.1f} {percentile(q[k], 95):8.1f}" for k in ("search", "naive")))


def run_backend(backend, argv, pg_database):
    """Create the throw-away database, run the worker on it, drop it: the worker's figures, or None."""
    scratch, admin = Path(tempfile.mkdtemp(prefix="search-bench-")), None
    try:
        url = f"sqlite:///{scratch / 'bench.sqlite3'}"
        if backend == "postgresql":
            try:
                import psycopg

                admin = psycopg.connect(PG_SERVER + "postgres", autocommit=True, connect_timeout=5)
            except Exception as error:  # noqa: BLE001 - whatever the reason, there is no PostgreSQL to use
                print(f"postgresql: SKIPPED, cannot connect to {PG_SERVER} ({' '.join(str(error).split())})")
                return None
            admin.execute(f"DROP DATABASE IF EXISTS {pg_database} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {pg_database}")
            url = PG_SERVER + pg_database
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "search-benchmark",
               # The page through Django's test client: plain HTTP, no log line per request.
               "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_LOG_LEVEL": "WARNING",
               "DJANGO_STATIC_ROOT": str(scratch / "static")}
        out = scratch / "results.json"
        command = [sys.executable, __file__, "--worker", backend, "--out", str(out), *argv]
        if subprocess.run(command, env=env, cwd=ROOT).returncode != 0:
            print(f"{backend}: the worker failed (see above)")
            return None
        return json.loads(out.read_text())
    finally:
        if admin is not None:
            admin.execute(f"DROP DATABASE IF EXISTS {pg_database} WITH (FORCE)")
            admin.close()
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated (default sqlite,postgresql)")
    for name, default, meaning in [("episodes", 500, "episodes"), ("words", 4000, "words per episode"),
                                   ("entities", 5000, "terms and people, half each"),
                                   ("repeat", 5, "timed runs per query, after a warm-up"), ("seed", 1, "random seed")]:
        parser.add_argument(f"--{name}", type=int, default=default, help=f"{meaning} (default {default})")
    parser.add_argument("--per-query", action="store_true", help="also print each query's figures")
    parser.add_argument("--skip-naive", action="store_true", help="leave out the naive scans (a quicker run)")
    parser.add_argument("--pg-database", default="companion_bench", help="the throw-away PostgreSQL database")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    began = time.perf_counter()
    argv = [f"--{name}={getattr(args, name)}" for name in ("episodes", "words", "entities", "repeat", "seed")]
    argv += ["--skip-naive"] if args.skip_naive else []
    figures = {backend: run_backend(backend, argv, args.pg_database) for backend in args.backends.split(",")}
    print(f"\nSearch benchmark: {os.cpu_count()} CPUs, {args.repeat} timed runs per query after a warm-up, "
          f"seed {args.seed}")
    for backend, data in figures.items():
        if data:
            report(backend, data, args.per_query)
    print(f"\nTotal run time: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
