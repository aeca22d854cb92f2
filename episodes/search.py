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
mentioned under any of its names (Ezhov finds Yezhov).
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import F
from django.utils.html import escape
from django.utils.safestring import mark_safe
from rapidfuzz import fuzz, process

from .extensions import search_groups
from .models import Person, Sentence, Source, Term

MAX_QUERY_CHARS = 300
MAX_TOKENS = 10
CANDIDATES = 1000  # transcript hits ranked per query: common words stay cheap
ENTITY_LIMIT = 200
ENTITY_CANDIDATES = 500
FUZZY_CUTOFF = 80
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

    def entity_hits(self, model, parsed):
        """(pk, search_names) of matching entries, most relevant first: one statement."""
        table = model._meta.db_table
        with connection.cursor() as cursor:
            # Rank a capped set of candidates, as for transcripts: a common
            # word would otherwise score every entry that uses it.
            cursor.execute(
                f"SELECT e.id, e.search_names FROM ("
                f"  SELECT rowid, bm25({table}_fts) AS rank FROM {table}_fts"
                f"  WHERE {table}_fts MATCH %s LIMIT {ENTITY_CANDIDATES}"
                f") AS hit JOIN {table} AS e ON e.id = hit.rowid ORDER BY hit.rank LIMIT %s",
                [self.match(parsed), ENTITY_LIMIT],
            )
            return cursor.fetchall()

    def moments(self, parsed, alternatives, offset, limit):
        expression = self.match(parsed, alternatives)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM episodes_sentence_fts WHERE episodes_sentence_fts MATCH %s",
                [expression],
            )
            count = cursor.fetchone()[0]
            # Rank at most CANDIDATES hits, then highlight only the page shown.
            cursor.execute(
                f"""
                SELECT hit.rowid FROM (
                    SELECT rowid, bm25(episodes_sentence_fts) AS rank
                    FROM episodes_sentence_fts WHERE episodes_sentence_fts MATCH %s LIMIT {CANDIDATES}
                ) AS hit
                JOIN episodes_sentence AS s ON s.id = hit.rowid
                JOIN episodes_episode AS e ON e.id = s.episode_id
                ORDER BY hit.rank, e.number, s.position
                LIMIT %s OFFSET %s
                """,
                [expression, limit, offset],
            )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return count, []
            cursor.execute(
                "SELECT rowid, highlight(episodes_sentence_fts, 0, %s, %s) FROM episodes_sentence_fts "
                f"WHERE episodes_sentence_fts MATCH %s AND rowid IN ({', '.join(['%s'] * len(ids))})",
                [MARK_START, MARK_END, expression, *ids],
            )
            marked_text = dict(cursor.fetchall())
            return count, [(pk, marked_text.get(pk, "")) for pk in ids]

    def similar_names(self, model, text):
        """(pk, name line, score) of entries whose names are close to the text."""
        lines = [
            (line, pk)
            for pk, names in model.objects.values_list("pk", "search_names")
            for line in names.splitlines()
        ]
        # The column is already lower-cased: normalising 15,000 lines per call
        # cost more than the matching itself.
        found = process.extract(
            normalise(text), [line for line, _ in lines], scorer=fuzz.ratio,
            score_cutoff=FUZZY_CUTOFF, limit=5,
        )
        return [(lines[index][1], choice, score) for choice, score, index in found]


# ---- PostgreSQL: tsvector, SearchRank, SearchHeadline, pg_trgm -------------------


class PostgresBackend:
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
            .values_list("pk", "search_names")[:ENTITY_LIMIT]
        )

    def moments(self, parsed, alternatives, offset, limit):
        query = self.tsquery(parsed, alternatives)
        matching = Sentence.objects.filter(search_vector=query)
        count = matching.count()
        rows = (
            Sentence.objects.filter(
                pk__in=list(matching.order_by().values_list("pk", flat=True)[:CANDIDATES])
            )
            .annotate(
                rank=SearchRank(F("search_vector"), query),
                marked=SearchHeadline(
                    "text", query, config="english", start_sel=MARK_START,
                    stop_sel=MARK_END, highlight_all=True,
                ),
            )
            .order_by("-rank", "episode__number", "position")
            .values_list("pk", "marked")[offset : offset + limit]
        )
        return count, list(rows)

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


@dataclass
class SearchResults:
    query: str
    parsed: ParsedQuery
    groups: list
    active: str | None = None
    page: int = 1
    per_page: int = 20
    suggestion: str = ""

    @property
    def total(self):
        return sum(group.count for group in self.groups)

    @property
    def shown(self):
        """Groups with something to show; a group holding an exact name comes first."""
        groups = [g for g in self.groups if g.items and (self.active in (None, g.key))]
        return sorted(groups, key=lambda g: not g.exact)

    @property
    def has_next(self):
        return any(g.count > self.page * self.per_page for g in self.shown)


def name_rank(names, parsed):
    """0 for an exact name or alias, 1 when the name contains the query, else None."""
    text = parsed.text
    if text.split()[0] not in names:  # cheap: most hits of a common word are in the text, not the names
        return None
    lines = [" ".join(WORD.findall(normalise(line))) for line in names.splitlines()]
    if text in lines:
        return 0
    if any(line.startswith(text) or f" {text}" in line for line in lines):
        return 1
    return None


def search_entities(engine, model, parsed):
    """Entries ranked exact name, then name, then text; the exact ones too, apart."""
    ranked = {}
    for position, (pk, names) in enumerate(engine.entity_hits(model, parsed)):
        rank = name_rank(names, parsed)
        ranked[pk] = (2 if rank is None else rank, position)
    order = sorted(ranked, key=lambda pk: ranked[pk])
    exact = [pk for pk in order if ranked[pk][0] == 0]
    return order, exact


def fetch_in_order(queryset, ids):
    by_id = queryset.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def entity_names(model, ids):
    """Each entry's names as word lists: the alternatives a transcript search also tries."""
    alternatives = []
    for names in model.objects.filter(pk__in=ids).values_list("search_names", flat=True):
        for line in names.splitlines():
            words = WORD.findall(normalise(line))
            if words and len(words) <= 6:
                alternatives.append(words)
    return alternatives


ENTITY_GROUPS = ("terms", "people", "sources")


def might_be_a_typo(parsed):
    """Typo tolerance is for names: a word or three, not a quoted phrase."""
    return bool(parsed.words) and not parsed.phrases and len(parsed.words) <= 3


def search(raw, group=None, page=1, per_page=20):
    parsed = parse_query(raw or "")
    active = group if group in group_keys() else None
    results = SearchResults(query=raw or "", parsed=parsed, groups=[], active=active,
                            page=max(page, 1), per_page=per_page)
    if parsed.is_empty:
        return results
    engine = backend()
    offset = (results.page - 1) * per_page
    alternatives = []
    best_guess = None
    found = {key: search_entities(engine, GROUPS[key][1], parsed) for key in ENTITY_GROUPS}
    fuzzy = might_be_a_typo(parsed) and not any(ids for ids, _ in found.values())
    if fuzzy:
        for key in ENTITY_GROUPS:
            similar = engine.similar_names(GROUPS[key][1], parsed.text)
            ids = list(dict.fromkeys(pk for pk, _, _ in similar))
            close = [pk for pk, _, score in similar if score >= 85][:1]
            found[key] = (ids, close)
            if similar and (best_guess is None or similar[0][2] > best_guess[1]):
                best_guess = (similar[0][1], similar[0][2])
    for key in ENTITY_GROUPS:
        label, model = GROUPS[key]
        ids, exact = found[key]
        if key != "sources":
            alternatives += entity_names(model, exact)
        page_ids = ids[offset : offset + per_page] if active == key else ids[:5]
        items = fetch_in_order(model.objects.all(), page_ids) if active in (None, key) else []
        group_is_fuzzy = fuzzy and bool(ids)
        results.groups.append(
            Group(key, label, len(ids), items, group_is_fuzzy, exact=bool(exact) and not fuzzy)
        )

    count, rows = engine.moments(
        parsed, alternatives, offset if active == "moments" else 0, per_page if active == "moments" else 10
    )
    sentences = Sentence.objects.select_related("episode").in_bulk([pk for pk, _ in rows])
    moments = []
    for pk, text in rows:
        if pk in sentences and active in (None, "moments"):
            sentence = sentences[pk]
            sentence.marked = marked(text)
            moments.append(sentence)
    results.groups.append(Group("moments", GROUPS["moments"][0], count, moments))
    for extra in search_groups:
        found = extra.find(parsed, active, offset, per_page)
        found.item_template = extra.item_template
        results.groups.append(found)
    entity_groups = [g for g in results.groups if g.key != "moments"]
    if best_guess and not any(g.count for g in entity_groups if not g.fuzzy):
        results.suggestion = best_guess[0]
    return results
