"""
Benchmark episodes.search.search() on each database backend beside a naive icontains scan.

For each backend, in one run, the script re-invokes itself as a subprocess (--worker, with
DATABASE_URL set, so Django is set up afresh) on a throw-away database: SQLite in a
temporary file, PostgreSQL as `companion_bench` on postgres://postgres@127.0.0.1:5432/
(skipped with a message if unreachable). Both are dropped afterwards. The worker migrates,
then generates deterministically (random.Random(seed)) a catalogue the size of the real
show: 500 episodes of ~4,000 words in 15-30-word sentences (a few very common words, a
long Zipf tail), 5,000 terms and people with aliases whose names are mentioned a few times
each in the transcripts, and 200 sources. It times 50 queries, 10 in each category:
rare names, common words, quoted phrases, prefixes (first 3-4 letters of a name) and typos
of names (a letter dropped or two swapped):

- search: search(q), every group, first page, as the results page runs it;
- naive: what a plain implementation would do: sentences whose text icontains every word
  (or the phrase, or the typo) -> count + first 20 by episode and position; terms and
  people whose name or aliases icontains the query, sources whose title or author does
  -> count + first 5 of each.

Each query runs once to warm up, then --repeat times; p50/p95 are over all runs of a
category. About 6 minutes on a 2-core machine with the defaults. Run from the repo root:

    .venv/bin/python benchmarks/search_benchmark.py
    .venv/bin/python benchmarks/search_benchmark.py --backends sqlite --episodes 50 --per-query

Results and analysis: docs/search-benchmark.md.
"""

import argparse
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
PG_DATABASE = "companion_bench"
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
    return [mass * weight / sum(raw) for weight in raw]


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
                       "aliases": f"{surname}\n{variant}", "key": surname,
                       "mentions": [surname, surname, f"{first} {surname}", variant]})
    for _ in range(count - count // 2):
        words = [fresh(rng.randint(2, 3)) for _ in range(rng.choice([1, 1, 2]))]
        name = " ".join(words) if rng.random() < 0.5 else " ".join(words).lower()
        alias = f"{name} {rng.choice(['movement', 'affair', 'decree', 'commission'])}"
        terms.append({"name": name, "aliases": alias, "key": name, "mentions": [name, name, alias]})
    return people, terms


def generate(rng, args):
    from django.db import transaction

    from episodes.models import Episode, Person, Sentence, Source, Term

    words, cum = make_vocabulary(rng)
    people, terms = make_entities(rng, args.entities, {w.lower() for w in words})
    entities = people + terms
    for entity in entities:
        entity["hits"] = 0

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

    def typo(word):
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


def timed_runs(function, repeat):
    result = function()  # warm-up
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        runs.append((time.perf_counter() - start) * 1000)
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
    rng = random.Random(args.seed)
    start = time.perf_counter()
    people, terms, total_words = generate(rng, args)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    generation = time.perf_counter() - start
    rows = {model.__name__: model.objects.count() for model in (Episode, Sentence, Term, Person, Source)}
    rows["words"] = total_words
    print(f"[{args.worker}] generated in {generation:.0f} s: " + ", ".join(f"{v:,} {k}" for k, v in rows.items()),
          flush=True)
    results = []
    for category, queries in make_queries(rng, people, terms).items():
        for query in queries:
            search_runs, found = timed_runs(lambda: search(query), args.repeat)
            naive_runs, plain = timed_runs(lambda: naive(query), args.repeat)
            results.append({"category": category, "query": query, "search": search_runs, "naive": naive_runs,
                            "moments": found.groups[-1].count, "naive_moments": plain[0][0]})
    Path(args.out).write_text(json.dumps({"generation": generation, "rows": rows, "queries": results}))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def report(backend, data, per_query):
    queries = data["queries"]
    print(f"\n{backend}: generated in {data['generation']:.0f} s; "
          + ", ".join(f"{v:,} {k}" for k, v in data["rows"].items()))
    header = ("category", "median hits", "search p50", "search p95", "naive p50", "naive p95", "p95 search/naive")
    lines, p95 = [header], {}
    for category in (*CATEGORIES, "all"):
        chosen = [q for q in queries if category in (q["category"], "all")]
        s = [t for q in chosen for t in q["search"]]
        n = [t for q in chosen for t in q["naive"]]
        p95[category] = (percentile(s, 95), percentile(n, 95))
        hits = sorted(q["moments"] for q in chosen)[len(chosen) // 2]
        lines.append((category, f"{hits:,}", f"{percentile(s, 50):.1f} ms", f"{p95[category][0]:.1f} ms",
                      f"{percentile(n, 50):.1f} ms", f"{p95[category][1]:.1f} ms",
                      f"{p95[category][0] / p95[category][1]:.2f}x"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for index, line in enumerate(lines):
        print("  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if index == 0:
            print("  ".join("-" * w for w in widths))
    worst = max(queries, key=lambda q: percentile(q["search"], 95))
    worst_p95 = percentile(worst["search"], 95)
    ratio = p95["rare"][0] / p95["rare"][1]
    print(f"Goal rare p95 <= 0.1x naive:   {ratio:.3f}x  {'MET' if ratio <= 0.1 else 'MISSED'}")
    ratio = p95["common"][0] / p95["common"][1]
    print(f"Goal common p95 <= naive:      {ratio:.2f}x  {'MET' if ratio <= 1 else 'MISSED'}")
    verdict = ("MET" if worst_p95 <= 50 else "MISSED") if backend == "sqlite" else "(goal is for SQLite)"
    print(f"Goal every p95 <= 50 ms:       worst {worst_p95:.1f} ms ({worst['category']} {worst['query']!r})  {verdict}")
    if per_query:
        print(f"\n{'category':8}  {'query':22}  {'hits':>6}  {'naive hits':>10}  {'search p50/p95 ms':>17}  naive p50/p95 ms")
        for q in queries:
            print(f"{q['category']:8}  {q['query']:22}  {q['moments']:6}  {q['naive_moments']:10}  "
                  f"{percentile(q['search'], 50):7.1f} {percentile(q['search'], 95):7.1f}    "
                  f"{percentile(q['naive'], 50):7.1f} {percentile(q['naive'], 95):7.1f}")


def run_backend(backend, args, argv):
    """Create the throw-away database, run the worker on it, drop it; the worker's figures or None."""
    scratch = Path(tempfile.mkdtemp(prefix="search-bench-"))
    admin = None
    try:
        if backend == "sqlite":
            url = f"sqlite:///{scratch / 'bench.sqlite3'}"
        else:
            try:
                import psycopg

                admin = psycopg.connect(PG_SERVER + "postgres", autocommit=True, connect_timeout=5)
            except Exception as error:  # noqa: BLE001 - any failure means: no PostgreSQL here
                print(f"\npostgresql: skipped, cannot connect to {PG_SERVER} ({str(error).strip()})")
                return None
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_DATABASE}")
            url = PG_SERVER + PG_DATABASE
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "search-benchmark"}
        out = scratch / "results.json"
        command = [sys.executable, __file__, "--worker", backend, "--out", str(out), *argv]
        if subprocess.run(command, env=env, cwd=ROOT).returncode != 0:
            print(f"\n{backend}: the worker failed (see above)")
            return None
        return json.loads(out.read_text())
    finally:
        if admin is not None:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            admin.close()
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated (default sqlite,postgresql)")
    parser.add_argument("--episodes", type=int, default=500, help="episodes (default 500)")
    parser.add_argument("--words", type=int, default=4000, help="words per episode (default 4000)")
    parser.add_argument("--entities", type=int, default=5000, help="terms + people, half each (default 5000)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query, after one warm-up (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--per-query", action="store_true", help="also print every query's figures")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    argv = [f"--{name}={getattr(args, name)}" for name in ("episodes", "words", "entities", "repeat", "seed")]
    began = time.perf_counter()
    figures = {backend: run_backend(backend, args, argv) for backend in args.backends.split(",")}
    print(f"\nSearch benchmark: {os.cpu_count()} CPUs, {args.repeat} timed runs per query after a warm-up, seed {args.seed}")
    for backend, data in figures.items():
        if data:
            report(backend, data, args.per_query)
    print(f"\nTotal run time: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
