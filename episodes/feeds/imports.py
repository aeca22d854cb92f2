"""
Import a podcast's feed: the channel into the one Podcast row, each item
into an Episode with its credits, chapters and transcript links.

Three phases. Read the feed (episodes/feeds/parse.py): anything fatal stops
here. Fetch the files it points at (chapters, timed transcripts; see
episodes/feeds/files.py), outside any transaction; a file that cannot be had
is noted, not fatal. Then write everything in one transaction, so a
failure leaves the database as it was.

The write is in bulk, so a feed of thousands of items costs a fixed handful
of queries, not a few per item: everything that exists is read once (the
_Catalogue), every change is worked out in memory (episodes/feeds/changes.py),
the episodes about to change are locked in id order (the project's one lock
order: an episode before its sentences and notes, several in id order), and
then each kind of row is created, updated and deleted in one statement per
batch. An unchanged re-import writes nothing at all.

Re-imports match items by guid (then, for episodes made by hand, by number
or audio URL) and change only what the feed changed and the editor did not
(the editor rule, episodes/feeds/changes.py). Timed transcripts are imported
only into episodes that have no timings of their own yet; an episode without
sentences gets its text from the cues.
"""

import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.text import slugify

from episodes.feeds.changes import (
    LINK_FIELDS,
    RowChanges,
    chapter_changes,
    credit_changes,
    merge_fields,
    transcript_link_changes,
)
from companion.fetch import FetchError, download, fetch_bytes
from episodes.feeds.files import (
    MAX_CHAPTERS_BYTES,
    TIMED_PREFERENCE,
    Fetched,
    import_timed_transcript,
    parse_chapters,
    timed_kind,
)
from episodes.feeds.parse import MAX_FEED_BYTES, FeedError, clip, parse_feed
from episodes.models import Chapter, Credit, Episode, Podcast, Series, TranscriptLink
from episodes.timings.formats import MAX_TIMING_BYTES, TimingFormatError
from episodes.timings.imports import TimingImportError
from episodes.transcripts import TranscriptError

EPISODE_FIELDS = [
    "title", "published_title", "number", "published", "audio_url", "audio_type", "audio_length",
    "duration", "description", "series", "part",
]
PODCAST_FIELDS = ["title", "link", "description", "language", "author", "image_url", "feed_url", "guid"]
# What the import reads of each episode: never its transcript or notes.
CATALOGUE_FIELDS = [
    "id", "slug", "guid", "timing", "feed_values", "updated", "series_id",
    *(name for name in EPISODE_FIELDS if name != "series"),
]
BATCH = 500
STALE_RETRIES = 3


@dataclass
class FeedImportReport:
    podcast: str = "unchanged"  # created, updated or unchanged
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)  # items not imported, each with its reason
    recovered: list[str] = field(default_factory=list)  # errors in the feed read past, each said once
    kept_editor_changes: int = 0  # episodes (and the podcast) where an editor's value was kept
    kept: list[str] = field(default_factory=list)  # "138 The Great Purges: title", …
    transcripts_imported: int = 0
    transcripts_failed: int = 0
    chapters_imported: int = 0
    chapters_failed: int = 0
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    fetched: bool = True
    published: bool = False  # new episodes published at once, rather than drafts

    def __str__(self):
        lines = [
            f"Podcast {self.podcast}. Episodes: {self.created} created"
            f"{' (as drafts: listeners see them once published)' if self.created and not self.published else ''}, "
            f"{self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.skipped)} skipped; "
            f"editor's changes kept in {self.kept_editor_changes}.",
        ]
        if self.fetched:
            lines.append(
                f"Timed transcripts: {self.transcripts_imported} imported, {self.transcripts_failed} "
                f"could not be used. Chapters: {self.chapters_imported} imported, "
                f"{self.chapters_failed} could not be used."
            )
        else:
            lines.append("Transcript and chapter files were not fetched.")
        lines += [f"Recovered: {line}" for line in self.recovered]
        lines += [f"Skipped {line}" for line in self.skipped]
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


# --- What exists --------------------------------------------------------------


CREDIT_COLUMNS = ["id", "episode_id", "name", "role", "group", "href", "img", "position"]
LINK_COLUMNS = ["id", "episode_id", "url", "type", "language", "rel", "imported_at"]


def _rows(queryset, columns):
    return [SimpleNamespace(pk=row[0], **dict(zip(columns, row, strict=True))) for row in queryset.values_list(*columns)]


def _snapshot(feed_values):
    """feed_values as a string to compare later: far cheaper than a deep copy of its nested rows."""
    return json.dumps(feed_values, sort_keys=True)


class _Catalogue:
    """Every episode and what hangs off it, read once, in a fixed number of queries."""

    def __init__(self):
        self.episodes = list(Episode.objects.only(*CATALOGUE_FIELDS).order_by("pk"))
        self.by_guid = {e.guid: e for e in self.episodes if e.guid}
        self.by_number = {e.number: e for e in self.episodes if e.number is not None}
        self.by_audio = {e.audio_url: e for e in self.episodes if e.audio_url and not e.guid}
        self.slugs = {e.slug for e in self.episodes}
        series = list(Series.objects.only("id", "title", "slug"))
        self.series = {s.title: s for s in series}
        self.series_titles = {s.pk: s.title for s in series}
        self.series_slugs = {s.slug for s in series}
        # Credits and links as plain rows (a model instance each cost more than the rest of
        # an unchanged re-import); changes.py makes instances only of the rows it writes.
        self.credits, self.podcast_credits = defaultdict(list), []
        for credit in _rows(Credit.objects.order_by("episode_id", "position", "pk"), CREDIT_COLUMNS):
            (self.credits[credit.episode_id] if credit.episode_id else self.podcast_credits).append(credit)
        self.links = defaultdict(list)
        for link in _rows(TranscriptLink.objects.order_by("episode_id", "pk"), LINK_COLUMNS):
            self.links[link.episode_id].append(link)

    def chapters_of(self, episode_ids):
        """{episode id: [Chapter, …]} for the few episodes whose chapters file came in."""
        chapters = defaultdict(list)
        for chapter in Chapter.objects.filter(episode_id__in=episode_ids).order_by("episode_id", "start", "pk"):
            chapters[chapter.episode_id].append(chapter)
        return chapters

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

    def unique_slug(self, number, title):
        base = slugify(title)[:180] or "episode"
        if number is not None:
            base = f"{number}-{base}"
        slug, suffix = base, 2
        while slug in self.slugs:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        self.slugs.add(slug)
        return slug

    def series_named(self, title, new_series):
        """The Series of that title; a new one (appended to new_series, saved later) if there is none."""
        if title not in self.series:
            base = slugify(title)[:190] or "series"
            slug, suffix = base, 2
            while slug in self.series_slugs:
                slug, suffix = f"{base}-{suffix}", suffix + 1
            self.series_slugs.add(slug)
            self.series[title] = Series(title=title, slug=slug)
            new_series.append(self.series[title])
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
            done = {link.url for link in catalogue.links[episode.pk] if link.imported_at is not None}
        for transcript in item.transcripts:
            if transcript.timed_format and transcript.url not in done:
                wanted[transcript.url] = (MAX_TIMING_BYTES, "transcript")
    return wanted


# --- Working out the changes ----------------------------------------------------


@dataclass
class _Plan:
    """One item and what importing it changes."""

    item: object
    episode: Episode
    created: bool
    number_before: int | None
    feed_values_before: str
    changed: list
    kept: list
    adopted: bool = False
    children_changed: bool = False
    children_kept: list = field(default_factory=list)  # "credits", "chapters"
    transcripts_due: bool = False

    @cached_property
    def writes_row(self):
        """Whether the episode's row changes (asked once the whole plan is made)."""
        return self.created or self.changed or self.adopted or _snapshot(self.episode.feed_values) != self.feed_values_before


@dataclass
class _Changes:
    podcast: Podcast
    podcast_dirty: bool
    plans: list
    new_series: list
    credits: RowChanges
    chapters: RowChanges
    links: RowChanges


def _plan_podcast(feed, source_url, catalogue, report, credits):
    channel = feed.channel
    podcast = Podcast.objects.order_by("pk").first()
    created = podcast is None
    if created:
        podcast = Podcast(title=channel.title)
    values = {name: getattr(channel, name) for name in PODCAST_FIELDS}
    if not values["feed_url"] and source_url.lower().startswith(("http://", "https://")) and len(source_url) <= 500:
        values["feed_url"] = source_url
    feed_values_before = _snapshot(podcast.feed_values)
    changed, kept = merge_fields(podcast, values, fresh=created)
    for name in changed:
        setattr(podcast, name, values[name])
    credit_rows, credits_changed, credits_kept = credit_changes(podcast, None, catalogue.podcast_credits, channel.persons)
    credits.add(credit_rows)
    if kept or credits_kept:
        report.kept_editor_changes += 1
        report.kept += [f"podcast {name}" for name in kept] + (["podcast credits"] if credits_kept else [])
    report.podcast = "created" if created else ("updated" if changed or credits_changed else "unchanged")
    return podcast, created or bool(changed) or _snapshot(podcast.feed_values) != feed_values_before


def _plan_item(item, catalogue, new_series):
    episode = catalogue.match(item)
    created = episode is None
    if created:
        episode = Episode(title=item.title, guid=item.guid, feed_values={})
    values = {name: getattr(item, name) for name in EPISODE_FIELDS}
    plan = _Plan(
        item=item, episode=episode, created=created, number_before=episode.number,
        feed_values_before=_snapshot(episode.feed_values), changed=[], kept=[],
        adopted=not created and episode.guid != item.guid,
    )
    plan.changed, plan.kept = merge_fields(episode, values, fresh=created, series_titles=catalogue.series_titles)
    for name in plan.changed:
        value = values[name]
        if name == "series":
            episode.series = catalogue.series_named(value, new_series) if value else None
        else:
            setattr(episode, name, value)
    episode.guid = item.guid
    return plan


def _resolve_number_clashes(plans, catalogue, report):
    """
    Numbers are unique: of two episodes that would end with one number, the
    one that has it keeps it, else the first item in the feed takes it; the
    other keeps the number it had (none, if new) and its whole title.
    """
    in_feed = {id(plan.episode): index for index, plan in enumerate(plans)}
    everyone = [*catalogue.episodes, *(plan.episode for plan in plans if plan.created)]
    plan_of = {id(plan.episode): plan for plan in plans}
    while True:
        holders = defaultdict(list)
        for episode in everyone:
            if episode.number is not None:
                holders[episode.number].append(episode)
        clashes = [episodes for episodes in holders.values() if len(episodes) > 1]
        if not clashes:
            return
        for episodes in clashes:
            def claim(episode):
                plan = plan_of.get(id(episode))
                has_it = plan is None or plan.number_before == episode.number
                return (not has_it, in_feed.get(id(episode), -1))

            winner, *losers = sorted(episodes, key=claim)
            for loser in losers:
                plan = plan_of[id(loser)]
                report.warnings.append(
                    f"{plan.item.where}: episode number {loser.number} already belongs to "
                    f"“{winner.title}”; left unchanged, and the title kept whole."
                )
                loser.number = loser.feed_values["number"] = plan.number_before
                if "number" in plan.changed:
                    plan.changed.remove("number")
                whole = plan.item.published_title
                if "title" not in plan.kept and whole and loser.title != whole:
                    loser.title = loser.feed_values["title"] = whole
                    if "title" not in plan.changed:
                        plan.changed.append("title")


def _chapters_from_file(item, fetched, report):
    """The chapter rows of the item's chapters file, None if it was not fetched or could not be read."""
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
    return rows


def _plan_children(plans, catalogue, fetched, report, changes):
    chapter_files = {id(plan): rows for plan in plans
                     if plan.item.chapters_url and (rows := _chapters_from_file(plan.item, fetched, report)) is not None}
    stored_chapters = catalogue.chapters_of([plan.episode.pk for plan in plans if id(plan) in chapter_files
                                             and not plan.created])
    for plan in plans:
        episode, item = plan.episode, plan.item
        links, links_changed = transcript_link_changes(
            episode, [] if plan.created else catalogue.links[episode.pk], item.transcripts)
        credits, credits_changed, credits_kept = credit_changes(
            episode, episode, [] if plan.created else catalogue.credits[episode.pk], item.persons)
        changes.links.add(links)
        changes.credits.add(credits)
        chapters_changed = chapters_kept = False
        if id(plan) in chapter_files:
            chapters, chapters_changed, chapters_kept = chapter_changes(
                episode, stored_chapters.get(episode.pk, []), item.chapters_url, chapter_files[id(plan)])
            changes.chapters.add(chapters)
            report.chapters_imported += chapters_changed
        plan.children_changed = bool(links_changed or credits_changed or chapters_changed)
        plan.children_kept = ["credits"] * bool(credits_kept) + ["chapters"] * bool(chapters_kept)
        if episode.timing not in (Episode.Timing.TIMED, Episode.Timing.ALIGNED):
            plan.transcripts_due = any(fetched.has(t.url) for t in item.transcripts if t.timed_format)


def _plan(feed, source_url, fetched, report):
    catalogue = _Catalogue()
    credits = RowChanges()
    podcast, podcast_dirty = _plan_podcast(feed, source_url, catalogue, report, credits)
    new_series = []
    plans = [_plan_item(item, catalogue, new_series) for item in feed.items]
    _resolve_number_clashes(plans, catalogue, report)
    for plan in plans:
        if plan.created:
            plan.episode.slug = catalogue.unique_slug(plan.episode.number, plan.episode.title)
    changes = _Changes(podcast=podcast, podcast_dirty=podcast_dirty, plans=plans, new_series=new_series,
                       credits=credits, chapters=RowChanges(), links=RowChanges())
    _plan_children(plans, catalogue, fetched, report, changes)
    return changes


# --- Writing ------------------------------------------------------------------


def _unchanged_since_planned(episodes):
    """
    Asked once their locks are held (Episode.writing(), the one lock order): True
    when none of the episodes changed since the plan read them; a concurrent edit
    means planning again.
    """
    read = {episode.pk: episode.updated for episode in episodes}
    return dict(Episode.objects.filter(pk__in=read).values_list("pk", "updated")) == read


def _write(changes):
    plans, now = changes.plans, timezone.now()
    if changes.podcast_dirty:
        changes.podcast.save()
    Series.objects.bulk_create(changes.new_series, batch_size=BATCH)

    existing = [plan for plan in plans if not plan.created and (plan.writes_row or plan.children_changed)]
    renumbered = [plan.episode.pk for plan in existing if plan.episode.number != plan.number_before]
    if renumbered:  # numbers are unique: free them all before any is taken again
        Episode.objects.filter(pk__in=renumbered).update(number=None)
    Episode.objects.bulk_create([plan.episode for plan in plans if plan.created], batch_size=BATCH)
    if existing:
        fields = {"feed_values", "guid", "updated"}
        for plan in existing:
            plan.episode.updated = now
            fields.update(plan.changed)
        Episode.objects.bulk_update([plan.episode for plan in existing], sorted(fields), batch_size=BATCH)

    for rows, model, names in (
        (changes.credits, Credit, ["name", "role", "group", "href", "img", "position"]),
        (changes.links, TranscriptLink, LINK_FIELDS),
        (changes.chapters, Chapter, []),
    ):
        if rows.delete:
            model.objects.filter(pk__in=rows.delete).delete()
        if rows.replace_for:
            model.objects.filter(episode__in=[episode.pk for episode in rows.replace_for]).delete()
        if rows.update:
            model.objects.bulk_update(rows.update, names, batch_size=BATCH)
        model.objects.bulk_create(rows.create, batch_size=BATCH)
    # Chapters are the transcript's headings: an episode whose chapters changed is rendered again.
    rechaptered = {episode.pk for episode in changes.chapters.replace_for}
    rechaptered |= {chapter.episode_id for chapter in changes.chapters.create}
    for episode in Episode.objects.filter(pk__in=rechaptered, transcript_rendered_at__isnull=False):
        episode.render_transcript()


def _import_transcripts(plan, fetched, report):
    """Time the episode from the first of its timed transcripts that works; True if one did."""
    episode = Episode.objects.get(pk=plan.episode.pk)  # whole, for the transcript importer
    links = [link for link in episode.transcript_links.filter(imported_at__isnull=True) if timed_kind(link)]
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
            report.warnings.append(f"{plan.item.where}: transcript {link.url} could not be used: {link.error}")
            continue
        link.imported_at, link.error = timezone.now(), ""
        link.save(update_fields=["imported_at", "error"])
        report.transcripts_imported += 1
        return True
    return False


def _count(plans, report, timed):
    for plan in plans:
        episode = plan.episode
        label = f"{episode.number or '(no number)'} {episode.title}"
        if plan.kept or plan.children_kept:
            report.kept_editor_changes += 1
            report.kept.append(f"{', '.join(plan.kept + plan.children_kept)} of {label}")
        if plan.created:
            report.created += 1
        elif plan.changed or plan.adopted or plan.children_changed or id(plan) in timed:
            report.updated += 1
        else:
            report.unchanged += 1


def import_feed(data, *, source_url="", dry_run=False, fetch=True, fetcher=download, publish=False):
    """
    Import a feed's bytes; returns a FeedImportReport, or raises FeedError with nothing written.
    New episodes arrive as drafts, for an editor to check and publish, unless publish is true.
    """
    feed = parse_feed(data, source_url=source_url)
    with tempfile.TemporaryDirectory(prefix="feed-import-") as folder:
        fetched = Fetched(folder)
        if fetch:
            fetched.fetch_all(_wanted_files(feed, _Catalogue()), fetcher)
        try:
            for _ in range(STALE_RETRIES):
                report = FeedImportReport(dry_run=dry_run, fetched=fetch, published=publish, warnings=list(feed.warnings),
                                          skipped=list(feed.skipped), recovered=list(feed.recovered))
                with transaction.atomic():
                    changes = _plan(feed, source_url, fetched, report)
                    for plan in changes.plans:
                        if plan.created:
                            plan.episode.is_draft = not publish
                    to_lock = [p.episode for p in changes.plans if not p.created and (
                        p.writes_row or p.children_changed or p.transcripts_due)]
                    # Only the episodes the import changes are locked (all at once, in id order), so an
                    # unchanged re-import takes no row lock at all.
                    with Episode.objects.filter(pk__in=[episode.pk for episode in to_lock]).writing():
                        if not _unchanged_since_planned(to_lock):
                            transaction.set_rollback(True)
                            continue
                        _write(changes)
                        timed = {id(plan) for plan in changes.plans
                                 if plan.transcripts_due and _import_transcripts(plan, fetched, report)}
                        _count(changes.plans, report, timed)
                        if dry_run:
                            transaction.set_rollback(True)
                    break
            else:
                raise FeedError("Episodes kept changing while the feed was imported; nothing was written. Try again.")
        except DatabaseError as error:
            raise FeedError(f"The import could not be saved ({error}); nothing was written.") from None
    return report
