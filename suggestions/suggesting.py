"""
Suggesting for an episode (the finder over its sentences, minus what the show
already knows), and an editor's decisions: reject, or accept as an alias.
Accepting as a new entry happens in the entry's admin form, prefilled from the
suggestion; saving it there marks the suggestion accepted (suggestions/apps.py).
"""

from django.db import transaction
from django.utils import timezone

from episodes.linking import relink_episode
from episodes.models import Episode, Mention, Person, Term
from episodes.tasks import relink_episodes

from .finder import Finder, normalise
from .models import Kind, RejectedName, Suggestion

#: Other transcripts read to tell what is unusual for the show (the most recent ones).
OTHER_TRANSCRIPTS = 200
#: Suggestions kept per episode: an editor's queue, not a word list.
KEPT = 120


def known_names():
    """{every name and alias of the show's entries: the entry's name}."""
    known = {}
    for model in (Term, Person):
        for name, aliases in model.objects.values_list("name", "aliases"):
            for alias in [name, *aliases.splitlines()]:
                if alias.strip():
                    known.setdefault(alias.strip(), name)
    for name, full_name in Person.objects.exclude(full_name="").values_list("name", "full_name"):
        known.setdefault(full_name.strip(), name)
    return known


def suggest_for(episode):
    """Replace the episode's pending suggestions with a fresh look at its text; returns how many."""
    sentences = list(episode.sentences.order_by("position").values_list("pk", "text"))
    linked = {}
    for sentence_id, start, end in Mention.objects.filter(sentence__episode=episode).values_list(
        "sentence_id", "start", "end"
    ):
        linked.setdefault(sentence_id, []).append((start, end))
    others = (
        Episode.objects.exclude(pk=episode.pk).exclude(transcript_plain="")
        .order_by("-pk").values_list("transcript_plain", flat=True)[:OTHER_TRANSCRIPTS]
    )
    finder = Finder(
        [text for _, text in sentences], known=known_names(), others=list(others),
        rejected=RejectedName.objects.values_list("key", flat=True),
    )
    found = []
    for candidate in finder.find():
        mentions = [[sentences[m.sentence][0], m.start, m.end] for m in candidate.mentions]
        if all(overlaps(linked.get(sentence_id, ()), start, end) for sentence_id, start, end in mentions):
            continue  # every mention already links to an entry
        found.append(Suggestion(
            episode=episode, name=candidate.name[:300], key=candidate.key[:300], kind=candidate.kind,
            reason=candidate.reason[:200], near=candidate.near[:300], mentions=mentions, score=candidate.score,
        ))
    with transaction.atomic():
        decided = set(episode.suggestions.exclude(status=Suggestion.Status.PENDING).values_list("key", flat=True))
        episode.suggestions.filter(status=Suggestion.Status.PENDING).delete()
        fresh = [suggestion for suggestion in found if suggestion.key not in decided][:KEPT]
        Suggestion.objects.bulk_create(fresh)
    return len(fresh)


def overlaps(spans, start, end):
    return any(start < span_end and span_start < end for span_start, span_end in spans)


def decide(suggestion, user, status, entry=None):
    suggestion.status, suggestion.decided, suggestion.decided_by = status, timezone.now(), user
    suggestion.term = entry if isinstance(entry, Term) else None
    suggestion.person = entry if isinstance(entry, Person) else None
    suggestion.save(update_fields=["status", "decided", "decided_by", "term", "person"])


def reject(suggestion, user):
    """Rejected here, and never suggested again for the show."""
    with transaction.atomic():
        RejectedName.remember(suggestion.name, user)
        Suggestion.objects.pending().filter(key=suggestion.key).update(
            status=Suggestion.Status.REJECTED, decided=timezone.now(), decided_by=user,
        )
        suggestion.refresh_from_db()


def accept_as_alias(suggestion, entry, user):
    """The suggestion's name becomes an alias of the entry; its episode relinks now, the others soon."""
    with Episode.objects.filter(pk=suggestion.episode_id).writing():
        entry = type(entry).objects.select_for_update().get(pk=entry.pk)
        if normalise(suggestion.name) not in {normalise(alias) for alias in [entry.name, *entry.alias_list]}:
            entry.add_alias(suggestion.name)  # everywhere: a spelling of a name is one in every episode
        decide(suggestion, user, Suggestion.Status.ACCEPTED, entry)
        relink_episode(suggestion.episode)
        transaction.on_commit(lambda: relink_episodes.enqueue(None))
    return entry


def entry_saved(instance, created, raw=False, **kwargs):
    """An editor saved a new entry (post_save of Term and Person): its names' suggestions are accepted as it."""
    if not created or raw:
        return
    entry = instance
    keys = {normalise(name) for name in [entry.name, *entry.alias_list]}
    for suggestion in Suggestion.objects.pending().filter(key__in=keys):
        decide(suggestion, None, Suggestion.Status.ACCEPTED, entry)


def new_entry_fields(suggestion):
    """What the admin's "add" form is prefilled with: the name, the forms seen, a category."""
    categories = {Kind.ORGANISATION: "organisation", Kind.EVENT: "event", Kind.DOCUMENT: "document",
                  Kind.PLACE: "place", Kind.TERM: "concept"}
    fields = {"name": suggestion.name}
    if suggestion.kind != Kind.PERSON:
        fields["category"] = categories[suggestion.kind]
    return fields
