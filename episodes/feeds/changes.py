"""
What a re-import may change, decided without touching the database.

The editor rule: feed_values holds what the feed said last time, and a value
that no longer matches it is the editor's and stays. merge_fields applies it
field by field to an Episode or the Podcast; credits and chapters follow it
row by row; transcript links are the feed's own record and follow the feed.
Each function here only works out the change (rows to create, update and
delete); episodes/feeds/imports.py writes them all at once.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from episodes.models import Chapter, Credit, Series, TranscriptLink


def _stored(value):
    """A value as feed_values keeps it (JSON)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Series):
        return value.title
    return value


def current_value(obj, name, series_titles=None):
    """A field's value as feed_values would keep it; a series by its title (series_titles: {id: title})."""
    if name == "series":
        if not obj.series_id:
            return None
        return series_titles[obj.series_id] if series_titles is not None else obj.series.title
    return _stored(getattr(obj, name))


def merge_fields(obj, values, *, fresh=False, series_titles=None):
    """
    Decide field by field what a re-import may change; returns (changed, kept) names.

    A field may change when the editor has not: its value is still what the
    feed said last time (or, never imported, it is empty; or the row is new).
    feed_values then records what the feed says now.
    """
    feed_values = obj.feed_values
    changed, kept = [], []
    for name, new in values.items():
        new, current = _stored(new), current_value(obj, name, series_titles)
        if fresh:
            editors = False
        elif name in feed_values:
            editors = current != feed_values[name]
        else:
            editors = current not in (None, "") and current != new
        if current != new:
            (kept if editors else changed).append(name)
        feed_values[name] = new
    return changed, kept


@dataclass
class RowChanges:
    """Rows to write for one kind of child (credits, chapters, transcript links)."""

    create: list = field(default_factory=list)
    update: list = field(default_factory=list)
    delete: list = field(default_factory=list)  # primary keys
    replace_for: list = field(default_factory=list)  # episodes whose rows all go first (chapters)

    def add(self, other):
        for name in ("create", "update", "delete", "replace_for"):
            getattr(self, name).extend(getattr(other, name))


def _credit_row(credit):
    return {"name": credit.name, "role": credit.role, "group": credit.group,
            "href": credit.href, "img": credit.img, "position": credit.position}


def credit_changes(owner, episode, existing, persons):
    """
    (RowChanges, changed, kept) for the credits the feed lists: episode is None
    for the podcast's own; existing is the credits stored now (rows with a
    Credit's attributes).
    """
    by_key = {(c.name, c.role): c for c in existing}
    last = {(row["name"], row["role"]): row for row in owner.feed_values.get("credits", [])}
    rows = [person.as_dict() | {"position": position} for position, person in enumerate(persons)]
    changes, changed, kept = RowChanges(), 0, 0
    for row in rows:
        key = (row["name"], row["role"])
        credit = by_key.get(key)
        if credit is None:
            if key in last:  # the feed wrote it and the editor deleted it
                kept += 1
            else:
                changes.create.append(Credit(episode=episode, **row))
                changed += 1
        elif _credit_row(credit) != row:
            if key in last and _credit_row(credit) == last[key]:
                changes.update.append(Credit(pk=credit.pk, episode_id=credit.episode_id, **row))
                changed += 1
            else:
                kept += 1
    incoming = {(row["name"], row["role"]) for row in rows}
    for key, credit in by_key.items():
        if key not in incoming and key in last and _credit_row(credit) == last[key]:
            changes.delete.append(credit.pk)
            changed += 1
    owner.feed_values["credits"] = rows
    return changes, changed, kept


def chapter_changes(episode, existing, url, rows):
    """(RowChanges, changed, kept): the file's chapters replace the stored ones unless the editor changed them."""
    current = [[c.start, c.title, c.url, c.img] for c in existing]
    last = episode.feed_values.get("chapters", [])
    episode.feed_values["chapters"], episode.feed_values["chapters_url"] = rows, url
    changes = RowChanges()
    if current == rows:
        return changes, False, False
    if current and current != last:
        return changes, False, True
    if existing:
        changes.replace_for.append(episode)
    changes.create = [Chapter(episode=episode, start=start, title=title, url=link, img=img)
                      for start, title, link, img in rows]
    return changes, True, False


LINK_FIELDS = ["type", "language", "rel"]


def transcript_link_changes(episode, existing, transcripts):
    """(RowChanges, changed): the feed's podcast:transcript list, as it is now."""
    by_url = {link.url: link for link in existing}
    changes = RowChanges()
    for transcript in transcripts:
        link = by_url.pop(transcript.url, None)
        values = {"type": transcript.type, "language": transcript.language, "rel": transcript.rel}
        if link is None:
            changes.create.append(TranscriptLink(episode=episode, url=transcript.url, **values))
        elif any(getattr(link, name) != value for name, value in values.items()):
            changes.update.append(TranscriptLink(pk=link.pk, episode_id=link.episode_id, url=link.url, **values))
    changes.delete = [link.pk for link in by_url.values()]
    return changes, bool(changes.create or changes.update or changes.delete)
