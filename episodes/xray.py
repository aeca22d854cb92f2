"""
X-Ray strips: where in each episode's running time a term or person comes up.

A term or person page shows one strip per episode that mentions it, with a
tick for each sentence naming it; each tick links to that moment. A timed
episode places ticks by the sentence's start over its running time; an
untimed one by the sentence's place among all its sentences, and the strip's
label says which.

A name like Stalin's comes up tens of thousands of times across hundreds of
episodes, so everything is bounded: strips come a page of episodes at a
time, ticks closer than 1% of the strip share one mark, and each episode
quotes its first few passages in full: each sentence once, however often it
names the entry, with every such name marked. A page of strips costs four
queries however many episodes there are: which episodes (with counts), the page's
episodes (without their large text columns), their mentions of the entry (as
plain rows, not model instances), and, only for episodes whose length the row doesn't give, one grouped query
over sentences.
"""

from dataclasses import dataclass, field
from functools import cached_property
from itertools import groupby

from django.core.paginator import Paginator
from django.db.models import Count, F, Max
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

from companion.params import page_param

from .models import Episode, Mention, Sentence, SpanInSentence
from .moments import format_moment, moment_parameter

SNIPPET_CONTEXT = 32  # characters either side of the name in a tick's label
STRIPS_PER_PAGE = 20
TICK_BUCKETS = 100  # at most this many marks per strip: one per 1% of its length
QUOTED_PER_EPISODE = 10  # passages (sentences) quoted in full under each strip
# Columns a strip never shows, some of them large (the rendered transcript).
EPISODE_COLUMNS_UNUSED = ["transcript_html", "description", "summary", "feed_values"]


@dataclass(slots=True)
class Spoken:
    """The few fields of a sentence a strip needs: plain data, as thousands must be cheap."""

    position: int
    start: float | None
    text: str

    @property
    def anchor(self):
        return f"s-{self.position}"


@dataclass(slots=True)
class Hit(SpanInSentence):
    """A mention as a strip shows it, built from a row of the mentions query."""

    sentence_id: int
    sentence: Spoken
    start: int
    end: int


@dataclass(slots=True)
class Passage:
    """A sentence naming the entry, quoted once with each of its mentions marked."""

    sentence: Spoken
    hits: list  # its Hits, in order
    moment_url: str = ""
    moment: str = ""

    def html(self):
        text, parts, cursor = self.sentence.text, [], 0
        for hit in self.hits:
            if hit.start < cursor:
                continue  # overlapping spans: the first one marked wins
            parts += [escape(text[cursor : hit.start]), format_html("<mark>{}</mark>", text[hit.start : hit.end])]
            cursor = hit.end
        parts.append(escape(text[cursor:]))
        return mark_safe("".join(parts))


@dataclass
class Tick:
    sentence: Spoken
    mention: Hit  # the first mention in the sentence, quoted in the label
    percent: float  # 0–100 along the strip
    url: str
    moment: str = ""  # "12:34" when the sentence is timed
    nearby: int = 0  # further mentioned sentences within the same 1% of the strip
    bucket: int = -1  # which 1% of the strip it falls in

    @cached_property
    def x(self):
        """The SVG x attribute: a percentage, so the strip can be any width."""
        # Kept off the very edges so a tick there is drawn whole.
        return f"{min(max(self.percent, 0.4), 99.6):.2f}%"

    @property
    def snippet(self):
        return snippet(self.mention)

    @cached_property
    def label(self):
        where = self.moment or f"Sentence {self.sentence.position}"
        more = f" and {self.nearby} more nearby" if self.nearby else ""
        return f"{where} — ‘{self.snippet}’{more}"


@dataclass
class Strip:
    episode: Episode
    mentions: list
    by_time: bool
    length: float  # seconds when by_time, else the number of sentences
    ticks: list = field(default_factory=list)
    passages: list = field(default_factory=list)
    mention_count: int = 0

    def ticks_html(self):
        """
        The strip's links, built here rather than in the template: a page can
        hold two thousand of them, and the template engine takes a second.
        """
        return format_html_join(
            "",
            '<g role="listitem"><a href="{0}" aria-label="{1}"><title>{1}</title>'
            '<rect class="xray-hit" x="{2}" y="0" width="16" height="100%"/>'
            '<rect class="xray-tick" x="{2}" y="15%" width="3" height="70%"/></a></g>',
            ((tick.url, tick.label, tick.x) for tick in self.ticks),
        )

    @property
    def quoted(self):
        """The passages quoted in full under the strip."""
        return self.passages[:QUOTED_PER_EPISODE]

    @property
    def length_label(self):
        if self.by_time:
            return format_moment(self.length)
        return f"{int(self.length)} sentences"

    @property
    def scale_label(self):
        """What the strip measures, for readers and screen readers alike."""
        if self.by_time:
            return f"Where in the episode’s {self.length_label} of audio"
        return f"Where in the transcript’s {self.length_label} (no timings yet, so by sentence)"


def snippet(mention, context=SNIPPET_CONTEXT):
    """'…arrested by the NKVD in…': the name with a few words either side."""
    text = mention.sentence.text
    start, end = max(0, mention.start - context), min(len(text), mention.end + context)
    # Cut at word boundaries so no word is chopped in half.
    if start > 0 and text[start - 1] != " " and " " in text[start : mention.start]:
        start = text.index(" ", start) + 1
    if end < len(text) and text[end] != " " and " " in text[mention.end : end]:
        end = text.rindex(" ", mention.end, end)
    quoted = text[start:end].strip()
    return ("…" if start > 0 else "") + quoted + ("…" if end < len(text) else "")


def episode_lengths(episodes):
    """{episode id: (sentence count, last timed second)} for the episodes given, one query."""
    if not episodes:
        return {}
    rows = (
        Sentence.objects.filter(episode__in=[episode.pk for episode in episodes])
        .values("episode")
        .annotate(count=Max("position"), last_end=Max("end"), last_start=Max("start"))
        .order_by()
    )
    return {
        row["episode"]: (row["count"] or 0, max(row["last_end"] or 0, row["last_start"] or 0))
        for row in rows
    }


def needs_lengths(episode, mentions):
    """The row's duration is enough for a timed episode whose mentioned sentences all have starts."""
    timed = episode.is_timed() and episode.duration
    return not timed or any(mention.sentence.start is None for mention in mentions)


def episodes_mentioning(entity):
    """[(episode id, visible mentions), …] in episode order (extras without a number last)."""
    return list(
        Mention.objects.visible().of(entity).filter(sentence__episode__is_draft=False)
        .values_list("sentence__episode")
        .annotate(count=Count("pk"))
        .order_by(F("sentence__episode__number").asc(nulls_last=True), "sentence__episode")
    )


def strips_page(entity, page_number=None):
    """(page, strips): one Strip per episode on that page of the episodes mentioning the entity."""
    page = Paginator(episodes_mentioning(entity), STRIPS_PER_PAGE).get_page(page_number)
    if not page.object_list:
        return page, []
    episodes = Episode.objects.defer(*EPISODE_COLUMNS_UNUSED).in_bulk([pk for pk, _ in page.object_list])
    rows = (
        Mention.objects.visible().of(entity)
        .filter(sentence__episode__in=list(episodes))
        .order_by(F("sentence__episode__number").asc(nulls_last=True), "sentence__episode",
                  "sentence__position", "start")
        .values_list("sentence__episode", "sentence", "sentence__position", "sentence__start",
                     "sentence__text", "start", "end")
    )
    groups, sentences = [], {}
    for episode_id, group in groupby(rows, key=lambda row: row[0]):
        hits = []
        for _, sentence_id, position, start, text, mention_start, mention_end in group:
            if sentence_id not in sentences:
                sentences[sentence_id] = Spoken(position, start, text)
            hits.append(Hit(sentence_id, sentences[sentence_id], mention_start, mention_end))
        groups.append((episodes[episode_id], hits))
    lengths = episode_lengths([episode for episode, group in groups if needs_lengths(episode, group)])
    return page, [strip(episode, group, lengths.get(episode.pk)) for episode, group in groups]


def strips_for(entity):
    """The first page of strips."""
    return strips_page(entity)[1]


def strip(episode, mentions, lengths=None):
    sentence_count, last_second = lengths or (0, 0)
    seconds = episode.duration.total_seconds() if episode.duration else last_second
    by_time = episode.is_timed() and seconds > 0
    length = seconds if by_time else max(sentence_count, max(m.sentence.position for m in mentions))
    result = Strip(episode=episode, mentions=mentions, by_time=by_time, length=length)
    url = episode.get_absolute_url()
    for _, in_sentence in groupby(mentions, key=lambda mention: mention.sentence_id):
        mention = next(in_sentence)
        sentence = mention.sentence
        if by_time and sentence.start is not None:
            percent = sentence.start / length * 100
            tick = Tick(
                sentence, mention, percent,
                f"{url}?t={moment_parameter(sentence.start)}#{sentence.anchor}",
                format_moment(sentence.start),
            )
        else:
            # Untimed, or a sentence the timings skipped: its place in the text.
            count = sentence_count or length
            percent = (sentence.position - 0.5) / count * 100 if count else 0
            tick = Tick(sentence, mention, percent, f"{url}#{sentence.anchor}")
        tick.percent = min(max(tick.percent, 0.0), 100.0)
        # The list under the strip quotes the sentence once, linked to its moment.
        result.passages.append(Passage(sentence, [mention, *in_sentence], tick.url, tick.moment))
        tick.bucket = int(tick.percent * TICK_BUCKETS / 100)
        if result.ticks and result.ticks[-1].bucket == tick.bucket:
            result.ticks[-1].nearby += 1  # too close to tell apart: one mark says so
        else:
            result.ticks.append(tick)
    result.mention_count = len(mentions)
    return result


def mentions_context(request, entity):
    """What includes/mentions.html needs: a page of strips, chosen by ?mentions=<page>."""
    page, strips = strips_page(entity, page_param(request, "mentions"))
    return {"mentions": strips, "mention_page": page}
