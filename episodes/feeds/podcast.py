"""
/feed.xml: the companion's episodes as a podcast feed, so podcast apps can
show our transcripts, chapters and credits beside the show's audio.

RSS 2.0 with Apple's iTunes tags and the Podcasting 2.0 namespace, written
by Django's feedgenerator (the writer behind django.contrib.syndication),
extended the documented way: more namespaces on <rss>, more elements per
channel and item. Every URL in it is absolute, built from the request.
"""

import datetime
import mimetypes
import uuid
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Exists, F, OuterRef
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response, set_response_etag
from django.utils.feedgenerator import Enclosure, Rss201rev2Feed
from django.utils.http import http_date, parse_http_date_safe
from django.views.decorators.http import require_safe

from companion.text import XMLSafeGenerator

from ..models import Chapter, Episode, Podcast, Sentence
from ..timings.exports import TIMED_FORMATS

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
# podcast:guid is a UUIDv5 of the feed URL (scheme and trailing slashes off) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
# Aggregators may cut a podcast:person name past 128 characters; the XSD refuses it.
PERSON_NAME_LIMIT = 128

# Our exports, in the MIME types the Podcasting 2.0 transcript tag names.
# No rel="captions": our cues are whole sentences, not caption-sized lines.
TRANSCRIPT_TYPES = {
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "json": "application/json",
    "html": "text/html",
    "txt": "text/plain",
}
CHAPTERS_TYPE = "application/json+chapters"


def podcast_guid(feed_url):
    """Podcasting 2.0's GUID for a feed: UUIDv5 of its URL without scheme and trailing slashes."""
    parts = urlsplit(feed_url)
    seed = (parts.netloc + parts.path).rstrip("/")
    if parts.query:
        seed += "?" + parts.query
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, seed))


def conditional(view):
    """
    ETag (a hash of the body) and the view's Last-Modified, answered with 304
    when they match, for HEAD as for GET: Django's conditional_page leaves
    HEAD without validators, and directories check a feed with HEAD.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or response.streaming:
            return response
        if not response.has_header("ETag"):
            set_response_etag(response)
        last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
        return get_conditional_response(
            request, etag=response["ETag"], last_modified=last_modified, response=response
        )

    return wrapper


def person_attributes(credit):
    attributes = {"role": credit.role or "host", "group": credit.group or "cast"}
    if credit.href:
        attributes["href"] = credit.href
    if credit.img:
        attributes["img"] = credit.img
    return attributes


class PodcastRssFeed(Rss201rev2Feed):
    """RSS 2.0 plus the iTunes and Podcasting 2.0 tags podcast apps read."""

    def write(self, outfile, encoding):
        # RssFeed.write, with a writer that drops what XML can't carry (imported show
        # notes sometimes hold control characters; Django's would refuse the whole feed).
        handler = XMLSafeGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        handler.startElement("rss", self.rss_attributes())
        handler.startElement("channel", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        self.endChannelElement(handler)
        handler.endElement("rss")

    def rss_attributes(self):
        return super().rss_attributes() | {"xmlns:itunes": ITUNES, "xmlns:podcast": PODCAST}

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        show = self.feed["show"]
        if image := self.feed["image_url"]:
            handler.startElement("image", {})
            handler.addQuickElement("url", image)
            handler.addQuickElement("title", show.title)
            handler.addQuickElement("link", self.feed["link"])
            handler.endElement("image")
            handler.addQuickElement("itunes:image", None, {"href": image})
        if show.author:
            handler.addQuickElement("itunes:author", show.author)
        if owner_email := show.owner_email or self.feed["owner_email"]:
            handler.startElement("itunes:owner", {})
            handler.addQuickElement("itunes:name", show.owner_name or show.author or show.title)
            handler.addQuickElement("itunes:email", owner_email)
            handler.endElement("itunes:owner")
        handler.addQuickElement("itunes:summary", show.description)
        handler.addQuickElement("itunes:category", None, {"text": "History"})
        handler.addQuickElement("itunes:explicit", "false")
        handler.addQuickElement("itunes:type", "episodic")
        handler.addQuickElement("podcast:guid", self.feed["podcast_guid"])
        if self.feed["owner_email"]:
            handler.addQuickElement("podcast:locked", "yes", {"owner": self.feed["owner_email"]})
        for credit in show.credits:
            handler.addQuickElement(
                "podcast:person", credit.name[:PERSON_NAME_LIMIT], person_attributes(credit)
            )

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("itunes:title", item["itunes_title"])
        handler.addQuickElement("itunes:episodeType", "full")
        if item["number"] is not None:
            handler.addQuickElement("itunes:episode", str(item["number"]))
            handler.addQuickElement("podcast:episode", str(item["number"]))
        if item["duration"] is not None:
            handler.addQuickElement("itunes:duration", str(item["duration"]))
        if item["summary"]:
            handler.addQuickElement("itunes:summary", item["summary"])
        for url, mime_type in item["transcripts"]:
            handler.addQuickElement(
                "podcast:transcript",
                None,
                {"url": url, "type": mime_type, "language": self.feed["language"]},
            )
        if item["chapters_url"]:
            handler.addQuickElement(
                "podcast:chapters", None, {"url": item["chapters_url"], "type": CHAPTERS_TYPE}
            )
        for credit in item["credits"]:
            handler.addQuickElement(
                "podcast:person", credit.name[:PERSON_NAME_LIMIT], person_attributes(credit)
            )


def feed_episodes():
    """Newest first, with what each item needs fetched in a fixed number of queries."""
    return (
        Episode.objects.published().select_related("series")
        .prefetch_related("credits")
        .annotate(
            has_sentences=Exists(Sentence.objects.filter(episode=OuterRef("pk"))),
            has_chapters=Exists(Chapter.objects.filter(episode=OuterRef("pk"))),
        )
        .order_by(F("published").desc(nulls_last=True), F("number").desc(nulls_last=True), "-pk")
    )


def audio_enclosure(request, episode):
    """Our ranged audio view for an uploaded file, else the episode's audio URL; None without audio."""
    if episode.audio:
        url = request.build_absolute_uri(reverse("episodes:audio", args=[episode.slug]))
        length = episode.audio_length
        if length is None:
            try:
                length = episode.audio.size
            except OSError:
                length = 0
        name = episode.audio.name
    elif episode.audio_url:
        url, length, name = episode.audio_url, episode.audio_length or 0, urlsplit(episode.audio_url).path
    else:
        return None
    mime_type = episode.audio_type or mimetypes.guess_type(name)[0] or "audio/mpeg"
    return Enclosure(url=url, length=str(length), mime_type=mime_type)


def transcript_links(request, episode):
    """[(absolute URL, MIME type), …] for each export this episode can give."""
    if not episode.has_sentences:
        return []
    return [
        (request.build_absolute_uri(reverse("episodes:transcript_export", args=[episode.slug, ext])), mime)
        for ext, mime in TRANSCRIPT_TYPES.items()
        if episode.is_timed() or ext not in TIMED_FORMATS
    ]


def has_chapters(episode):
    """Editors' chapters, or chapters we can derive from a timed transcript (episodes/feeds/chapters.py)."""
    return episode.has_chapters or (episode.has_sentences and episode.is_timed())


SYNTHETIC_NOTE = "The audio is a synthetic narration standing in for the episode's recording."
TRANSCRIPT_DATE_NOTE = "Release date unknown: dated by the day its transcript was added here."


def dated_by_transcript(episode):
    """Whether the item's pubDate is not the release date (unknown) but its transcript's."""
    return episode.published is None or episode.published_is_transcript_date


def item_description(episode):
    description = episode.description or episode.summary or episode.tagline or episode.title
    if episode.audio_is_synthetic and (episode.audio or episode.audio_url):
        # Podcast apps show the notes, not our page's label: say what they will hear.
        description += f"\n\n{SYNTHETIC_NOTE}"
    if dated_by_transcript(episode):
        description += f"\n\n{TRANSCRIPT_DATE_NOTE}"
    return description


def published_at(episode):
    """
    Every item has a pubDate (apps show 1970 without one): the release date
    (or, marked so, the day its transcript was added), else the day the
    transcript was last rendered, else the day the row last changed; the
    description then says the release date is unknown.
    """
    if episode.published is not None:
        day = episode.published
    else:
        day = (episode.transcript_rendered_at or episode.updated).date()
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def last_modified(episodes):
    """The newest change to any episode or its transcript, for Last-Modified (None for no episodes)."""
    return max(
        (moment for episode in episodes for moment in (episode.updated, episode.transcript_rendered_at) if moment),
        default=None,
    )


@require_safe
@conditional
def podcast_feed(request):
    """
    The feed. Its ETag is a hash of the body, which clients should prefer:
    Last-Modified is the newest episode change, and an editor's credit or
    chapter edit carries no timestamp of its own (a feed import dates them by
    their episode).
    """
    show = Podcast.objects.current(with_credits=True)
    feed_url = request.build_absolute_uri(reverse("episodes:podcast_feed"))
    feed = PodcastRssFeed(
        title=show.title,
        link=request.build_absolute_uri(reverse("episodes:home")),
        description=show.description,
        language=show.language,
        feed_url=feed_url,
        show=show,
        # Our feed's own GUID, not the show's (Podcast.guid): ours is a copy with
        # transcripts added, and must not pass for the show's feed having moved here.
        podcast_guid=podcast_guid(feed_url),
        owner_email=settings.PODCAST_FEED_OWNER_EMAIL,
        image_url=request.build_absolute_uri(show.image_url) if show.image_url else "",
    )
    episodes = list(feed_episodes())
    for episode in episodes:
        page_url = request.build_absolute_uri(episode.get_absolute_url())
        enclosure = audio_enclosure(request, episode)
        feed.add_item(
            title=episode.title,
            link=page_url,
            description=item_description(episode),
            unique_id=episode.guid or page_url,
            unique_id_is_permalink=not episode.guid,
            pubdate=published_at(episode),
            updateddate=max(filter(None, [episode.updated, episode.transcript_rendered_at]), default=None),
            enclosures=[enclosure] if enclosure else None,
            itunes_title=episode.title,
            number=episode.number,
            duration=round(episode.duration.total_seconds()) if episode.duration else None,
            summary=episode.summary or episode.tagline,
            transcripts=transcript_links(request, episode),
            chapters_url=(
                request.build_absolute_uri(reverse("episodes:chapters", args=[episode.slug]))
                if has_chapters(episode)
                else None
            ),
            credits=list(episode.credits.all()),
        )
    response = HttpResponse(content_type=feed.content_type)
    feed.write(response, "utf-8")
    if changed := last_modified(episodes):
        response["Last-Modified"] = http_date(changed.timestamp())
    # Public data for podcast apps and web players on other sites.
    response["Access-Control-Allow-Origin"] = "*"
    return response
