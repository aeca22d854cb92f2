"""
Find every mention of every glossary term and person in a text.

One Aho–Corasick automaton (pyahocorasick) holds every name and alias, so a
text is scanned once however many aliases there are; one regex per alias,
or one huge alternation, slows down as the glossary grows (see
benchmarks/linker_benchmark.py). Candidates are then filtered:

- whole words only ("Kirov" is not inside "Kirovsk"),
- possessives and plurals come free ("Stalin's", "show trials"),
- an alias written with a capital only matches capitalised text, so a
  lower-case alias ("kulak") matches any case but "White" never matches
  "white",
- the longest match wins and mentions never overlap.

The module knows nothing about the database: targets are opaque keys.
"""

from dataclasses import dataclass

import ahocorasick

# Same-length substitutions so offsets in the folded text are offsets in the original.
FOLD = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "‐": "-", "‑": "-"})
# A possessive needs nothing: the apostrophe already ends the word, and the
# link covers the name alone ("[Stalin]'s").
PLURAL_SUFFIXES = ("es", "s")


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    target: object


def fold(text):
    """Lower-case with straight apostrophes, keeping every offset in place."""
    folded = text.translate(FOLD).lower()
    if len(folded) != len(text):  # a few characters (İ) lower-case to two
        folded = "".join(
            lowered if len(lowered := char.lower()) == 1 else char
            for char in text.translate(FOLD)
        )
    return folded


def is_word_char(char):
    return char.isalnum() or char == "_"


class Linker:
    def __init__(self, aliases):
        """`aliases` is an iterable of (alias, target) pairs."""
        self.automaton = ahocorasick.Automaton()
        count = 0
        for alias, target in aliases:
            alias = " ".join(alias.split())
            if not alias:
                continue
            key = fold(alias)
            entries = self.automaton.get(key, [])
            entries.append((len(key), alias[0].isupper(), target))
            self.automaton.add_word(key, entries)
            count += 1
        self.alias_count = count
        if count:
            self.automaton.make_automaton()

    def find(self, text):
        """Non-overlapping matches in text order, longest first where they compete."""
        if not self.alias_count or not text:
            return []
        folded = fold(text)
        candidates = []
        for last, entries in self.automaton.iter(folded):
            for length, capitalised, target in entries:
                start = last - length + 1
                if start > 0 and is_word_char(folded[start - 1]):
                    continue
                if capitalised and not text[start].isupper():
                    continue
                end = word_end(folded, last + 1)
                if end is None:
                    continue
                candidates.append(Match(start, end, target))
        return choose_longest(candidates)


def word_end(folded, end):
    """End of the word after an alias ending at `end`, allowing a plural."""
    if end == len(folded) or not is_word_char(folded[end]):
        return end
    for suffix in PLURAL_SUFFIXES:
        stop = end + len(suffix)
        if folded.startswith(suffix, end) and (stop == len(folded) or not is_word_char(folded[stop])):
            return stop
    return None


def choose_longest(candidates):
    chosen = []
    taken = []
    for match in sorted(candidates, key=lambda m: (m.start - m.end, m.start)):
        if all(match.end <= start or match.start >= end for start, end in taken):
            chosen.append(match)
            taken.append((match.start, match.end))
    return sorted(chosen, key=lambda m: m.start)
