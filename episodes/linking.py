"""
Keep an episode's mentions in step with its text, glossary and people.

Automatic mentions are recomputed from scratch; an editor's added mentions
and suppressions are kept and win over the linker, so they survive relinking.
"""

from django.db import transaction

from .linker import Linker
from .models import Episode, Mention, Person, Term


def build_linker():
    """One automaton over every term and person name (two queries)."""
    pairs = []
    for model, kind in ((Term, "term"), (Person, "person")):
        for pk, name, aliases in model.objects.values_list("pk", "name", "aliases"):
            entity_names = dict.fromkeys([name, *aliases.splitlines()])
            pairs.extend((alias, (kind, pk)) for alias in entity_names if alias.strip())
    return Linker(pairs)


def mention_for(sentence, match):
    kind, pk = match.target
    return Mention(
        sentence=sentence,
        start=match.start,
        end=match.end,
        kind=Mention.Kind.AUTO,
        **{f"{kind}_id": pk},
    )


def overlaps(match, spans):
    return any(match.start < end and start < match.end for start, end in spans)


@transaction.atomic
def relink_episode(episode, linker=None):
    """Replace the automatic mentions of one episode; returns how many were found."""
    linker = linker or build_linker()
    sentences = list(episode.sentences.all())
    # Spans an editor added or suppressed are theirs: the linker stays out.
    editor_spans = {}
    editor_mentions = Mention.objects.filter(sentence__episode=episode).exclude(
        kind=Mention.Kind.AUTO
    )
    for sentence_id, start, end in editor_mentions.values_list("sentence_id", "start", "end"):
        editor_spans.setdefault(sentence_id, []).append((start, end))
    new = [
        mention_for(sentence, match)
        for sentence in sentences
        for match in linker.find(sentence.text)
        if not overlaps(match, editor_spans.get(sentence.pk, ()))
    ]
    Mention.objects.filter(sentence__episode=episode, kind=Mention.Kind.AUTO).delete()
    Mention.objects.bulk_create(new, batch_size=500)
    episode.render_transcript()
    return len(new)


def relink_all(episodes=None):
    """Relink every episode (or the given ones) with one shared automaton."""
    linker = build_linker()
    episodes = Episode.objects.all() if episodes is None else episodes
    return {episode.slug: relink_episode(episode, linker) for episode in episodes}
