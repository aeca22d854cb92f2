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
- an alias may have a Rule: it links only in one episode or one series,
  never in some series, and never near some phrases (an ambiguity: "Kirov
  Plant" is a factory, "Molotov cocktail" a bottle),
- nothing links inside the title of a cited work, written as the title is
  ("Stalin" in *Stalin: New Biography of a Dictator*); a match may cover
  the whole title,
- the longest match wins and mentions never overlap.

The same automaton holds the rules' phrases and the titles, so the text is
still scanned once. The module knows nothing about the database: targets,
episodes and series are opaque keys.
"""

from collections import defaultdict
from dataclasses import dataclass
from enum import Enum

import ahocorasick

# Same-length substitutions so offsets in the folded text are offsets in the original.
FOLD = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "‐": "-", "‑": "-"})
# A possessive needs nothing: the apostrophe already ends the word, and the
# link covers the name alone ("[Stalin]'s").
PLURAL_SUFFIXES = ("es", "s")
# A title's leading article is left out, so "the Great Terror" (an event)
# is not taken for Conquest's book *The Great Terror*.
ARTICLES = ("the ", "a ", "an ")


@dataclass(frozen=True, slots=True)
class Match:
    start: int
    end: int
    target: object


@dataclass(frozen=True, slots=True)
class Rule:
    """
    Where an alias may link. `episode` or `series`: only there (keys, as
    find() is given them); `not_in_series`: never there; `not_near`: phrases
    that mean something else. A phrase containing the alias ("Kirov Plant")
    keeps anything from linking inside it; any other phrase ("aircraft")
    keeps the alias from linking in a text that also says it.
    """

    episode: object = None
    series: object = None
    not_in_series: frozenset = frozenset()
    not_near: tuple = ()

    def applies(self, episode, series):
        if self.episode is not None and self.episode != episode:
            return False
        if self.series is not None and self.series != series:
            return False
        return series is None or series not in self.not_in_series


EVERYWHERE = Rule()


class Kind(Enum):
    ALIAS = "alias"
    PHRASE = "phrase"  # one of the rules' not_near phrases
    TITLE = "title"  # the title of a cited work


@dataclass(frozen=True, slots=True)
class Pattern:
    kind: Kind
    length: int
    capitalised: bool
    target: object = None  # a phrase's is its folded text, a title's its exact text
    rule: Rule = EVERYWHERE
    # The rule's phrases as (folded key, whether the phrase contains the alias).
    guards: tuple = ()


BLOCKED = object()  # the target of a phrase that keeps every link out of it


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


def tidy(text):
    return " ".join(str(text).split())


def contains_words(text, words):
    """Whether folded `words` occur in folded `text` as whole words."""
    start = text.find(words)
    while start >= 0:
        end = start + len(words)
        if (start == 0 or not is_word_char(text[start - 1])) and (
            end == len(text) or not is_word_char(text[end])
        ):
            return True
        start = text.find(words, start + 1)
    return False


class Linker:
    def __init__(self, aliases, titles=()):
        """
        `aliases` is an iterable of (alias, target) or (alias, target, Rule);
        `titles` the titles of cited works, inside which nothing links.
        """
        self.automaton = ahocorasick.Automaton()
        count = 0
        for alias, target, *rule in aliases:
            rule = rule[0] if rule else EVERYWHERE
            alias = tidy(alias)
            if not alias:
                continue
            key = fold(alias)
            guards = tuple(
                (self.add(Kind.PHRASE, phrase), contains_words(fold(tidy(phrase)), key))
                for phrase in rule.not_near if tidy(phrase)
            )
            self.add(Kind.ALIAS, alias, target=target, rule=rule, guards=guards)
            count += 1
        self.alias_count = count
        for title in titles:
            title = tidy(title)
            article = next((a for a in ARTICLES if fold(title).startswith(a)), "")
            if len(title) > len(article):
                self.add(Kind.TITLE, title[len(article):])
        if count:
            self.automaton.make_automaton()

    def add(self, kind, text, **details):
        """Add a pattern under its folded text (a phrase or title once); returns the key."""
        text = tidy(text)
        key = fold(text)
        patterns = self.automaton.get(key, [])
        if kind is Kind.ALIAS or all(pattern.kind is not kind for pattern in patterns):
            if kind is Kind.PHRASE:  # found by its key
                details["target"] = key
            elif kind is Kind.TITLE:  # must match case and all
                details["target"] = text.translate(FOLD)
            patterns.append(Pattern(kind, len(key), text[0].isupper(), **details))
            self.automaton.add_word(key, patterns)
        return key

    def find(self, text, episode=None, series=None):
        """
        Non-overlapping matches in text order, longest first where they
        compete, for a text of the given episode and series (keys, as the
        rules name them; an alias bound to an episode or series links
        nowhere when they are not given).
        """
        if not self.alias_count or not text:
            return []
        folded = fold(text)
        aliases, phrases, titles = [], defaultdict(list), []
        for last, patterns in self.automaton.iter(folded):
            for pattern in patterns:
                start = last - pattern.length + 1
                if start > 0 and is_word_char(folded[start - 1]):
                    continue
                if pattern.capitalised and not text[start].isupper():
                    continue
                end = word_end(folded, last + 1)
                if end is None:
                    continue
                if pattern.kind is Kind.ALIAS:
                    aliases.append((start, end, pattern))
                elif pattern.kind is Kind.PHRASE:
                    phrases[pattern.target].append((start, end))
                elif text[start:last + 1].translate(FOLD) == pattern.target:
                    titles.append((start, end))
        candidates = []
        for start, end, pattern in aliases:
            if pattern.rule is not EVERYWHERE:
                if not pattern.rule.applies(episode, series):
                    continue
                match = guarded(Match(start, end, pattern.target), pattern.guards, phrases)
            else:
                match = Match(start, end, pattern.target)
            if match is not None and not splits_a_title(match, titles):
                candidates.append(match)
        return [match for match in choose_longest(candidates) if match.target is not BLOCKED]


def guarded(match, guards, phrases):
    """
    The match, or None when a phrase elsewhere in the text rules it out, or
    a BLOCKED match over the phrase that surrounds it.
    """
    for key, surrounds in guards:
        for start, end in phrases.get(key, ()):
            if not surrounds:
                return None
            if start <= match.start and match.end <= end:
                return Match(start, end, BLOCKED)
    return match


def splits_a_title(match, titles):
    """Whether the match reaches into a title without covering all of it."""
    return any(
        match.start < end and start < match.end and not (match.start <= start and end <= match.end)
        for start, end in titles
    )


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
    """Longest first, then leftmost; at equal length and place a real link beats a blocked phrase."""
    chosen = []
    taken = []
    order = sorted(candidates, key=lambda m: (m.start - m.end, m.start, m.target is BLOCKED))
    for match in order:
        if all(match.end <= start or match.start >= end for start, end in taken):
            chosen.append(match)
            taken.append((match.start, match.end))
    return sorted(chosen, key=lambda m: m.start)
