"""
Load the demo timeline (episodes/demo/events.yaml) into Event rows.

Each event names the sentences where the episode tells it by a few of their
words, not by position, so re-importing or re-splitting the transcript never
leaves an event pointing at the wrong sentence; a quote that no longer
matches exactly one sentence stops the load with a message saying which.
Runs when load_demo sends episodes.signals.demo_loaded (connected in
timeline/apps.py), inside its transaction: a bad events.yaml undoes the load.
"""

from episodes.demo import DemoContentError, read_yaml, require, resolve_quotes, upsert
from episodes.models import Person, Term

from .models import Event, last_day, parse_partial_date

KEYS = {"slug", "title", "date", "end_date", "description", "people", "terms", "quotes"}


def resolve_slugs(model, slugs, where, key):
    slugs = slugs or []
    if not isinstance(slugs, list):
        raise DemoContentError(f"{where}: '{key}' should be a list of slugs.")
    found = {entry.slug: entry for entry in model.objects.filter(slug__in=slugs)}
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise DemoContentError(f"{where}: unknown {key} {', '.join(map(str, missing))}.")
    return list(found.values())


def event_dates(entry, where):
    try:
        date, precision = parse_partial_date(require(entry, "date", where))
        end_date = None
        if entry.get("end_date") not in (None, ""):
            end_date, end_precision = parse_partial_date(entry["end_date"])
            if end_precision != precision:
                raise ValueError("the end_date must be written to the same precision as the date.")
            end_date = last_day(end_date, precision)
    except ValueError as error:
        raise DemoContentError(f"{where}: {error}") from None
    return {"date": date, "precision": precision, "end_date": end_date}


def load_events(entries, episode):
    """Create or update each event by slug with its links; returns the events."""
    sentences = list(episode.sentences.all())
    events = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise DemoContentError("events.yaml: each event should be a mapping of keys to values.")
        where = f"events.yaml ({entry.get('slug', '?')})"
        unknown = sorted(set(entry) - KEYS)
        if unknown:
            raise DemoContentError(f"{where}: unknown keys {', '.join(map(str, unknown))}.")
        event = upsert(
            Event,
            where,
            require(entry, "slug", where),
            {
                "title": require(entry, "title", where),
                "description": str(require(entry, "description", where)).strip(),
                **event_dates(entry, where),
            },
        )
        event.people.set(resolve_slugs(Person, entry.get("people"), where, "people"))
        event.terms.set(resolve_slugs(Term, entry.get("terms"), where, "terms"))
        event.sentences.set(resolve_quotes(entry.get("quotes"), sentences, where))
        events.append(event)
    return events


def load_demo_events(episode, directory, **kwargs):
    """Receiver of episodes.signals.demo_loaded: the events.yaml beside the demo's other files."""
    return load_events(read_yaml(directory, "events.yaml", list), episode)
