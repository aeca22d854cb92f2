"""
Import a podcast's RSS feed: the channel into the one Podcast row, each item
into an Episode with its credits, chapters and transcript links.

Three phases. Read the feed (episodes/feeds/parse.py): anything fatal stops
here. Fetch the files it points at (chapters, timed transcripts; see
episodes/feeds/files.py), outside any transaction; a file that cannot be had
is noted, not fatal. Then write everything in one transaction, so a
failure leaves the database as it was.

Re-imports match items by guid (then, for episodes made by hand, by number
or audio URL) and change only what the feed changed and the editor did not:
feed_values holds what the feed said last time, and a field whose value no
longer matches it is the editor's, and stays. Credits and chapters follow the
same rule row by row; transcript links are the feed's own record and follow
it. Timed transcripts are imported only into episodes that have no timings
of their own yet; an episode without sentences gets its text from the cues.
"""

import copy
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from companion.fetch import FetchError, download, fetch_bytes
from episodes.models import Chapter, Credit, Podcast, Series, TranscriptLink
from episodes.feeds.files import (
    MAX_CHAPTERS_BYTES,
    TIMED_PREFERENCE,
    Fetched,
    import_timed_transcript,
    parse_chapters,
    timed_kind,
)
from episodes.feeds.parse import MAX_FEED_BYTES, FeedError, clip, parse_feed
from episodes.timings.formats import MAX_TIMING_BYTES, TimingFormatError
from episodes.transcripts import TranscriptError
from episodes.models import Episode
from episodes.timings.imports import TimingImportError

EPISODE_FIELDS = [
    "title", "number", "published", "audio_url", "audio_type", "audio_length",
    "duration", "description", "series", "part",
]
PODCAST_FIELDS = ["title", "link", "description", "language", "author", "image_url", "feed_url", "guid"]


@dataclass
class FeedImportReport:
    podcast: str = "unchanged"  # created, updated or unchanged
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_editor_changes: int = 0  # episodes (and the podcast) where an editor's value was kept
    kept: list[str] = field(default_factory=list)  # "138 The Great Purges: title", …
    transcripts_imported: int = 0
    transcripts_failed: int = 0
    chapters_imported: int = 0
    chapters_failed: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    fetched: bool = True

    def __str__(self):
        lines = [
            f"Podcast {self.podcast}. Episodes: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged; editor's changes kept in {self.kept_editor_changes}.",
        ]
        if self.fetched:
            lines.append(
                f"Timed transcripts: {self.transcripts_imported} imported, {self.transcripts_failed} "
                f"could not be used. Chapters: {self.chapters_imported} imported, "
                f"{self.chapters_failed} could not be used."
            )
        else:
            lines.append("Transcript and chapter files were not fetched.")
        lines += [f"Kept the editor's {what}" for what in self.kept]
        lines += [f"Warning: {warning}" for warning in self.warnings]
        if self.dry_run:
            lines.insert(0, "Dry run: nothing was written.")
        return "\n".join(lines)


# --- Reading the source -----------------------------------------------------


def read_feed_source(source):
    """The feed's bytes from a file path or an http(s) URL, or a FeedError."""
    source = str(source).strip()
    if source.lower().startswith(("http://", "https://")):
        try:
            return fetch_bytes(source, max_bytes=MAX_FEED_BYTES, what="feed")
        except FetchError as error:
            raise FeedError(f"The feed could not be fetched: {error}") from None
    if "://" in source:
        raise FeedError(f"{source}: give a file or an http(s) URL.")
    path = Path(source)
    if not path.exists():
        raise FeedError(f"No such file: {path}")
    if not path.is_file():
        raise FeedError(f"Not a regular file: {path}")
    size = path.stat().st_size
    if size > MAX_FEED_BYTES:
        raise FeedError(
            f"{path.name} is {size:,} bytes; the limit is "
            f"{MAX_FEED_BYTES // (1024 * 1024)} MB ({MAX_FEED_BYTES:,} bytes)."
        )
    return path.read_bytes()


# --- Matching items to episodes --------------------------------------------


class _Catalogue:
    """Every episode, loaded once and kept current as the import creates and renumbers."""

    def __init__(self):
        episodes = list(Episode.objects.select_related("series"))
        self.by_guid = {e.guid: e for e in episodes if e.guid}
        self.by_number = {e.number: e for e in episodes if e.number is not None}
        self.by_audio = {e.audio_url: e for e in episodes if e.audio_url and not e.guid}
        self.slugs = {e.slug for e in episodes}
        self.series = {s.title: s for s in Series.objects.all()}

    def match(self, item):
        """The episode an item is, if any: by guid, else a hand-made one with its number or audio."""
        if episode := self.by_guid.get(item.guid):
            return episode
        episode = self.by_number.get(item.number) if item.number is not None else None
        if episode is not None and not episode.guid:
            return episode
        episode = self.by_audio.get(item.audio_url) if item.audio_url else None
        if episode is not None and not episode.guid:
            return episode
        return None

    def unique_slug(self, item):
        base = slugify(item.title)[:180] or "episode"
        if item.number is not None:
            base = f"{item.number}-{base}"
        slug, suffix = base, 2
        while slug in self.slugs:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        self.slugs.add(slug)
        return slug

    def series_named(self, title):
        if title not in self.series:
            slug, base, suffix = slugify(title)[:190] or "series", slugify(title)[:190] or "series", 2
            while Series.objects.filter(slug=slug).exists():
                slug, suffix = f"{base}-{suffix}", suffix + 1
            self.series[title] = Series.objects.create(title=title, slug=slug)
        return self.series[title]


# --- Fetching ---------------------------------------------------------------


def _wanted_files(feed, catalogue):
    """{url: (byte limit, what)} for the chapters and timed transcripts the import needs."""
    wanted = {}
    for item in feed.items:
        episode = catalogue.match(item)
        if item.chapters_url and (episode is None or episode.feed_values.get("chapters_url") != item.chapters_url):
            wanted[item.chapters_url] = (MAX_CHAPTERS_BYTES, "chapters file")
        if episode is not None and episode.timing in (Episode.Timing.TIMED, Episode.Timing.ALIGNED):
            continue
        done = set()
        if episode is not None:
            done = set(episode.transcript_links.filter(imported_at__isnull=False).values_list("url", flat=True))
        for transcript in item.transcripts:
            if transcript.timed_format and transcript.url not in done:
                wanted[transcript.url] = (MAX_TIMING_BYTES, "transcript")
    return wanted


# --- Writing ----------------------------------------------------------------


def _stored(value):
    """A value as feed_values keeps it (JSON)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Series):
        return value.title
    return value


def _current(obj, name):
    if name == "series":
        return obj.series.title if obj.series_id else None
    return _stored(getattr(obj, name))


def merge_fields(obj, values, *, fresh=False):
    """Decide field by field what a re-import may change; returns (changed, kept) names.

    A field may change when the editor has not: its value is still what the
    feed said last time (or, never imported, it is empty; or the row is new).
    feed_values then records what the feed says now.
    """
    feed_values = obj.feed_values
    changed, kept = [], []
    for name, new in values.items():
        new, current = _stored(new), _current(obj, name)
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


def _credit_row(credit):
    return {"name": credit.name, "role": credit.role, "group": credit.group,
            "href": credit.href, "img": credit.img, "position": credit.position}


def sync_credits(owner, episode, persons):
    """Credits the feed lists, row by row under the editor rule; returns (changed, kept)."""
    existing = {(c.name, c.role): c for c in Credit.objects.filter(episode=episode)}
    last = {(row["name"], row["role"]): row for row in owner.feed_values.get("credits", [])}
    rows = [person.as_dict() | {"position": position} for position, person in enumerate(persons)]
    changed = kept = 0
    for row in rows:
        key = (row["name"], row["role"])
        credit = existing.get(key)
        if credit is None:
            if key in last:  # the feed wrote it and the editor deleted it
                kept += 1
            else:
                Credit.objects.create(episode=episode, **row)
                changed += 1
        elif _credit_row(credit) != row:
            if key in last and _credit_row(credit) == last[key]:
                for name, value in row.items():
                    setattr(credit, name, value)
                credit.save()
                changed += 1
            else:
                kept += 1
    incoming = {(row["name"], row["role"]) for row in rows}
    for key, credit in existing.items():
        if key not in incoming and key in last and _credit_row(credit) == last[key]:
            credit.delete()
            changed += 1
    owner.feed_values["credits"] = rows
    return changed, kept


def sync_chapters(episode, url, rows):
    """Replace the chapters with the file's unless the editor changed them; returns (changed, kept)."""
    current = [[c.start, c.title, c.url, c.img] for c in episode.chapters.all()]
    last = episode.feed_values.get("chapters", [])
    episode.feed_values["chapters"], episode.feed_values["chapters_url"] = rows, url
    if current == rows:
        return False, False
    if current and current != last:
        return False, True
    episode.chapters.all().delete()
    Chapter.objects.bulk_create(
        Chapter(episode=episode, start=start, title=title, url=link, img=img) for start, title, link, img in rows
    )
    if episode.transcript_rendered_at:
        episode.render_transcript()  # the chapters are its headings
    return True, False


def sync_transcript_links(episode, transcripts):
    """The feed's podcast:transcript list, as it is now; returns whether anything changed."""
    existing = {link.url: link for link in episode.transcript_links.all()}
    changed = False
    for transcript in transcripts:
        link = existing.pop(transcript.url, None)
        values = {"type": transcript.type, "language": transcript.language, "rel": transcript.rel}
        if link is None:
            TranscriptLink.objects.create(episode=episode, url=transcript.url, **values)
            changed = True
        elif any(getattr(link, name) != value for name, value in values.items()):
            TranscriptLink.objects.filter(pk=link.pk).update(**values)
            changed = True
    if existing:
        TranscriptLink.objects.filter(pk__in=[link.pk for link in existing.values()]).delete()
        changed = True
    return changed


def _import_transcripts(episode, fetched, report):
    if episode.timing in (Episode.Timing.TIMED, Episode.Timing.ALIGNED):
        return
    links = [link for link in episode.transcript_links.filter(imported_at__isnull=True)
             if timed_kind(link)]
    for link in sorted(links, key=lambda link: TIMED_PREFERENCE[timed_kind(link)]):
        data, error = fetched.get(link.url)
        if data is None and error is None:
            continue  # not fetched this time
        if error is None:
            try:
                with transaction.atomic():
                    import_timed_transcript(episode, data, timed_kind(link))
            except (TimingFormatError, TimingImportError, TranscriptError) as problem:
                error = str(problem)
                episode.refresh_from_db()  # the savepoint rolled back; so does our copy
        if error:
            link.error = clip(error, 500)
            link.save(update_fields=["error"])
            report.transcripts_failed += 1
            continue
        link.imported_at, link.error = timezone.now(), ""
        link.save(update_fields=["imported_at", "error"])
        report.transcripts_imported += 1
        episode.refresh_from_db(fields=["timing"])
        return


def _import_podcast(feed, source_url, report):
    channel = feed.channel
    podcast = Podcast.objects.order_by("pk").first()
    created = podcast is None
    if created:
        podcast = Podcast(title=channel.title)
    values = {name: getattr(channel, name) for name in PODCAST_FIELDS}
    if not values["feed_url"] and source_url.lower().startswith(("http://", "https://")) and len(source_url) <= 500:
        values["feed_url"] = source_url
    feed_values_before = copy.deepcopy(podcast.feed_values)
    changed, kept = merge_fields(podcast, values, fresh=created)
    for name in changed:
        setattr(podcast, name, values[name])
    credits_changed, credits_kept = sync_credits(podcast, None, channel.persons)
    if created or changed or podcast.feed_values != feed_values_before:
        podcast.save()
    if kept or credits_kept:
        report.kept_editor_changes += 1
        report.kept += [f"podcast {name}" for name in kept] + (["podcast credits"] if credits_kept else [])
    report.podcast = "created" if created else ("updated" if changed or credits_changed else "unchanged")


def _import_item(item, catalogue, fetched, report):
    episode = catalogue.match(item)
    created = episode is None
    values = {name: getattr(item, name) for name in EPISODE_FIELDS}
    if created:
        episode = Episode(slug=catalogue.unique_slug(item), title=item.title, guid=item.guid)
    adopted = not created and episode.guid != item.guid
    feed_values_before = copy.deepcopy(episode.feed_values)
    changed, kept = merge_fields(episode, values, fresh=created)
    if "number" in changed and item.number is not None:
        holder = catalogue.by_number.get(item.number)
        if holder is not None and holder is not episode:
            report.warnings.append(
                f"{item.where}: episode number {item.number} already belongs to “{holder.title}”; "
                "left unchanged."
            )
            changed.remove("number")
            episode.feed_values["number"] = _current(episode, "number")
    for name in changed:
        value = values[name]
        if name == "series":
            value = catalogue.series_named(value) if value else None
        setattr(episode, name, value)
    if "number" in changed:
        catalogue.by_number = {n: e for n, e in catalogue.by_number.items() if e is not episode}
        if episode.number is not None:
            catalogue.by_number[episode.number] = episode
    episode.guid = item.guid
    if created:
        episode.save()
    catalogue.by_guid[item.guid] = episode

    children = sync_transcript_links(episode, item.transcripts)
    credits_changed, credits_kept = sync_credits(episode, episode, item.persons)
    chapters_kept = False
    if item.chapters_url:
        data, error = fetched.get(item.chapters_url)
        rows = None
        if data is not None:
            try:
                rows = parse_chapters(data)
            except ValueError as problem:
                error = f"{item.chapters_url}: {problem}"
        if error:
            report.warnings.append(f"{item.where}: chapters not imported: {error}")
            report.chapters_failed += 1
        elif rows is not None:
            chapters_changed, chapters_kept = sync_chapters(episode, item.chapters_url, rows)
            children = children or chapters_changed
            report.chapters_imported += chapters_changed
    updated = bool(changed or adopted or children or credits_changed)
    # Save only what changed, so an unchanged episode keeps its "updated" time (and its ETag).
    if created or updated or episode.feed_values != feed_values_before:
        episode.save()
    timed_before = report.transcripts_imported
    _import_transcripts(episode, fetched, report)
    updated = updated or report.transcripts_imported > timed_before

    label = f"{episode.number or '(no number)'} {episode.title}"
    if kept or credits_kept or chapters_kept:
        report.kept_editor_changes += 1
        what = kept + (["credits"] if credits_kept else []) + (["chapters"] if chapters_kept else [])
        report.kept.append(f"{', '.join(what)} of {label}")
    if created:
        report.created += 1
    elif updated:
        report.updated += 1
    else:
        report.unchanged += 1


def episodes_named_in(feed):
    """The episodes the feed's items can match (by guid, number or audio URL): those it may write."""
    return (
        Q(guid__in={item.guid for item in feed.items})
        | Q(number__in={item.number for item in feed.items if item.number is not None})
        | Q(audio_url__in={item.audio_url for item in feed.items if item.audio_url})
    )


def import_feed(data, *, source_url="", dry_run=False, fetch=True, fetcher=download):
    """Import a feed's bytes; returns a FeedImportReport, or raises FeedError with nothing written."""
    feed = parse_feed(data)
    report = FeedImportReport(dry_run=dry_run, fetched=fetch, warnings=list(feed.warnings))
    with tempfile.TemporaryDirectory(prefix="feed-import-") as folder:
        fetched = Fetched(folder)
        if fetch:
            fetched.fetch_all(_wanted_files(feed, _Catalogue()), fetcher)
        try:
            # Every episode it may write locked first, in id order: the one lock order.
            with Episode.objects.filter(episodes_named_in(feed)).writing():
                catalogue = _Catalogue()
                _import_podcast(feed, source_url, report)
                for item in feed.items:
                    _import_item(item, catalogue, fetched, report)
                if dry_run:
                    transaction.set_rollback(True)
        except DatabaseError as error:
            raise FeedError(f"The import could not be saved ({error}); nothing was written.") from None
    return report
