"""
Keep an episode's mentions in step with its text, glossary and people.

Automatic mentions are recomputed from scratch; an editor's added mentions
and suppressions are kept and win over the linker, so they survive relinking.
`alias_report` says which of those names and aliases find anything at all.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import F, QuerySet

from .linker import Linker
from .models import Episode, Mention, Person, Sentence, Term


@dataclass(frozen=True, slots=True)
class LinkableEntry:
    """A term or person with the names the linker looks for: its name first, then each alias once."""

    kind: str
    pk: int
    slug: str
    name: str
    aliases: tuple


def linkable_entries():
    """Every term, then every person, by name (two queries)."""
    for model, kind in ((Term, "term"), (Person, "person")):
        for pk, slug, name, aliases in model.objects.values_list("pk", "slug", "name", "aliases"):
            tidied = (" ".join(alias.split()) for alias in [name, *aliases.splitlines()])
            yield LinkableEntry(kind, pk, slug, name, tuple(dict.fromkeys(a for a in tidied if a)))


def build_linker():
    """One automaton over every term and person name (two queries)."""
    return Linker(
        (alias, (entry.kind, entry.pk)) for entry in linkable_entries() for alias in entry.aliases
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


def automatic_matches(linker, text, spans):
    """What the linker finds in text, less what overlaps an editor's spans."""
    return [
        match for match in linker.find(text)
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
            for match in automatic_matches(linker, sentence.text, spans.get(sentence.pk, ()))
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
    """One name or alias of an entry and how often it matched, per episode slug in show order."""

    alias: str
    episodes: Counter = field(default_factory=Counter)

    @property
    def total(self):
        return self.episodes.total()


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
    # The same pairs in the same order as build_linker, so the same matches win.
    linker = Linker(
        (alias, (entry.kind, entry.pk, alias)) for entry in entries for alias in entry.aliases
    )
    sentences = Sentence.objects.all() if episodes is None else Sentence.objects.filter(episode__in=episodes)
    spans = editor_spans(Mention.objects.filter(sentence__in=sentences))
    counts = defaultdict(Counter)
    rows = sentences.order_by(
        F("episode__number").asc(nulls_last=True), "episode_id", "position"
    ).values_list("pk", "episode__slug", "text")
    for sentence_id, episode_slug, text in rows.iterator(chunk_size=2000):
        for match in automatic_matches(linker, text, spans.get(sentence_id, ())):
            counts[match.target][episode_slug] += 1
    return [
        EntryMatches(entry, [
            AliasMatches(alias, counts[entry.kind, entry.pk, alias]) for alias in entry.aliases
        ])
        for entry in entries
    ]
