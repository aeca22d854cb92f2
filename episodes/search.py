"""
One search over the glossary, people, sources and every transcript.

The reader's query is parsed here into plain words and quoted phrases; only
those tokens (letters and digits) ever reach FTS5 or tsquery syntax, so
quotes, operators, SQL-looking text or a 100 KB query can't break a query.
Two backends answer the same questions:

- SQLite: FTS5 tables kept in sync by triggers (migration 0004), bm25 ranking
  and highlight(); typo tolerance by rapidfuzz over every name and alias.
- PostgreSQL: stored tsvector GeneratedFields with GIN indexes, SearchRank
  and SearchHeadline; typo tolerance by pg_trgm.

Ranking: within terms, people and sources an exact name or alias comes
first, then matches in names, then full-text relevance. Transcript moments
are ranked by relevance, ties broken by episode and position; a query that
names a term or person also finds the sentences where that entry is
mentioned under any of its names (Ezhov finds Yezhov), each within the scope
the linker gives it: a site-wide alias everywhere, an alias of one episode
or series (episodes.models.ScopedAlias) only in that episode's or series'
sentences.
"""

import re
import time
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import lru_cache

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, Count, F, Q, When, Window
from django.utils.html import escape
from django.utils.safestring import mark_safe
from rapidfuzz import fuzz, process

from .extensions import search_groups
from .models import Episode, Person, ScopedAlias, Sentence, Source, Term

MAX_QUERY_CHARS = 300
MAX_TOKENS = 10
# Transcript hits ranked per query, and so the most a search can list: a common word's count
# stops here ("1000+"), which keeps it as cheap as a rare one's.
CANDIDATES = 1000
PER_PAGE = 20
ENTITY_LIMIT = 200  # the most a group of terms, people or sources lists ("200+" past it)
ENTITY_CANDIDATES = 500
FUZZY_CUTOFF = 80
NAME_MEMORY_SECONDS = 60
MARK_START, MARK_END = "\x02", "\x03"
WORD = re.compile(r"[^\W_]+")
GROUPS = {
    "terms": ("Terms", Term),
    "people": ("People", Person),
    "sources": ("Sources", Source),
    "moments": ("Transcript moments", Sentence),
}


def group_keys():
    """Every group a search can be narrowed to: ours, then those other apps registered (extensions)."""
    return [*GROUPS, *(group.key for group in search_groups)]


def normalise(text):
    """Case and diacritics folded, curly apostrophes straightened."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@dataclass
class ParsedQuery:
    words: list = field(default_factory=list)
    phrases: list = field(default_factory=list)
    prefix: bool = False  # the last word may still be being typed

    @property
    def is_empty(self):
        return not self.words and not self.phrases

    @property
    def text(self):
        """The query as one normalised string, for matching whole names."""
        return " ".join(self.words + [word for phrase in self.phrases for word in phrase])


def parse_query(raw):
    raw = "".join(char for char in raw[:MAX_QUERY_CHARS] if char.isprintable())
    phrases = [WORD.findall(normalise(p)) for p in re.findall(r'"([^"]*)"', raw)]
    phrases = [phrase for phrase in phrases if phrase]
    rest = re.sub(r'"[^"]*"?', " ", raw)
    words = WORD.findall(normalise(rest))
    budget = MAX_TOKENS
    words = words[:budget]
    budget -= len(words)
    phrases = [phrase[:budget] for phrase in phrases if budget > 0][: max(budget, 0)]
    prefix = bool(words) and raw[-1:].isalnum()
    return ParsedQuery(words=words, phrases=[p for p in phrases if p], prefix=prefix)


def marked(text):
    """Escape a backend's highlighted text, then turn its markers into <mark>."""
    return mark_safe(escape(text).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))


# ---- SQLite: FTS5 -------------------------------------------------------------------


class SQLiteBackend:
    # The FTS5 tables index prefixes of 2, 3 and 4 characters (migration 0004).
    INDEXED_PREFIX = 4

    def settled(self, parsed):
        """
        The query with its last word taken as typed in full when it is long and
        common: FTS5 answers a prefix longer than its prefix index by merging
        every matching word's hits in memory, 7 ms for "party"* against 1.7 ms
        for "party" at the 500-episode catalogue, and a search asks three times
        (count, ranking, highlighting). A word with CANDIDATES hits of its own
        is complete; the stemmer already finds its other forms (parties, purged).
        """
        last = parsed.words[-1] if parsed.words else ""
        if not parsed.prefix or len(last) <= self.INDEXED_PREFIX:
            return parsed
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM episodes_sentence_fts WHERE episodes_sentence_fts MATCH %s"
                f" LIMIT {CANDIDATES})",
                [f'"{last}"'],
            )
            common = cursor.fetchone()[0] >= CANDIDATES
        return replace(parsed, prefix=False) if common else parsed

    @staticmethod
    def match(parsed, alternatives=()):
        parts = [f'"{word}"' for word in parsed.words]
        if parsed.prefix and parts:
            parts[-1] += "*"
        parts += [f'"{" ".join(phrase)}"' for phrase in parsed.phrases]
        expression = " ".join(parts)
        for names in alternatives:
            expression = f'({expression}) OR "{" ".join(names)}"'
        return expression

    @staticmethod
    def match_any(alternatives):
        return " OR ".join(f'"{" ".join(names)}"' for names in alternatives)

    def entity_hits(self, model, parsed):
        """(pk, search_names) of matching entries, most relevant first, one more than a group lists: one statement."""
        table = model._meta.db_table
        with connection.cursor() as cursor:
            # Rank a capped set of candidates, as for transcripts: a common
            # word would otherwise score every entry that uses it.
            cursor.execute(
                f"SELECT e.id, e.search_names FROM ("
                f"  SELECT rowid, bm25({table}_fts) AS rank FROM {table}_fts"
                f"  WHERE {table}_fts MATCH %s LIMIT {ENTITY_CANDIDATES}"
                f") AS hit JOIN {table} AS e ON e.id = hit.rowid ORDER BY hit.rank LIMIT %s",
                [self.match(parsed), ENTITY_LIMIT + 1],
            )
            return cursor.fetchall()

    def sentence_hits(self, parsed, expansion, columns, limit=None):
        """
        SQL selecting `columns` of the matching sentences, one SELECT per part
        (at most `limit` rows each), and its parameters: the query with the
        site-wide names everywhere, and each scope's names within its episodes.
        """
        parts = [(self.match(parsed, expansion.everywhere), ())]
        parts += [(self.match_any(names), tuple(episodes)) for episodes, names in expansion.scoped.items()]
        selects, params = [], []
        for expression, episodes in parts:
            within = (
                f" AND rowid IN (SELECT id FROM episodes_sentence WHERE episode_id IN "
                f"({', '.join(['%s'] * len(episodes))}))" if episodes else ""
            )
            select = (
                f"SELECT {columns} FROM episodes_sentence_fts WHERE episodes_sentence_fts MATCH %s{within}"
            )
            selects.append(f"SELECT * FROM ({select} LIMIT {limit})" if limit else select)
            params += [expression, *episodes]
        return selects, params

    def moments(self, parsed, expansion, offset, limit):
        found, found_params = self.sentence_hits(parsed, expansion, "rowid AS id")
        ranked, ranked_params = self.sentence_hits(
            parsed, expansion, "rowid, bm25(episodes_sentence_fts) AS rank", limit=CANDIDATES
        )
        with connection.cursor() as cursor:
            # Drafts' sentences are in the index too; there are few drafts, so leave theirs out by id.
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM ({' UNION '.join(found)}) WHERE id NOT IN ("
                "SELECT s.id FROM episodes_sentence AS s JOIN episodes_episode AS e ON e.id = s.episode_id "
                f"WHERE e.is_draft) LIMIT {CANDIDATES + 1})",
                found_params,
            )
            count = cursor.fetchone()[0]
            # Rank at most CANDIDATES hits a part, then highlight only the page shown.
            cursor.execute(
                f"""
                SELECT hit.rowid, s.episode_id FROM (
                    SELECT rowid, min(rank) AS rank FROM ({' UNION ALL '.join(ranked)}) GROUP BY rowid
                ) AS hit
                JOIN episodes_sentence AS s ON s.id = hit.rowid
                JOIN episodes_episode AS e ON e.id = s.episode_id
                WHERE NOT e.is_draft
                ORDER BY hit.rank, e.number, s.position
                LIMIT %s OFFSET %s
                """,
                [*ranked_params, limit, offset],
            )
            rows = cursor.fetchall()
            if not rows:
                return count, []
            # Each sentence is highlighted with the names that hold in its episode.
            by_expression = {}
            for pk, episode in rows:
                expression = self.match(parsed, expansion.names_in(episode))
                by_expression.setdefault(expression, []).append(pk)
            marked_text = {}
            for expression, ids in by_expression.items():
                cursor.execute(
                    "SELECT rowid, highlight(episodes_sentence_fts, 0, %s, %s) FROM episodes_sentence_fts "
                    f"WHERE episodes_sentence_fts MATCH %s AND rowid IN ({', '.join(['%s'] * len(ids))})",
                    [MARK_START, MARK_END, expression, *ids],
                )
                marked_text.update(cursor.fetchall())
            return count, [(pk, marked_text.get(pk, "")) for pk, _ in rows]

    def similar_names(self, model, text):
        """(pk, name line, score) of entries whose names are close to the text."""
        lines, pks = name_memory.lines(model)
        # The column is already lower-cased: normalising 15,000 lines per call
        # cost more than the matching itself.
        found = process.extract(normalise(text), lines, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=5)
        return [(pks[index], choice, score) for choice, score, index in found]


class NameMemory:
    """
    Every name line of a model with its entry's pk, kept by the worker for
    NAME_MEMORY_SECONDS: reading and splitting 15,000 lines was most of a typo's
    search at the 500-episode catalogue. Saving or deleting an entry clears
    the saving process's copy at once (forget_names, connected in
    episodes/apps.py); other workers' copies follow within that time.
    """

    def __init__(self):
        self.kept = {}  # model -> (valid until, lines, pks)

    def lines(self, model):
        now = time.monotonic()
        kept = self.kept.get(model)
        if kept is None or kept[0] <= now:
            lines, pks = [], []
            for pk, names in model.objects.values_list("pk", "search_names"):
                for line in names.splitlines():
                    lines.append(line)
                    pks.append(pk)
            kept = self.kept[model] = (now + NAME_MEMORY_SECONDS, lines, pks)
        return kept[1], kept[2]

    def forget(self, sender=None, **kwargs):
        if sender is None:
            self.kept.clear()
        else:
            self.kept.pop(sender, None)


name_memory = NameMemory()
forget_names = name_memory.forget


# ---- PostgreSQL: tsvector, SearchRank, SearchHeadline, pg_trgm -------------------


class PostgresBackend:
    @staticmethod
    def settled(parsed):
        """GIN answers a prefix from the same index: nothing to settle."""
        return parsed

    @staticmethod
    def tsquery(parsed, alternatives=()):
        # Every lexeme is a run of letters and digits, quoted: nothing the
        # reader types can become tsquery syntax.
        parts = [f"'{word}'" for word in parsed.words]
        if parsed.prefix and parts:
            parts[-1] += ":*"
        parts += ["(" + " <-> ".join(f"'{w}'" for w in phrase) + ")" for phrase in parsed.phrases]
        expression = " & ".join(parts)
        for names in alternatives:
            expression = f"({expression}) | (" + " <-> ".join(f"'{w}'" for w in names) + ")"
        return SearchQuery(expression, search_type="raw", config="english")

    def entity_hits(self, model, parsed):
        query = self.tsquery(parsed)
        return list(
            model.objects.filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank")
            .values_list("pk", "search_names")[: ENTITY_LIMIT + 1]
        )

    def moments(self, parsed, expansion, offset, limit):
        query = self.tsquery(parsed, expansion.everywhere)
        found = Q(search_vector=query)
        # Each scope's names find sentences of its episodes only, and are
        # ranked and highlighted only there.
        ranked, scoped = query, []
        for episodes, names in expansion.scoped.items():
            within = self.tsquery(parsed, [*expansion.everywhere, *names])
            found |= Q(search_vector=within, episode_id__in=episodes)
            scoped.append(When(episode_id__in=episodes, then=self.headline(within)))
            ranked = ranked | within
        marked = Case(*scoped, default=self.headline(query)) if scoped else self.headline(query)
        # One candidate more than is ever listed tells whether there are more. They
        # are counted in the statement that ranks them: a second scan for the
        # count cost as much again.
        candidates = Sentence.objects.filter(found, episode__is_draft=False).order_by().values("pk")[
            : CANDIDATES + 1
        ]
        rows = list(
            Sentence.objects.filter(pk__in=candidates)
            .annotate(rank=SearchRank(F("search_vector"), ranked), marked=marked, found=Window(Count("pk")))
            .order_by("-rank", "episode__number", "position")
            .values_list("pk", "marked", "found")[offset : offset + limit]
        )
        if rows:
            count = rows[0][2]
        else:  # past the last page, or nothing found
            count = candidates.count() if offset else 0
        return count, [(pk, text) for pk, text, _ in rows]

    @staticmethod
    def headline(query):
        return SearchHeadline(
            "text", query, config="english", start_sel=MARK_START, stop_sel=MARK_END, highlight_all=True,
        )

    def similar_names(self, model, text):
        # trigram_word_similar is the %> operator, which the trigram GIN index
        # serves; its threshold is a setting of the session.
        with connection.cursor() as cursor:
            cursor.execute("SET pg_trgm.word_similarity_threshold = 0.4")
        candidates = (
            model.objects.filter(search_names__trigram_word_similar=normalise(text))
            .annotate(similarity=TrigramWordSimilarity(normalise(text), "search_names"))
            .order_by("-similarity")
            .values_list("pk", "search_names")[:5]
        )
        found = []
        for pk, names in candidates:
            line, score, _ = process.extractOne(text, names.splitlines(), scorer=fuzz.ratio, processor=normalise)
            if score >= FUZZY_CUTOFF:
                found.append((pk, line, score))
        return sorted(found, key=lambda item: -item[2])


def backend():
    return PostgresBackend() if connection.vendor == "postgresql" else SQLiteBackend()


# ---- the search ------------------------------------------------------------------


@dataclass
class Group:
    key: str
    label: str
    count: int = 0
    items: list = field(default_factory=list)
    fuzzy: bool = False  # found by typo tolerance, not by the words as typed
    exact: bool = False  # the query is the name of one of these
    item_template: str = ""  # how another app's results are shown (extensions.SearchGroup)
    more: bool = False  # more were found than count, the most a search lists (CANDIDATES, ENTITY_LIMIT)

    @property
    def count_label(self):
        """The count as the page shows it: "1000+" when there are more."""
        return f"{self.count}+" if self.more else str(self.count)


@dataclass
class SearchResults:
    query: str
    parsed: ParsedQuery
    groups: list
    active: str | None = None
    page: int = 1
    per_page: int = PER_PAGE
    suggestion: str = ""

    @property
    def total(self):
        return sum(group.count for group in self.groups)

    @property
    def total_label(self):
        return f"{self.total}+" if any(group.more for group in self.groups) else str(self.total)

    @property
    def shown(self):
        """Groups with something to show; a group holding an exact name comes first."""
        groups = [g for g in self.groups if g.items and (self.active in (None, g.key))]
        return sorted(groups, key=lambda g: not g.exact)

    @property
    def has_next(self):
        return any(g.count > self.page * self.per_page for g in self.shown)


@lru_cache(maxsize=20000)
def name_lines(names):
    """An entry's search_names as normalised word strings, one per name: worked out once per worker."""
    return tuple(" ".join(WORD.findall(normalise(line))) for line in names.splitlines())


def name_rank(names, parsed):
    """0 for an exact name or alias, 1 when the name contains the query, else None."""
    text = parsed.text
    if text.split()[0] not in names:  # cheap: most hits of a common word are in the text, not the names
        return None
    lines = name_lines(names)
    if text in lines:
        return 0
    if any(line.startswith(text) or f" {text}" in line for line in lines):
        return 1
    return None


def search_entities(engine, model, parsed):
    """Entries ranked exact name, then name, then text; the exact ones apart, with their names."""
    ranked, names_of = {}, {}
    for position, (pk, names) in enumerate(engine.entity_hits(model, parsed)):
        rank = name_rank(names, parsed)
        ranked[pk] = (2 if rank is None else rank, position)
        names_of[pk] = names
    order = sorted(ranked, key=lambda pk: ranked[pk])
    exact = {pk: names_of[pk] for pk in order if ranked[pk][0] == 0}
    return order, exact


def placeholders(values):
    return ", ".join(["%s"] * len(values))


# What a result shows of each kind of entry (templates/episodes/search.html); other fields are deferred.
RESULT_COLUMNS = {
    Term: ("id", "name", "slug", "category", "definition"),
    Person: ("id", "name", "slug", "born", "died", "role"),
    Source: ("id", "slug", "title", "author", "year"),
}


def fetch_in_order(model, ids):
    """
    The entries with these ids, in this order, with what a result shows. One
    plain statement: building the ORM's query cost four times the lookup, for
    five rows (docs/load-benchmark.md).
    """
    if not ids:
        return []
    columns = RESULT_COLUMNS[model]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {model._meta.db_table} WHERE id IN ({placeholders(ids)})", ids
        )
        by_id = {row[0]: loaded(model, **dict(zip(columns, row))) for row in cursor.fetchall()}
    return [by_id[pk] for pk in ids if pk in by_id]


def name_words(name):
    """A name as the words a transcript search tries; None for a name too long to be worth it."""
    words = WORD.findall(normalise(name))
    return words if words and len(words) <= 6 else None


@dataclass
class Expansion:
    """
    The names a transcript search also tries, as word lists: the entries'
    site-wide names everywhere, and their scoped aliases by the episodes
    (a frozenset of pks) where they hold.
    """

    everywhere: list = field(default_factory=list)
    scoped: dict = field(default_factory=dict)

    def add(self, model, names_by_pk):
        """Add the names of the given terms or people ({pk: search_names}; a query or two, none without)."""
        if not names_by_pk:
            return
        for names in names_by_pk.values():
            self.everywhere += filter(None, map(name_words, names.splitlines()))
        aliases = list(
            ScopedAlias.objects.filter(**{f"{model._meta.model_name}__in": list(names_by_pk)})
            .values_list("text", "episode_id", "series_id")
        )
        series = {pk for _, _, pk in aliases if pk is not None}
        in_series = defaultdict(set)
        for episode, series_id in Episode.objects.filter(series__in=series).values_list("pk", "series_id"):
            in_series[series_id].add(episode)
        for text, episode, series_id in aliases:
            episodes = frozenset([episode] if episode is not None else in_series[series_id])
            if (words := name_words(text)) and episodes:
                self.scoped.setdefault(episodes, []).append(words)

    def names_in(self, episode):
        """Every name that holds in an episode (by pk)."""
        return self.everywhere + [
            words for episodes, names in self.scoped.items() if episode in episodes for words in names
        ]


def moment_sentences(ids):
    """{pk: sentence} with what a hit shows of it and of its episode (whose row holds 100 KB of stored transcript)."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id, s.position, s.start, e.id, e.slug, e.number, e.title FROM episodes_sentence AS s"
            f" JOIN episodes_episode AS e ON e.id = s.episode_id WHERE s.id IN ({placeholders(ids)})",
            ids,
        )
        rows = cursor.fetchall()
    sentences = {}
    for pk, position, start, episode_pk, slug, number, title in rows:
        sentence = loaded(Sentence, id=pk, position=position, start=start, episode_id=episode_pk)
        sentence.episode = loaded(Episode, id=episode_pk, slug=slug, number=number, title=title)
        sentences[pk] = sentence
    return sentences


def loaded(model, **columns):
    """An instance as the database gave these columns; any other field is deferred (fetching it raises in tests)."""
    fields = [field.attname for field in model._meta.concrete_fields if field.attname in columns]
    return model.from_db(connection.alias, fields, [columns[name] for name in fields])


ENTITY_GROUPS = ("terms", "people", "sources")


def similar_search_names(model, similar):
    """{pk: search_names} of the one close match (score 85 or more) a typo's search also tries in transcripts."""
    close = [pk for pk, _, score in similar if score >= 85][:1]
    return model.objects.filter(pk__in=close).values_list("pk", "search_names") if close else []


def might_be_a_typo(parsed):
    """Typo tolerance is for names: a word or three, not a quoted phrase."""
    return bool(parsed.words) and not parsed.phrases and len(parsed.words) <= 3


def search(raw, group=None, page=1, per_page=PER_PAGE):
    parsed = parse_query(raw or "")
    active = group if group in group_keys() else None
    results = SearchResults(query=raw or "", parsed=parsed, groups=[], active=active,
                            page=max(page, 1), per_page=per_page)
    if parsed.is_empty:
        return results
    engine = backend()
    parsed = results.parsed = engine.settled(parsed)
    offset = (results.page - 1) * per_page
    expansion = Expansion()
    best_guess = None
    found = {key: search_entities(engine, GROUPS[key][1], parsed) for key in ENTITY_GROUPS}
    fuzzy = might_be_a_typo(parsed) and not any(ids for ids, _ in found.values())
    if fuzzy:
        for key in ENTITY_GROUPS:
            similar = engine.similar_names(GROUPS[key][1], parsed.text)
            ids = list(dict.fromkeys(pk for pk, _, _ in similar))
            close = {pk: names for pk, names in similar_search_names(GROUPS[key][1], similar)}
            found[key] = (ids, close)
            if similar and (best_guess is None or similar[0][2] > best_guess[1]):
                best_guess = (similar[0][1], similar[0][2])
    for key in ENTITY_GROUPS:
        label, model = GROUPS[key]
        ids, exact = found[key]
        more, ids = len(ids) > ENTITY_LIMIT, ids[:ENTITY_LIMIT]  # one more was fetched to tell
        if key != "sources":
            expansion.add(model, exact)
        page_ids = ids[offset : offset + per_page] if active == key else ids[:5]
        items = fetch_in_order(model, page_ids) if active in (None, key) else []
        group_is_fuzzy = fuzzy and bool(ids)
        results.groups.append(
            Group(key, label, len(ids), items, group_is_fuzzy, exact=bool(exact) and not fuzzy, more=more)
        )

    moments_offset, moments_limit = (offset, per_page) if active == "moments" else (0, 10)
    # Pages end where the ranked candidates do.
    moments_limit = max(0, min(moments_limit, CANDIDATES - moments_offset))
    count, rows = engine.moments(parsed, expansion, moments_offset, moments_limit)
    sentences = moment_sentences([pk for pk, _ in rows])
    moments = []
    for pk, text in rows:
        if pk in sentences and active in (None, "moments"):
            sentence = sentences[pk]
            sentence.marked = marked(text)
            moments.append(sentence)
    results.groups.append(
        Group("moments", GROUPS["moments"][0], min(count, CANDIDATES), moments, more=count > CANDIDATES)
    )
    for extra in search_groups:
        found = extra.find(parsed, active, offset, per_page)
        found.item_template = extra.item_template
        results.groups.append(found)
    entity_groups = [g for g in results.groups if g.key != "moments"]
    if best_guess and not any(g.count for g in entity_groups if not g.fuzzy):
        results.suggestion = best_guess[0]
    return results
