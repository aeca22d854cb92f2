"""
Read a podcast's feed (RSS 2.0 or Atom, with iTunes tags, the Podcasting
2.0 namespace and Media RSS) into plain dataclasses; nothing here touches
the database.

The XML goes through defusedxml, which wraps the standard library's expat
parser and refuses entity declarations and external references outright:
feeds never need them, and they are how XML bombs ("billion laughs") and
file-reading attacks (<!ENTITY x SYSTEM "file:///etc/passwd">) work.

Strict where it matters, lenient where podcast apps are. Fatal (a FeedError,
nothing imported): not XML, hostile XML, too big, empty, neither RSS nor
Atom, an undeclared prefix nobody agrees on. Recovered, with a line in the
report saying so: a well-known prefix used without its declaration
(episodes/feeds/prefixes.py), a channel with no title (named after the
show's other titles or a host). Tolerated with a warning: an item with no
guid and no enclosure (skipped), a duplicate guid (the first, newest,
wins), an odd date or duration (left empty), a URL that is not http(s) or
too long for its field (left out), an image enclosed beside the audio
(passed over: episodes/feeds/enclosures.py). Numbers come from
itunes:episode or podcast:episode, else from the title only in the forms
shows number by (episodes/feeds/numbering.py); the title is kept as
published. A series comes from a title ending "… Part 8", else a named
podcast:season.
"""

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit
from xml.etree.ElementTree import ParseError

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

from . import atom, enclosures, numbering, prefixes
from .values import (  # noqa: F401  (parse_date, parse_duration: part of what this module offers)
    MAX_URL, clean_description, clean_url, clip, parse_date, parse_duration, parse_int,
)

MAX_FEED_BYTES = 50 * 1024 * 1024

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
# Early adopters used the namespace's documentation page as its URI.
PODCAST_OLD = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
ATOM = atom.ATOM
MEDIA = enclosures.MEDIA

TIMED_TYPES = {
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "application/json": "json",
}

# Field sizes of the models these values go into.
MAX_TITLE = 200
MAX_TRANSCRIPT_URL = 1000
MAX_GUID = 500
MAX_WARNINGS = 500  # a feed with thousands of bad items says so once, not thousands of times


class FeedError(Exception):
    """A feed that cannot be imported at all; the message says why, for a person."""


@dataclass
class ParsedPerson:
    name: str
    role: str = "host"
    group: str = "cast"
    href: str = ""
    img: str = ""

    def as_dict(self):
        return {"name": self.name, "role": self.role, "group": self.group, "href": self.href, "img": self.img}


@dataclass
class ParsedTranscriptLink:
    url: str
    type: str
    language: str = ""
    rel: str = ""

    @property
    def timed_format(self):
        """vtt, srt or json for the timed formats we import; None for the rest."""
        return TIMED_TYPES.get(self.type.lower())


@dataclass
class ParsedItem:
    guid: str
    title: str  # for pages: without the number when the title numbered it (see numbering.py)
    where: str  # "item 3 (“The Great Purges”)", for messages
    published_title: str = ""  # exactly as the feed has it
    number: int | None = None
    published: date | None = None
    audio_url: str = ""
    audio_type: str = ""
    audio_length: int | None = None
    duration: timedelta | None = None
    description: str = ""
    episode_type: str = "full"
    series: str | None = None
    part: int | None = None
    season: int | None = None
    season_name: str = ""
    chapters_url: str = ""
    transcripts: list[ParsedTranscriptLink] = field(default_factory=list)
    persons: list[ParsedPerson] = field(default_factory=list)


@dataclass
class ParsedChannel:
    title: str
    link: str = ""
    description: str = ""
    language: str = ""
    author: str = ""
    image_url: str = ""
    feed_url: str = ""
    guid: str = ""
    persons: list[ParsedPerson] = field(default_factory=list)


@dataclass
class ParsedFeed:
    channel: ParsedChannel
    items: list[ParsedItem]
    warnings: list[str] = field(default_factory=list)  # items passed over, values left out
    recovered: list[str] = field(default_factory=list)  # errors read past, as a podcast app would
    skipped: list[str] = field(default_factory=list)  # items not imported, each with its reason


# --- XML --------------------------------------------------------------------


def parse_xml(data, recovered=None):
    """
    The root element, or a FeedError that says what is wrong with the bytes.
    Well-known prefixes used undeclared are declared and the bytes read again;
    each is named in recovered (a list), when one is given.
    """
    if len(data) > MAX_FEED_BYTES:
        raise FeedError(
            f"The feed is {len(data):,} bytes; the limit is "
            f"{MAX_FEED_BYTES // (1024 * 1024)} MB ({MAX_FEED_BYTES:,} bytes)."
        )
    if not data.strip():
        raise FeedError("The feed is empty.")
    _check_encoding(data)
    try:
        return _parse_defused(data)
    except ParseError as error:
        if error.code != _UNBOUND_PREFIX:
            raise _not_well_formed(error) from None
        first_error = error
    missing = prefixes.undeclared_prefixes(data)
    unknown = [name for name in missing if name not in prefixes.WELL_KNOWN]
    known = [name for name in missing if name in prefixes.WELL_KNOWN]
    fixed = prefixes.declare(data, known) if known else None
    if fixed is not None:
        try:
            root = _parse_defused(fixed)
        except ParseError as error:
            if error.code != _UNBOUND_PREFIX:
                raise _not_well_formed(error) from None
        else:
            if recovered is not None:
                recovered += [
                    f"The feed uses the prefix {name}: without declaring it (xmlns:{name}); "
                    f"read as {prefixes.WELL_KNOWN[name]}, as podcast apps do."
                    for name in known
                ]
            return root
    line, column = first_error.position
    names = ", ".join(f"{name}:" for name in unknown) or "a prefix"
    where = prefixes.tag_at(data, line, column + 1)
    raise FeedError(
        f"The feed uses {names} without declaring its namespace (xmlns:…), at line {line}"
        f"{f' ({where}…)' if where else ''}. Only the well-known prefixes "
        f"({', '.join(prefixes.WELL_KNOWN)}) can be read without their declaration."
    )


_UNBOUND_PREFIX = 27  # expat's XML_ERROR_UNBOUND_PREFIX


def _parse_defused(data):
    try:
        return fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden:
        raise FeedError(
            "The feed declares XML entities (<!ENTITY …>). Feeds never need them, and they are "
            "how XML bombs and file-reading attacks work, so the feed is refused."
        ) from None
    except ExternalReferenceForbidden:
        raise FeedError("The feed refers to an external file or DTD; it is refused.") from None
    except DTDForbidden:  # not raised with forbid_dtd=False; kept for completeness
        raise FeedError("The feed has a DTD; it is refused.") from None
    except (LookupError, ValueError) as error:  # e.g. an encoding Python does not know
        raise FeedError(f"The feed cannot be read as XML: {error}.") from None


def _not_well_formed(error):
    line, column = error.position
    reason = str(error).split(":")[0]
    hint = ""
    if "invalid token" in reason or "not well-formed" in reason:
        hint = (" Is it XML at all? If it is, it may not be UTF-8 and not say which "
                "encoding it uses (<?xml version=\"1.0\" encoding=\"…\"?>).")
    elif "undefined entity" in reason:
        hint = " HTML entities such as &nbsp; are not XML; they belong inside CDATA."
    return FeedError(f"The feed is not well-formed XML: {reason} at line {line}, column {column + 1}.{hint}")


_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=", re.I)


def _check_encoding(data):
    """Without a byte-order mark or an encoding in its declaration, XML is UTF-8; say so plainly."""
    head = data.lstrip()[:512].lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise FeedError("This is an HTML page, not a feed. Is the URL the feed's own?")
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or _DECLARED_ENCODING.match(data[:512]):
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FeedError(
            f"The feed is not UTF-8 (byte {error.start:,}, line {line}, cannot be read as UTF-8) "
            'and does not declare its encoding (<?xml version="1.0" encoding="…"?>).'
        ) from None


def _text(element):
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _find(parent, *names):
    """The first child among names (Clark notation), or None."""
    for name in names:
        found = parent.find(name)
        if found is not None:
            return found
    return None


def _podcast(parent, name):
    return parent.findall(f"{{{PODCAST}}}{name}") + parent.findall(f"{{{PODCAST_OLD}}}{name}")


# "The Soviet Union Part 8", "The Soviet Union, Part 8", "The Soviet Union (Part 8)", also
# with more after it: "The Soviet Union Part 9 - The Military Purges".
_SERIES_PART = re.compile(r"^(\S.*?\S),?\s+\(?Part\s+(\d{1,3})\)?(?:\s*[-–—:|]\s*\S.*)?$")
MAX_PART = 32767
MAX_NUMBER = 2**31 - 1


def series_from_title(title):
    """(series, part) from a title like "The Soviet Union Part 8" or "… Part 9 - The Military Purges", else (None, None)."""
    match = _SERIES_PART.match(title)
    if match and not match[1].isdigit() and 0 < int(match[2]) <= MAX_PART:
        return match[1], int(match[2])
    return None, None


# --- Feed -------------------------------------------------------------------


def parse_feed(data, source_url=""):
    """A ParsedFeed from the feed's bytes (fetched from source_url, if any), or a FeedError."""
    recovered = []
    root = parse_xml(data, recovered)
    if root.tag == "rss":
        channel_element = root.find("channel")
        if channel_element is None:
            raise FeedError("The feed has no <channel>.")
        own_fields, entries, read_entry = _rss_channel(channel_element), channel_element.findall("item"), _rss_item
    elif root.tag == atom.FEED:
        channel_element, own_fields, read_entry = root, atom.channel(root), atom.entry
        entries = root.findall(atom.ENTRY)
    else:
        name = root.tag.rsplit("}", 1)[-1]
        raise FeedError(f"This is neither an RSS 2.0 nor an Atom feed: its root element is <{name}>, not <rss> or <feed>.")
    feed = ParsedFeed(channel=None, items=[], recovered=recovered)
    raw_entries = [(element, read_entry(element)) for element in entries]
    for _, fields in raw_entries:  # read once: numbering needs the order, items the date
        fields["date"] = parse_date(fields["published"])
    numbered = _titles_are_numbered(raw_entries)
    seen = set()
    for index, (element, fields) in enumerate(raw_entries, start=1):
        item = _parse_item(element, fields, index, feed, seen, numbered)
        if item is not None:
            seen.add(item.guid)
            feed.items.append(item)
    feed.channel = _parse_channel(channel_element, own_fields, feed, raw_entries, source_url)
    _seasons_to_series(feed.items)
    if len(feed.warnings) > MAX_WARNINGS:
        feed.warnings[MAX_WARNINGS:] = [f"… and {len(feed.warnings) - MAX_WARNINGS:,} more warnings like these."]
    return feed


def _rss_channel(element):
    image = _find(element, f"{{{ITUNES}}}image")
    self_link = next(
        (link.get("href", "") for link in element.findall(f"{{{ATOM}}}link") if link.get("rel") == "self"),
        "",
    )
    return {
        "title": _text(element.find("title")),
        "link": _text(element.find("link")),
        "description": _text(_find(element, "description", f"{{{ITUNES}}}summary")),
        "language": _text(element.find("language")),
        "author": _text(element.find(f"{{{ITUNES}}}author")) or _text(element.find("managingEditor")),
        "image_url": image.get("href", "") if image is not None else _text(element.find("image/url")),
        "self_url": self_link,
    }


def _rss_item(element):
    return {
        "title": _text(element.find("title")),
        "guid": _text(element.find("guid")),
        "link": _text(element.find("link")),
        "description": _text(_find(element, f"{{{CONTENT}}}encoded", "description", f"{{{ITUNES}}}summary")),
        "published": _text(element.find("pubDate")),
    }


def _titles_are_numbered(raw_entries):
    """Whether the feed numbers its titles bare ("138: …"), judged on its titles oldest first."""
    dated = [(fields["date"], -index, " ".join(fields["title"].split()))
             for index, (_, fields) in enumerate(raw_entries) if fields["title"].strip()]
    if all(published is not None for published, _, _ in dated):
        dated.sort(key=lambda entry: (entry[0], entry[1]))
    else:  # no dates to go by: feeds list newest first
        dated.reverse()
    return numbering.titles_are_numbered([title for _, _, title in dated])


def _parse_persons(parent, where, warnings):
    persons, seen = [], set()
    for element in _podcast(parent, "person"):
        name = clip(_text(element), 200)
        if not name:
            warnings.append(f"{where}: a podcast:person with no name; skipped.")
            continue
        role = clip(element.get("role", "") or "host", 60).lower()
        group = clip(element.get("group", "") or "cast", 60).lower()
        if (name, role) in seen:
            continue
        seen.add((name, role))
        persons.append(ParsedPerson(
            name=name, role=role, group=group,
            href=clean_url(element.get("href"), warnings, where, f"link of {name}"),
            img=clean_url(element.get("img"), warnings, where, f"image of {name}"),
        ))
    return persons


def _host(url):
    try:
        return (urlsplit((url or "").strip()).hostname or "") if re.match(r"https?://", url or "", re.I) else ""
    except ValueError:
        return ""


def _channel_title(element, own, raw_entries, source_url, feed):
    """The channel's title; without one, another name the feed gives the show, else a host (said in the report)."""
    title = clip(own["title"], 300)
    if title:
        return title
    fallbacks = [
        ("its itunes:title", _text(element.find(f"{{{ITUNES}}}title"))),
        ("its image's title", _text(element.find("image/title"))),
        ("the host of the address it was read from", _host(source_url) or _host(own["self_url"])),
    ]
    if raw_entries:
        first_element, first = raw_entries[0]
        found = enclosures.candidates(first_element)
        host = _host(first["link"]) or (_host(found[0].url) if found else "")
        fallbacks.append(("the host of its first item's link", host))
    for what, value in fallbacks:
        if value.strip():
            title = clip(value, 300)
            feed.recovered.append(f"The feed's channel has no <title>; the podcast is named “{title}”, from {what}.")
            return title
    feed.recovered.append("The feed's channel has no <title>, and nothing else names it; the podcast is "
                          "named “Untitled podcast” until an editor names it.")
    return "Untitled podcast"


def _parse_channel(element, own, feed, raw_entries, source_url):
    where, warnings = "the channel", feed.warnings
    guid = _podcast(element, "guid")
    image = element.find(f"{{{ITUNES}}}image")
    image_url = image.get("href", "") if image is not None else own["image_url"]
    return ParsedChannel(
        title=_channel_title(element, own, raw_entries, source_url, feed),
        link=clean_url(own["link"], warnings, where, "link"),
        description=clean_description(own["description"] or _text(element.find(f"{{{ITUNES}}}summary"))),
        language=clip(own["language"], 20) or "en",
        author=clip(own["author"] or _text(element.find(f"{{{ITUNES}}}author")), 300),
        image_url=clean_url(image_url, warnings, where, "image"),
        feed_url=clean_url(own["self_url"] or _text(element.find(f"{{{ITUNES}}}new-feed-url")), warnings, where, "feed URL"),
        guid=clip(_text(guid[0]) if guid else "", 100),
        persons=_parse_persons(element, where, warnings),
    )


def _number(element):
    """itunes:episode, else podcast:episode: what the feed says outright."""
    number = parse_int(_text(element.find(f"{{{ITUNES}}}episode")), maximum=MAX_NUMBER)
    if number is None:
        episodes = _podcast(element, "episode")
        number = parse_int(_text(episodes[0]), maximum=MAX_NUMBER) if episodes else None
    return number


def _number_and_title(element, raw_title, episode_type, numbered):
    """(number, title for pages): the stated number first; from the title only in a numbering form."""
    number = _number(element)
    title_number, rest = numbering.named_number(raw_title)
    if title_number is None and (numbered or number is not None):
        title_number, rest = numbering.bare_number(raw_title)
    if number is None and episode_type == "full" and title_number is not None and title_number <= MAX_NUMBER:
        number = title_number
    short = rest if title_number is not None and title_number == number and rest else raw_title
    return number, short


def _enclosure(element, where, warnings):
    chosen, passed_over = enclosures.choose(enclosures.candidates(element))
    for candidate, kind in passed_over:
        what = {"image": "an image", "other": "not audio or video"}.get(kind, kind)
        kept = f"; took {chosen.url[:100]} ({chosen.kind()})" if chosen else ""
        warnings.append(
            f"{where}: the {candidate.source} {candidate.url[:100]} is {what} "
            f"({candidate.type or 'no type'}), not the episode's audio; passed over{kept}."
        )
    return chosen


def _parse_item(element, fields, index, feed, seen, numbered):
    warnings = feed.warnings
    raw_title = " ".join(fields["title"].split())
    where = f"item {index}" + (f" (“{raw_title[:60]}”)" if raw_title else "")
    enclosure = _enclosure(element, where, warnings)
    audio_url = clean_url(enclosure.url if enclosure else "", warnings, where, "enclosure URL")
    guid = fields["guid"] or audio_url
    if not guid:
        feed.skipped.append(f"{where}: no guid and no enclosure URL to know it by on a re-import.")
        return None
    if len(guid) > MAX_GUID:
        guid = "sha256:" + hashlib.sha256(guid.encode()).hexdigest()
    if guid in seen:
        feed.skipped.append(f"{where}: its guid {guid[:100]!r} repeats an earlier item's (the first is kept).")
        return None
    description = fields["description"]
    if not raw_title and not description:
        feed.skipped.append(f"{where}: no title and no description.")
        return None

    episode_type = _text(element.find(f"{{{ITUNES}}}episodeType")).lower() or "full"
    number, title = _number_and_title(element, raw_title, episode_type, numbered)
    if not title:
        title = clip(re.sub(r"<[^>]+>", " ", html.unescape(description)), 80)
    series, part = series_from_title(title)

    published_text, published = fields["published"], fields["date"]
    if published_text and published is None:
        warnings.append(f"{where}: the date {published_text[:60]!r} is not a date I can read; left empty.")
    duration_text = _text(element.find(f"{{{ITUNES}}}duration")) or (enclosure.duration if enclosure else "")
    duration = parse_duration(duration_text)
    if duration_text and duration is None:
        warnings.append(f"{where}: the duration {duration_text[:30]!r} is not seconds, MM:SS or HH:MM:SS; left empty.")
    length_text = enclosure.length.strip() if enclosure else ""
    audio_length = parse_int(length_text) or None  # 0 is what generators write for "unknown"
    if length_text and length_text != "0" and audio_length is None:
        warnings.append(f"{where}: the enclosure length {length_text[:30]!r} is not a byte count; left empty.")

    season = season_name = None
    seasons = _podcast(element, "season")
    if seasons:
        season, season_name = parse_int(_text(seasons[0]), maximum=MAX_PART), clip(seasons[0].get("name", ""), 200)
    if season is None:
        season = parse_int(_text(element.find(f"{{{ITUNES}}}season")), maximum=MAX_PART)

    chapters = _podcast(element, "chapters")
    chapters_url = clean_url(chapters[0].get("url"), warnings, where, "chapters URL") if chapters else ""
    return ParsedItem(
        guid=guid,
        title=clip(title, MAX_TITLE),
        published_title=clip(raw_title, MAX_TITLE),
        where=where,
        number=number,
        published=published,
        audio_url=audio_url,
        audio_type=clip(enclosure.mime_type() if enclosure else "", 100),
        audio_length=audio_length,
        duration=duration,
        description=clean_description(description),
        episode_type=episode_type,
        series=clip(series, 200) if series else None,
        part=part,
        season=season,
        season_name=season_name or "",
        chapters_url=chapters_url,
        transcripts=_parse_transcripts(element, where, warnings),
        persons=_parse_persons(element, where, warnings),
    )


_EXTENSION_TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip", ".json": "application/json",
                    ".html": "text/html", ".htm": "text/html", ".txt": "text/plain"}


def _parse_transcripts(element, where, warnings):
    transcripts, seen = [], set()
    for tag in _podcast(element, "transcript"):
        url = clean_url(tag.get("url"), warnings, where, "transcript URL", MAX_TRANSCRIPT_URL)
        if not url or url in seen:
            continue
        seen.add(url)
        kind = (tag.get("type") or "").strip().lower()
        if not kind:
            suffix = re.search(r"\.[a-z]+$", url.split("?")[0].lower())
            kind = _EXTENSION_TYPES.get(suffix.group() if suffix else "", "")
        if not kind:
            warnings.append(f"{where}: the transcript {url} has no type; kept as unknown.")
            kind = "application/octet-stream"
        transcripts.append(ParsedTranscriptLink(
            url=url, type=clip(kind, 100), language=clip(tag.get("language", ""), 20),
            rel=clip(tag.get("rel", ""), 40),
        ))
    return transcripts


def _seasons_to_series(items):
    """Items with no series from their title join a named season, or a numbered one when there are several."""
    numbered = {item.season for item in items if item.season is not None}
    for item in items:
        if item.series:
            continue
        if item.season_name:
            item.series = item.season_name
        elif item.season is not None and len(numbered) > 1:
            item.series = f"Season {item.season}"
