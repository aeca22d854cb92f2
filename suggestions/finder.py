"""
Find the people, places, organisations and terms a transcript names, for an
editor to curate (Kindle X-Ray's lesson: candidates by machine, entries by a
person). Plain Python over a list of sentences; it knows nothing of Django.

Where candidates come from, each with its reason:

- capitalised names and phrases ("Martemian Ryutin", "Smolny Institute"),
  joined across "of", "the", "for", "van der"…; a word capitalised only because
  it starts a sentence is not a name when the text also writes it in lower case;
- acronyms ("NKVD", "OGPU");
- quoted titles (“Stalin and the Crisis of Proletarian Dictatorship”);
- lower-case phrases the episode repeats ("show trial", "party purge");
- near-misses and spelling variants of the show's entries ("Jagoda" for
  Yagoda), told apart from names that are merely similar;
- once the show has other transcripts, words and phrases unusual for the show:
  frequent here, rare elsewhere.

A surname is folded into the full name it belongs to ("Ryutin" into
"Martemian Ryutin"), a possessive or plural into its word. Each candidate
keeps every mention (sentence index and span) so the editor sees it in
context, and a suggested kind from the words around it.
"""

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from wordfreq import zipf_frequency

WORD = re.compile(r"[^\W\d_][\w’'\-.]*[\w]|[^\W\d_]", re.UNICODE)
QUOTED = re.compile(r"[“\"]([^”\"]{3,120})[”\"]")
QUOTED_SPAN = re.compile(r"[“\"][^”\"]*[”\"]")
JOINERS = {"of", "the", "for", "de", "van", "der", "von", "la", "le", "del", "di", "du", "al"}
NUMBERED = {"number", "no", "order", "article"}  # "Order Number 447", "Article 58": the number is in the name
# Capitalised for reasons other than being a name: sentence starters, pronouns, dates, the show's own frame.
NOT_NAMES = {
    "i", "a", "an", "the", "this", "that", "these", "those", "it", "its", "he", "she", "they", "we", "you",
    "his", "her", "their", "our", "my", "your", "there", "here", "then", "but", "and", "or", "so", "yet",
    "as", "at", "in", "on", "of", "to", "by", "for", "from", "with", "after", "before", "while", "when",
    "once", "if", "because", "although", "though", "however", "also", "even", "only", "all", "some",
    "many", "most", "one", "two", "three", "first", "second", "third", "last", "next", "now", "today",
    "hello", "welcome", "episode", "part", "series", "history", "thank", "thanks", "well", "oh", "yes",
    "no", "not", "what", "who", "which", "why", "how", "where", "mr", "mrs", "ms", "dr", "sir",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}
STOP = NOT_NAMES | {
    "was", "were", "is", "are", "be", "been", "being", "had", "has", "have", "would", "could", "should",
    "will", "did", "do", "does", "about", "into", "over", "under", "up", "down", "out", "than", "them",
    "him", "more", "much", "very", "just", "any", "each", "every", "other", "such", "own", "same", "which",
    "during", "through", "between", "against", "without", "within", "around", "again", "further", "still",
    "these", "those", "would", "might", "must", "can", "may", "us", "me", "also", "both", "few", "lot",
    "going", "way", "time", "times", "people", "thing", "things", "something", "able", "made", "make",
    "used", "use", "like", "get", "got", "go", "went", "come", "came", "being", "said", "say", "see",
}
ORGANISATION_WORDS = {
    "party", "commissariat", "army", "bureau", "committee", "institute", "union", "centre", "center",
    "bloc", "opposition", "directorate", "administration", "guards", "council", "politburo", "congress",
    "ministry", "police", "navy", "front", "league", "movement", "school", "university",
}
EVENT_WORDS = {
    "trial", "trials", "affair", "purge", "purges", "terror", "revolution", "war", "fire", "operation",
    "operations", "massacre", "assassination", "murder", "battle", "campaign", "famine", "uprising",
}
DOCUMENT_WORDS = {"order", "constitution", "platform", "decree", "speech", "report", "letter", "treaty"}
PLACE_LEAD = {"in", "at", "to", "from", "near", "into", "outside", "around", "across"}
# Endings of verbs and adjectives ("executed", "meekly", "treasonous"): entries are nouns.
NOT_NOUNS = ("ed", "ly", "ous", "ful", "ive", "able", "ible")
# A word this much more frequent here than in English at large is a subject of the episode
# (Zipf scale: log10 of uses per billion words; wordfreq's English figures).
KEYNESS = 2.0
RARE_IN_ENGLISH = 2.9  # said once, but rare anywhere: "kulak", "gulag", "tsarist"
# "anti-Stalin opposition", "post Stalin era", "pre-revolutionary": a stance or a period, named after someone.
COMPOUND = re.compile(r"\b(?:anti|post|pre|pro|counter|neo)[- ][A-Z][\w’']+(?:\s+[a-z]{3,}(?=[\s,.;:]))?")
DEFINING = re.compile(
    r"\b(?:referred to as|known as|so-called|often called|called|termed)\s+(?:the\s+|a\s+)?"
    r"([A-Za-z][\w’'\-]*(?:\s+(?:of\s+the\s+|of\s+)?[A-Za-z][\w’'\-]*){0,3})"
)


@dataclass
class Mention:
    sentence: int
    start: int
    end: int


@dataclass
class Candidate:
    name: str
    kind: str
    reason: str
    mentions: list = field(default_factory=list)
    forms: set = field(default_factory=set)
    score: float = 0.0
    near: str = ""  # the existing entry this looks like a spelling of

    @property
    def key(self):
        return normalise(self.name)


def normalise(text):
    """The key two spellings of one name share: case, apostrophes, possessives and plurals folded."""
    text = " ".join(text.replace("’", "'").split()).casefold()
    text = re.sub(r"'s\b|'\B", "", text)
    return text


def singular(word):
    """A plural's singular, roughly: "trials" → "trial", "purges" → "purge", "kulaks" → "kulak"."""
    lowered = word.casefold()
    if len(lowered) > 4 and lowered.endswith("ies"):
        return lowered[:-3] + "y"
    if len(lowered) > 4 and lowered.endswith(("ches", "shes", "sses", "xes")):
        return lowered[:-2]
    if len(lowered) > 3 and lowered.endswith("s") and not lowered.endswith(("ss", "us", "is")):
        return lowered[:-1]
    return lowered


def singular_key(key):
    return " ".join([*key.split()[:-1], singular(key.split()[-1])]) if key else key


def words(sentence):
    """(start, end, word) with possessives cut off ("Stalin’s" → "Stalin")."""
    found = []
    for match in WORD.finditer(sentence):
        start, end = match.span()
        word = match.group()
        for suffix in ("’s", "'s", "’", "'"):
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                word, end = word[: -len(suffix)], end - len(suffix)
                break
        word = word.rstrip(".")
        found.append((start, start + len(word), word))
    return found


def is_capitalised(word):
    return word[:1].isupper()


def is_acronym(word):
    letters = word.replace(".", "")
    return len(letters) >= 2 and letters.isalpha() and letters.isupper()


class Finder:
    """
    Candidates for one episode's sentences. `known` holds the names and aliases
    of the show's entries (or maps each to its entry's name); `others` is the
    text of the show's other transcripts; `rejected` the names editors refused.
    """

    def __init__(self, sentences, known=(), others=(), rejected=()):
        self.sentences = list(sentences)
        known = known if isinstance(known, dict) else {name: name for name in known}
        self.known = {normalise(name): entry for name, entry in known.items()}
        self.known_spelling = {normalise(name): name for name in known}
        self.rejected = {normalise(name) for name in rejected}
        self.others = list(others)
        self.tokens = [words(sentence) for sentence in self.sentences]
        # Spans inside quotations: a quoted author's vocabulary is theirs, not the episode's subject.
        self.quoted = [[match.span() for match in QUOTED_SPAN.finditer(sentence)] for sentence in self.sentences]
        self.lower_words = Counter(
            word.casefold() for tokens in self.tokens for _, _, word in tokens if not is_capitalised(word)
        )
        # Words written with a capital somewhere other than at a sentence's start.
        self.capitalised_inside = {
            word for tokens in self.tokens for _, _, word in tokens[1:] if is_capitalised(word)
        }

    # ---- where candidates come from ------------------------------------------------

    def capitalised_runs(self):
        """Runs of capitalised words (joined by JOINERS), as (sentence, start, end, [words])."""
        for index, tokens in enumerate(self.tokens):
            sentence = self.sentences[index]
            run = []
            for position, (start, end, word) in enumerate(tokens):
                name_like = is_capitalised(word) and not (
                    word.casefold() in NOT_NAMES
                    or (position == 0 and self.starts_sentence_only(word))
                )
                gap = sentence[run[-1][1]:start] if run else ""
                joined = run and gap.strip() in ("", "-", "’s", "'s") and "\n" not in gap
                if name_like and (not run or joined):
                    run.append((start, end, word))
                    continue
                if run and word.casefold() in JOINERS and gap.strip() == "" and position + 1 < len(tokens) \
                        and is_capitalised(tokens[position + 1][2]):
                    run.append((start, end, word))
                    continue
                yield from self.finish(index, run)
                run = [(start, end, word)] if name_like else []
            yield from self.finish(index, run)

    def in_quotes(self, index, offset):
        return any(start < offset < end for start, end in self.quoted[index])

    def starts_sentence_only(self, word):
        """A capital at a sentence's start only, on a word the text or English uses in lower case."""
        if word.casefold() in self.lower_words:
            return True
        return word not in self.capitalised_inside and zipf_frequency(word, "en") >= 3.0

    def numbered(self, index, end):
        """The number after "Number", "No." or "Article" ends where it does ("Order Number 447" → 447)."""
        match = re.match(r"\.?\s+(\d[\d.]*\d|\d)", self.sentences[index][end:])
        return end + match.end() if match else end

    @staticmethod
    def finish(index, run):
        while run and run[-1][2].casefold() in JOINERS:
            run = run[:-1]
        while run and run[0][2].casefold() in JOINERS:
            run = run[1:]
        if run:
            yield index, run[0][0], run[-1][1], [word for _, _, word in run]

    def quoted_titles(self):
        for index, sentence in enumerate(self.sentences):
            for match in QUOTED.finditer(sentence):
                title = match.group(1).strip(" .,;:")
                parts = title.split()
                capitals = sum(1 for part in parts if is_capitalised(part))
                if 2 <= len(parts) <= 14 and capitals >= max(2, len(parts) // 2):
                    yield index, match.start(1), match.start(1) + len(title), title

    def repeated_phrases(self, minimum=3):
        """Lower-case two- and three-word phrases the episode says at least `minimum` times."""
        counts, where = Counter(), defaultdict(list)
        for index, tokens in enumerate(self.tokens):
            sentence = self.sentences[index]
            for size in (2, 3):
                for i in range(len(tokens) - size + 1):
                    gram = tokens[i : i + size]
                    texts = [word for _, _, word in gram]
                    if any(is_capitalised(text) for text in texts):
                        continue
                    if texts[0] in STOP or texts[-1] in STOP or any(len(text) < 3 for text in texts):
                        continue
                    between = sentence[gram[0][1]:gram[-1][0]]
                    if any(mark in between for mark in ",;:.()“”\""):
                        continue
                    key = " ".join(texts)
                    counts[key] += 1
                    where[key].append((index, gram[0][0], gram[-1][1]))
        for key, count in counts.items():
            if count >= minimum:
                yield key, where[key]

    def key_words(self):
        """Lower-case words far more frequent here than in English at large: the episode's subjects."""
        total = sum(len(tokens) for tokens in self.tokens) or 1
        counts, where = Counter(), defaultdict(list)
        for index, tokens in enumerate(self.tokens):
            for start, end, word in tokens:
                if is_capitalised(word) or word in STOP or len(word) < 4 or word.endswith(NOT_NOUNS):
                    continue
                if any(char.isupper() for char in word) or self.in_quotes(index, start):
                    continue  # "anti-Stalin" is found whole as a compound; a quote's words are its author's
                key = singular(word)
                counts[key] += 1
                where[key].append((index, start, end, word))
        for key, count in counts.items():
            english = max(zipf_frequency(key, "en"), zipf_frequency(where[key][0][3], "en"))
            here = math.log10(count / total * 1e9)
            if (count >= 2 and here - english >= KEYNESS) or english < RARE_IN_ENGLISH:
                yield key, where[key]

    def defined_terms(self):
        """What the narrator names as a term: "referred to as the Great Purge", "often called …"."""
        for index, sentence in enumerate(self.sentences):
            for match in DEFINING.finditer(sentence):
                phrase = match.group(1)
                if phrase.split()[0].casefold() in STOP:
                    continue  # "called by newspapers", "called for Stalin": not a name for something
                end = match.start(1) + len(phrase)
                while phrase.split()[-1].casefold() in STOP:
                    phrase = phrase.rsplit(None, 1)[0]
                    end = match.start(1) + len(phrase)
                yield index, match.start(1), end, phrase

    def compounds(self):
        for index, sentence in enumerate(self.sentences):
            for match in COMPOUND.finditer(sentence):
                phrase = match.group()
                if phrase.split()[-1] in STOP:
                    phrase = phrase.rsplit(None, 1)[0]
                yield index, match.start(), match.start() + len(phrase), phrase

    def unusual_words(self, limit=40):
        """Words frequent here and rare in the show's other transcripts (needs three or more)."""
        if len(self.others) < 3:
            return []
        elsewhere = Counter()
        for text in self.others:
            elsewhere.update({word.casefold() for _, _, word in words(text)})
        here = Counter(word.casefold() for tokens in self.tokens for _, _, word in tokens)
        total = len(self.others)
        scored = []
        for word, count in here.items():
            if count < 3 or word in STOP or len(word) < 4:
                continue
            rarity = math.log((total + 1) / (elsewhere[word] + 1))
            if rarity > 1.0:
                scored.append((count * rarity, word))
        return [word for _, word in sorted(scored, reverse=True)[:limit]]

    # ---- putting them together -------------------------------------------------------

    def find(self):
        candidates = {}

        def add(name, kind, reason, index, start, end):
            key = normalise(name)
            if key in self.rejected or len(key) < 2:
                return
            candidate = candidates.get(key)
            if candidate is None:
                candidate = candidates[key] = Candidate(name=name, kind=kind, reason=reason)
            candidate.mentions.append(Mention(index, start, end))
            candidate.forms.add(name)

        titles = {index: [] for index in range(len(self.sentences))}
        for index, start, end, title in self.quoted_titles():
            titles[index].append((start, end))
            add(title, "document", "quoted title", index, start, end)
        for index, start, end, run in self.capitalised_runs():
            if any(a <= start and end <= b for a, b in titles[index]):
                continue  # part of a quoted title, found whole above
            if run[-1].casefold() in NUMBERED:
                end = self.numbered(index, end)
            text = self.sentences[index][start:end]
            if run[0] == "The" and len(run) > 1:
                start += 4
                text, run = text[4:], run[1:]
            for acronym_start, acronym_end, word in words(text):
                if is_acronym(word):
                    add(word, "organisation", "acronym", index, start + acronym_start, start + acronym_end)
            if len(run) == 1 and is_acronym(run[0]):
                continue
            add(text, self.kind_of(run, index, start), "capitalised name", index, start, end)
        for phrase, places in self.repeated_phrases():
            for index, start, end in places:
                add(phrase, "term", "repeated phrase", index, start, end)
        for key, places in self.key_words():
            for index, start, end, word in places:
                add(key, "term", "a subject of the episode", index, start, end)
        for index, start, end, phrase in self.defined_terms():
            add(phrase, "term", "named as a term", index, start, end)
        for index, start, end, phrase in self.compounds():
            add(phrase, "term", "named after someone", index, start, end)
        for word in self.unusual_words():
            for index, tokens in enumerate(self.tokens):
                for start, end, token in tokens:
                    if token.casefold() == word:
                        add(word, "term", "unusual for the show", index, start, end)

        self.fold_plurals(candidates)
        self.fold_surnames(candidates)
        self.mark_known(candidates)
        for candidate in candidates.values():
            candidate.score = self.score(candidate)
        found = [c for c in candidates.values() if c.key not in self.known and c.score > 0]
        return sorted(found, key=lambda c: (-c.score, c.name))

    def kind_of(self, run, index, start):
        lowered = {word.casefold() for word in run}
        if lowered & DOCUMENT_WORDS:
            return "document"
        if lowered & EVENT_WORDS:
            return "event"
        if lowered & ORGANISATION_WORDS:
            return "organisation"
        before = self.sentences[index][:start].split()[-1:] or [""]
        if before[0].casefold() in PLACE_LEAD:
            return "place"
        return "person"

    @staticmethod
    def fold_plurals(candidates):
        """"show trials" is "show trial"; "Bolsheviks" is "Bolshevik": one candidate."""
        for key in sorted(candidates, key=len, reverse=True):
            one = singular_key(key)
            if one != key and one in candidates and key in candidates:
                candidates[one].mentions += candidates[key].mentions
                candidates[one].forms |= candidates[key].forms
                del candidates[key]

    @staticmethod
    def fold_surnames(candidates):
        """'Ryutin' belongs to 'Martemian Ryutin': one candidate, every mention."""
        full_names = {}
        for candidate in candidates.values():
            parts = candidate.name.split()
            if candidate.kind == "person" and 2 <= len(parts) <= 4:
                full_names.setdefault(normalise(parts[-1]), []).append(candidate)
        for key in list(candidates):
            owners = full_names.get(key, [])
            if len(owners) == 1 and candidates[key] is not owners[0]:
                owner = owners[0]
                owner.mentions += candidates[key].mentions
                owner.forms |= candidates[key].forms
                del candidates[key]

    def mark_known(self, candidates):
        """A spelling close to an existing entry is a variant of it, not a new name (Jagoda → Yagoda)."""
        if not self.known:
            return
        names = list(self.known)
        for candidate in candidates.values():
            if candidate.key in self.known:
                continue
            best = process.extractOne(candidate.key, names, scorer=fuzz.ratio, score_cutoff=80)
            if best and abs(len(best[0]) - len(candidate.key)) <= 2:
                candidate.near = self.known[best[0]]
                candidate.reason = f"looks like a spelling of {self.known_spelling[best[0]]}"

    def score(self, candidate):
        """
        More mentions first; names and acronyms before words and phrases; a
        capitalised adjective, a people in a list or a common word last.
        """
        count = len({(m.sentence, m.start) for m in candidate.mentions})
        weight = {
            "acronym": 3.0, "capitalised name": 2.0, "quoted title": 2.0, "repeated phrase": 0.8,
            "a subject of the episode": 1.2 if count > 1 else 0.8, "named as a term": 1.5,
            "named after someone": 1.5, "unusual for the show": 0.8,
        }.get(candidate.reason, 2.5)  # a near-miss of a known entry
        words_in_name = len(candidate.name.split())
        if candidate.reason == "capitalised name" and words_in_name > 1:
            weight *= 1.3
        elif candidate.reason == "capitalised name":
            english = zipf_frequency(candidate.name, "en")
            if count == 1 and candidate.name.endswith("s") and self.in_a_list(candidate):
                weight *= 0.1  # "the Afghans, Bulgarians, Chinese, …": peoples listed, not entries
            elif english >= 4.0 and self.mostly_before_a_noun(candidate):
                weight *= 0.25  # "Soviet leaders", "Communist system": an adjective, rarely an entry
            elif english >= 4.5:
                weight *= 0.25  # a common word, capitalised for some other reason
            elif english >= 3.5 and count == 1:
                weight *= 0.5
        return weight * (1 + math.log(count))

    def in_a_list(self, candidate):
        mention = candidate.mentions[0]
        sentence = self.sentences[mention.sentence]
        return sentence[mention.end:mention.end + 2].startswith(",") or sentence[max(0, mention.start - 2):mention.start].endswith(", ")

    def mostly_before_a_noun(self, candidate):
        """Capitalised adjectives ("Soviet", "Polish") are followed by a lower-case word."""
        followed = 0
        for mention in candidate.mentions:
            after = self.sentences[mention.sentence][mention.end:].split()[:1]
            if after and after[0][:1].islower() and after[0].casefold() not in STOP:
                followed += 1
        return followed * 2 > len(candidate.mentions)
