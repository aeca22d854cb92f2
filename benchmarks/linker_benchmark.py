"""
Benchmark episodes.linker.Linker against a single-big-regex baseline.

It generates, in memory and deterministically (random.Random(seed)), a
glossary of aliases (proper names, lower-case terms, names sharing prefixes,
names with apostrophes) and a set of episodes split into sentences with alias
mentions sprinkled in. It then times:

  (a) building the Linker (the Aho-Corasick automaton),
  (b) Linker.find over every sentence of every episode,
  (c) the baseline: ONE compiled regex, an alternation of every escaped alias,
      longest first, between word boundaries with an optional plural suffix,
      compiled with re.IGNORECASE and run with finditer over the same
      sentences. The baseline ignores the capitalisation rule, so its match
      count is not expected to equal the Linker's.

Run from the repository root (no Django settings needed):

    python benchmarks/linker_benchmark.py
    python benchmarks/linker_benchmark.py --episodes 50 --baseline-episodes 10
"""

import argparse
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from episodes.linker import Linker  # noqa: E402

ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "kr", "st", "tr", "sh"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"]
CODAS = ["", "", "n", "r", "l", "k", "v", "sk", "m"]


def pseudo_word(rng, syllables):
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables - 1)) + (
        rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
    )


def make_aliases(rng, count):
    """`count` distinct (alias, target) pairs: names, terms, shared prefixes, apostrophes."""
    words = sorted({pseudo_word(rng, rng.randint(2, 3)) for _ in range(count * 2)})
    aliases = set()
    ordered = []

    def add(alias):
        if alias not in aliases and len(alias.split()) <= 4:
            aliases.add(alias)
            ordered.append(alias)

    while len(ordered) < count:
        kind = rng.random()
        if kind < 0.40:  # capitalised proper name, 1-3 words
            add(" ".join(rng.choice(words).capitalize() for _ in range(rng.choice([1, 1, 2, 2, 3]))))
        elif kind < 0.70:  # lower-case term, 1-2 words
            add(" ".join(rng.choice(words) for _ in range(rng.choice([1, 1, 2]))))
        elif kind < 0.90 and ordered:  # extend an existing alias: longest match matters
            base = rng.choice(ordered)
            extra = rng.choice(words)
            add(f"{base} {extra.capitalize() if base[0].isupper() else extra}"[:80])
        else:  # apostrophes: "O'Varkin", "people's drusk"
            if rng.random() < 0.5:
                add(f"{rng.choice('ODL')}'{rng.choice(words).capitalize()}")
            else:
                add(f"{rng.choice(words)}'s {rng.choice(words)}")
    # Roughly two aliases per target, as with a name and its variants.
    return [(alias, index // 2) for index, alias in enumerate(ordered)], set(words)


def make_episodes(rng, aliases, episode_count, word_count):
    """Episodes as lists of sentences; about 3% of words start an alias mention."""
    alias_words = {word.lower() for alias, _ in aliases for word in alias.split()}
    filler = []
    while len(filler) < 3000:
        word = pseudo_word(rng, rng.randint(1, 3))
        if word not in alias_words:
            filler.append(word)
    filler += ["the", "a", "of", "and", "in", "to", "was", "his", "her", "that", "by", "with"] * 30
    names = [alias for alias, _ in aliases]
    episodes = []
    for _ in range(episode_count):
        sentences, words = [], 0
        while words < word_count:
            tokens = []
            for _ in range(rng.randint(15, 30)):
                if rng.random() < 0.03:
                    mention = rng.choice(names)
                    if mention[0].islower() and rng.random() < 0.2:
                        mention = mention.capitalize()
                    elif mention[0].isupper() and rng.random() < 0.05:
                        mention = mention.lower()  # "white", not "White": the Linker skips it
                    suffix = rng.random()
                    mention += "s" if suffix < 0.1 else "’s" if suffix < 0.2 else ""
                    tokens.extend(mention.split())
                else:
                    tokens.append(rng.choice(filler) + ("," if rng.random() < 0.05 else ""))
            tokens[0] = tokens[0][0].upper() + tokens[0][1:]
            sentences.append(" ".join(tokens) + ".")
            words += len(tokens)
        episodes.append(sentences)
    return episodes


def build_regex(aliases):
    parts = sorted({alias for alias, _ in aliases}, key=len, reverse=True)
    # Let an apostrophe in an alias match a curly one in the text, as the Linker does.
    body = "|".join(re.escape(alias).replace("'", "['’]") for alias in parts)
    return re.compile(rf"\b(?:{body})(?:es|s)?\b", re.IGNORECASE)


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.strip().splitlines()[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=500, help="episodes to generate (default 500)")
    parser.add_argument("--words", type=int, default=4000, help="words per episode (default 4000)")
    parser.add_argument("--aliases", type=int, default=5000, help="aliases in the glossary (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--baseline-episodes", type=int, default=None,
        help="episodes the regex baseline scans (default: all of --episodes). With fewer,\n"
        "the measured time is also extrapolated linearly to all episodes. The regex\n"
        "scans ~0.6 s per 4,000-word episode on a 2-core machine (measured on 20),\n"
        "so the full default run takes ~5 minutes; use e.g. 20 for a quick look.",
    )
    args = parser.parse_args()
    baseline_count = min(args.episodes, args.baseline_episodes or args.episodes)

    rng = random.Random(args.seed)
    aliases, _ = make_aliases(rng, args.aliases)
    episodes = make_episodes(rng, aliases, args.episodes, args.words)
    sentences = [sentence for episode in episodes for sentence in episode]
    subset = [sentence for episode in episodes[:baseline_count] for sentence in episode]
    total_words = sum(len(sentence.split()) for sentence in sentences)
    subset_words = sum(len(sentence.split()) for sentence in subset)
    print(f"Data: {len(aliases)} aliases, {args.episodes} episodes, {len(sentences)} sentences, "
          f"{total_words} words (seed {args.seed})")

    linker, build_time = timed(lambda: Linker(aliases))
    counts, link_time = timed(lambda: [len(linker.find(sentence)) for sentence in sentences])
    linker_matches, linker_subset_matches = sum(counts), sum(counts[: len(subset)])
    print(f"Linker: built in {build_time:.3f} s, linked all sentences in {link_time:.2f} s")

    pattern, compile_time = timed(lambda: build_regex(aliases))
    print(f"Regex: compiled in {compile_time:.3f} s; scanning {baseline_count} of {args.episodes} episodes "
          f"(--baseline-episodes) ...", flush=True)
    regex_matches, scan_time = timed(
        lambda: sum(1 for sentence in subset for _ in pattern.finditer(sentence))
    )
    extrapolated = baseline_count < args.episodes
    scale = total_words / subset_words
    full_scan = scan_time * scale

    rows = [
        ("", "Linker (Aho-Corasick)", "Single big regex"),
        ("Build / compile (s)", f"{build_time:.3f}", f"{compile_time:.3f}"),
        ("Episodes scanned", str(args.episodes), str(baseline_count)),
        ("Scan time, measured (s)", f"{link_time:.2f}", f"{scan_time:.2f}"),
        ("Matches found, episodes scanned", str(linker_matches), str(regex_matches)),
        ("Words / second", f"{total_words / link_time:,.0f}", f"{subset_words / scan_time:,.0f}"),
    ]
    if extrapolated:
        rows += [
            (f"Matches found, first {baseline_count} episodes", str(linker_subset_matches), str(regex_matches)),
            ("Scan time, all episodes (s)", f"{link_time:.2f}", f"{full_scan:.2f} (extrapolated)"),
        ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print()
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print()
    label = f" (regex time extrapolated from {baseline_count} episodes)" if extrapolated else ""
    print(f"Speed-up, scan: {full_scan / link_time:.1f}x{label}")
    print(f"Speed-up, build + scan: {(compile_time + full_scan) / (build_time + link_time):.1f}x")
    print("The regex baseline ignores the capitalisation rule (re.IGNORECASE throughout), so it also\n"
          "matches proper names written in lower case, which the Linker skips: its count is higher.")


if __name__ == "__main__":
    main()
