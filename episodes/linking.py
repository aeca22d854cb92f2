"""
Keep an episode's mentions in step with its text, glossary and people.

Automatic mentions are recomputed from scratch; an editor's added mentions
and suppressions are kept and win over the linker, so they survive relinking.
Each name links where its scope and ambiguity rules allow (episodes.models.aliases),
and never inside a source's title. `alias_report` says which of those names
and aliases find anything at all; `preview_relink` what an edit would change.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import F, QuerySet

from .linker import EVERYWHERE, Linker, Rule, fold, tidy
from .models import (
    AmbiguityRule, Episode, Mention, Person, ScopedAlias, Sentence, Source, SpanInSentence, Term,
)


@dataclass(frozen=True, slots=True)
class LinkableName:
    """A name the linker looks for, with its Rule, and its scope for people to read ("" for everywhere)."""

    text: str
    rule: Rule = EVERYWHERE
    scope: str = ""


@dataclass(frozen=True, slots=True)
class LinkableEntry:
    """A term or person with the names the linker looks for: its name first, then each alias once."""

    kind: str
    pk: int
    slug: str
    name: str
    names: tuple


def linkable_entries(only=None):
    """
    Every term, then every person, by name (or only the given entry), with
    its site-wide aliases, then its scoped ones, each with its rules (four queries).
    """
    scoped, rules = defaultdict(list), defaultdict(list)
    scoped_rows = ScopedAlias.objects.values_list(
        "term_id", "person_id", "text", "episode_id", "episode__slug", "series_id", "series__slug"
    )
    rule_rows = AmbiguityRule.objects.values_list("term_id", "person_id", "alias", "phrase", "series_id")
    if only is not None:
        scoped_rows = scoped_rows.filter(**{only._meta.model_name: only})
        rule_rows = rule_rows.filter(**{only._meta.model_name: only})
    for term_id, person_id, *row in scoped_rows:
        scoped[("term", term_id) if term_id else ("person", person_id)].append(row)
    for term_id, person_id, *row in rule_rows:
        rules[("term", term_id) if term_id else ("person", person_id)].append(row)
    for model, kind in ((Term, "term"), (Person, "person")):
        entries = model.objects.values_list("pk", "slug", "name", "aliases")
        if only is not None:
            if not isinstance(only, model):
                continue
            entries = entries.filter(pk=only.pk)
        for pk, slug, name, aliases in entries:
            names = names_with_rules([name, *aliases.splitlines()], scoped[kind, pk], rules[kind, pk])
            yield LinkableEntry(kind, pk, slug, name, names)


def names_with_rules(site_wide, scoped, rules):
    """
    Each name once, with its Rule: the ambiguity rules ((alias, phrase,
    series id); a blank alias is every name) that name it, and for a scoped
    alias ((text, episode id and slug, series id and slug)) its place.
    """
    def rule_for(text, **scope):
        mine = [(phrase, series) for alias, phrase, series in rules if fold(tidy(alias)) in ("", fold(text))]
        phrases = tuple(phrase for phrase, _ in mine if phrase)
        excluded = frozenset(series for _, series in mine if series is not None)
        if not (phrases or excluded or scope):
            return EVERYWHERE
        return Rule(not_in_series=excluded, not_near=phrases, **scope)

    names = [LinkableName(text, rule_for(text)) for text in dict.fromkeys(tidy(t) for t in site_wide) if text]
    seen = set()
    for text, episode, episode_slug, series, series_slug in scoped:
        text = tidy(text)
        if text and (text, episode, series) not in seen:
            seen.add((text, episode, series))
            scope = f"episode {episode_slug}" if episode else f"series {series_slug}"
            names.append(LinkableName(text, rule_for(text, episode=episode, series=series), scope))
    return tuple(names)


def names_of(entry):
    """Every name and alias, site-wide or scoped, the linker looks for on one entry (three queries)."""
    return {name.text for found in linkable_entries(only=entry) for name in found.names}


def build_linker():
    """One automaton over every term and person name, with their rules, and every source's title (five queries)."""
    return linker_for(linkable_entries(), lambda entry, index: (entry.kind, entry.pk))


def linker_for(entries, target):
    """The automaton over the entries' names, each matching as target(entry, its index), and the sources' titles."""
    return Linker(
        (
            (name.text, target(entry, index), name.rule)
            for entry in entries for index, name in enumerate(entry.names)
        ),
        titles=Source.objects.values_list("title", flat=True),
    )


def mention_for(sentence, match):
    kind, pk = match.target
    return Mention(
        sentence=sentence,
        start=match.start,
        end=match.end,
        kind=Mention.Kind.AUTO,
        **{f"{kind}_id": pk},
    )


def editor_spans(mentions):
    """Spans an editor added or suppressed, by sentence id: they are theirs, the linker stays out."""
    spans = defaultdict(list)
    editors = mentions.exclude(kind=Mention.Kind.AUTO)
    for sentence_id, start, end in editors.values_list("sentence_id", "start", "end"):
        spans[sentence_id].append((start, end))
    return spans


def automatic_matches(linker, text, spans, episode=None, series=None):
    """What the linker finds in text (of an episode and series, by pk), less what overlaps an editor's spans."""
    return [
        match for match in linker.find(text, episode, series)
        if not any(match.start < end and start < match.end for start, end in spans)
    ]


def relink_episode(episode, linker=None):
    """Replace the automatic mentions of one episode; returns how many were found."""
    linker = linker or build_linker()
    with episode.writing():
        sentences = list(episode.sentences.all())
        spans = editor_spans(Mention.objects.filter(sentence__episode=episode))
        new = [
            mention_for(sentence, match)
            for sentence in sentences
            for match in automatic_matches(
                linker, sentence.text, spans.get(sentence.pk, ()), episode.pk, episode.series_id
            )
        ]
        Mention.objects.filter(sentence__episode=episode, kind=Mention.Kind.AUTO).delete()
        Mention.objects.bulk_create(new, batch_size=500)
        episode.render_transcript()
    return len(new)


def relink_all(episodes=None):
    """
    Relink every episode (or the given ones) with one shared automaton, in id
    order: inside a caller's transaction the locks add up, and id order is the
    order every writer of several episodes takes them in.
    """
    linker = build_linker()
    episodes = Episode.objects.all() if episodes is None else episodes
    if isinstance(episodes, QuerySet):
        episodes = episodes.order_by("pk")
    else:
        episodes = sorted(episodes, key=lambda episode: episode.pk)
    return {episode.slug: relink_episode(episode, linker) for episode in episodes}


@dataclass(slots=True)
class AliasMatches:
    """One name or alias of an entry, its scope, and how often it matched, per episode slug in show order."""

    alias: str
    scope: str = ""
    episodes: Counter = field(default_factory=Counter)

    @property
    def total(self):
        return self.episodes.total()

    @property
    def label(self):
        return f"{self.alias} (only in {self.scope})" if self.scope else self.alias


@dataclass(slots=True)
class EntryMatches:
    entry: LinkableEntry
    aliases: list

    @property
    def total(self):
        return sum(alias.total for alias in self.aliases)


def alias_report(episodes=None):
    """
    For every term and person, which of its names and aliases match in which
    episodes (all, or the given ones), and how often; an alias that matches
    nowhere has an empty count.

    A stored mention keeps its span, not the alias that found it, so this runs
    the linker again over every sentence (streamed, one automaton pass each)
    with the alias as the target, and leaves out editors' spans as a relink
    does: an entry's total is the automatic mentions a relink would store now,
    including the effect of an alias edit whose relink is still queued.
    """
    entries = list(linkable_entries())
    # The same names in the same order as build_linker, so the same matches win.
    linker = linker_for(entries, lambda entry, index: (entry.kind, entry.pk, index))
    sentences = Sentence.objects.all() if episodes is None else Sentence.objects.filter(episode__in=episodes)
    spans = editor_spans(Mention.objects.filter(sentence__in=sentences))
    counts = defaultdict(Counter)
    rows = sentences.order_by(
        F("episode__number").asc(nulls_last=True), "episode_id", "position"
    ).values_list("pk", "episode__slug", "episode_id", "episode__series_id", "text")
    for sentence_id, episode_slug, episode, series, text in rows.iterator(chunk_size=2000):
        for match in automatic_matches(linker, text, spans.get(sentence_id, ()), episode, series):
            counts[match.target][episode_slug] += 1
    return [
        EntryMatches(entry, [
            AliasMatches(name.text, name.scope, counts[entry.kind, entry.pk, index])
            for index, name in enumerate(entry.names)
        ])
        for entry in entries
    ]


@dataclass(slots=True)
class LinkChange(SpanInSentence):
    """A link a relink would add or remove: a span of a sentence and the term or person it names."""

    sentence: Sentence
    start: int
    end: int
    entity: object
    added: bool


@dataclass(slots=True)
class EpisodeLinkChanges:
    episode: Episode
    changes: list

    @property
    def added(self):
        return [change for change in self.changes if change.added]

    @property
    def removed(self):
        return [change for change in self.changes if not change.added]

    @property
    def taken(self):
        """
        (new link, the link it replaces) where the edit would move words from one
        entry to another: an alias such as "tsarist officials" taking the words
        another entry's "officials" linked. Easy to miss among additions.
        """
        removed = self.removed
        return [
            (new, old) for new in self.added for old in removed
            if old.sentence.pk == new.sentence.pk and old.start < new.end and new.start < old.end
            and (type(old.entity), old.entity.pk) != (type(new.entity), new.entity.pk)
        ]


def preview_relink(names):
    """
    What relinking now would change, without writing anything: the links
    added and removed, per episode in show order (empty when none change).

    Only a sentence where one of `names` is written can change (give an
    edited entry's names from before and after the edit: its old mentions
    came from the old ones, any new one from the new), so the sentences are
    streamed through an automaton of those names alone, and only the ones it
    finds are linked afresh and compared with their stored mentions.
    """
    finder = Linker((name, name) for name in names)
    touched = [
        pk for pk, text in Sentence.objects.values_list("pk", "text").iterator(chunk_size=2000)
        if finder.find(text)
    ]
    if not touched:
        return []
    linker = build_linker()
    mentions = Mention.objects.filter(sentence_id__in=touched)
    spans = editor_spans(mentions)
    stored = {
        (sentence_id, start, end, "term" if term_id else "person", term_id or person_id)
        for sentence_id, start, end, term_id, person_id in mentions.filter(kind=Mention.Kind.AUTO)
        .values_list("sentence_id", "start", "end", "term_id", "person_id")
    }
    sentences = Sentence.objects.filter(pk__in=touched).select_related("episode").only(
        "text", "position", "episode__slug", "episode__number", "episode__title", "episode__series_id"
    )
    by_pk = {sentence.pk: sentence for sentence in sentences}
    fresh = {
        (sentence.pk, match.start, match.end, *match.target)
        for sentence in by_pk.values()
        for match in automatic_matches(
            linker, sentence.text, spans.get(sentence.pk, ()), sentence.episode_id, sentence.episode.series_id
        )
    }
    changed = [(key, True) for key in fresh - stored] + [(key, False) for key in stored - fresh]
    entities = {
        kind: model.objects.only("name", "slug").in_bulk({pk for (_, _, _, k, pk), _ in changed if k == kind})
        for kind, model in (("term", Term), ("person", Person))
    }
    changes = sorted(
        (
            LinkChange(by_pk[sentence_id], start, end, entities[kind][pk], added)
            for (sentence_id, start, end, kind, pk), added in changed
        ),
        key=lambda change: (
            change.sentence.episode.number is None, change.sentence.episode.number or 0,
            change.sentence.episode_id, change.sentence.position, change.start, change.added,
        ),
    )
    return [
        EpisodeLinkChanges(episode, list(group))
        for episode, group in groupby(changes, key=lambda change: change.sentence.episode)
    ]
