"""
Read a podcast's RSS 2.0 feed (iTunes tags, Podcasting 2.0 namespace) into
plain dataclasses; nothing here touches the database.

The XML goes through defusedxml, which wraps the standard library's expat
parser and refuses entity declarations and external references outright:
feeds never need them, and they are how XML bombs ("billion laughs") and
file-reading attacks (<!ENTITY x SYSTEM "file:///etc/passwd">) work.

What is fatal (a FeedError, nothing imported): not XML, hostile XML, too
big, empty, not RSS, a channel without a title. What is tolerated with a
warning: an item with no guid and no enclosure (skipped), a duplicate guid
(the first, newest, wins), an odd date or duration (left empty), a URL that
is not http(s) or too long for its field (left out). Numbers and series are
read conservatively: itunes:episode or podcast:episode first, then a title
like "Episode 138 - The Great Purges" or "138: The Great Purges"; a series
from a title ending "… Part 8", else a named podcast:season.
"""

import hashlib
import html
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import ParseError

import nh3
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

MAX_FEED_BYTES = 50 * 1024 * 1024

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
# Early adopters used the namespace's documentation page as its URI.
PODCAST_OLD = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
ATOM = "http://www.w3.org/2005/Atom"

# Show notes keep their structure and links, nothing that runs or restyles the page.
DESCRIPTION_TAGS = {
    "p", "br", "a", "em", "strong", "b", "i", "u", "ul", "ol", "li", "blockquote",
    "code", "pre", "h3", "h4", "h5", "h6", "hr",
}
DESCRIPTION_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}

TIMED_TYPES = {
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "application/json": "json",
}

# Field sizes of the models these values go into.
MAX_TITLE = 200
MAX_URL = 500
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
    title: str
    where: str  # "item 3 (“The Great Purges”)", for messages
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
    warnings: list[str] = field(default_factory=list)


# --- XML --------------------------------------------------------------------


def parse_xml(data):
    """The root element, or a FeedError that says what is wrong with the bytes."""
    if len(data) > MAX_FEED_BYTES:
        raise FeedError(
            f"The feed is {len(data):,} bytes; the limit is "
            f"{MAX_FEED_BYTES // (1024 * 1024)} MB ({MAX_FEED_BYTES:,} bytes)."
        )
    if not data.strip():
        raise FeedError("The feed is empty.")
    _check_encoding(data)
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
    except ParseError as error:
        line, column = error.position
        reason = str(error).split(":")[0]
        hint = ""
        if "invalid token" in reason or "not well-formed" in reason:
            hint = (" Is it XML at all? If it is, it may not be UTF-8 and not say which "
                    "encoding it uses (<?xml version=\"1.0\" encoding=\"…\"?>).")
        elif "undefined entity" in reason:
            hint = " HTML entities such as &nbsp; are not XML; they belong inside CDATA."
        raise FeedError(f"The feed is not well-formed XML: {reason} at line {line}, column {column + 1}.{hint}") from None
    except (LookupError, ValueError) as error:  # e.g. an encoding Python does not know
        raise FeedError(f"The feed cannot be read as XML: {error}.") from None


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


# --- Values -----------------------------------------------------------------


def clip(text, length):
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def clean_url(value, warnings, where, what, max_length=MAX_URL):
    """An http(s) URL that fits its field, else "" and a warning."""
    value = (value or "").strip()
    if not value:
        return ""
    if not re.match(r"https?://[^\s/?#]+", value, re.I):
        warnings.append(f"{where}: the {what} {value[:80]!r} is not an http(s) URL; left out.")
        return ""
    if len(value) > max_length:
        warnings.append(f"{where}: the {what} is {len(value):,} characters long (the limit is {max_length}); left out.")
        return ""
    return value


# HTML is told from plain text by a tag HTML has (not any "<word>") or an entity.
_HTML_TAG = re.compile(
    r"</?(?:p|br|a|em|strong|b|i|u|s|ul|ol|li|div|span|h[1-6]|img|script|style|blockquote|pre|code"
    r"|hr|table|tr|td|iframe|object|embed|form|input|svg|figure|small|sup|sub)\b[^>]*>"
    r"|&(?:#[0-9]+|#x[0-9a-f]+|[a-z][a-z0-9]*);",
    re.I,
)


def clean_description(text):
    """Show notes as safe HTML: an allow-list sanitise, or escaped paragraphs for plain text."""
    text = (text or "").strip()
    if not text:
        return ""
    if not _HTML_TAG.search(text):
        paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", text)]
        text = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
    return nh3.clean(
        text,
        tags=DESCRIPTION_TAGS,
        attributes=DESCRIPTION_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener",
        strip_comments=True,
    ).strip()


_MONTHS = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?=\s)", re.I
)


def parse_date(text):
    """The date of an RFC 822 pubDate, tolerating the usual variants; None if it is not one."""
    text = " ".join((text or "").split())
    if not text:
        return None
    candidates = [text, _MONTHS.sub(lambda m: m.group(1).title(), text)]
    for candidate in candidates:
        try:
            return parsedate_to_datetime(candidate).date()
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    try:  # ISO 8601, which some generators write instead
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    for pattern in ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(candidates[1].split(" 00:")[0], pattern).date()
        except ValueError:
            pass
    return None


_DURATION = re.compile(r"(?:(\d+):)?(?:(\d{1,2}):)?(\d+(?:\.\d+)?)")


def parse_duration(text):
    """itunes:duration as seconds, MM:SS or HH:MM:SS; None if it is none of those."""
    text = (text or "").strip()
    match = _DURATION.fullmatch(text)
    if not match:
        return None
    first, second, last = match.groups()
    if second is None and first is not None:  # MM:SS
        hours, minutes = 0, int(first)
    else:
        hours, minutes = int(first or 0), int(second or 0)
    seconds = float(last)
    if ":" in text and (seconds >= 60 or (second is not None and minutes >= 60)):
        return None
    total = hours * 3600 + minutes * 60 + seconds
    if not math.isfinite(total) or total > 7 * 24 * 3600:  # a week: nonsense past that
        return None
    return timedelta(seconds=total)


def parse_int(text, *, maximum=2**63 - 1):
    text = (text or "").strip()
    if re.fullmatch(r"\d+(?:\.0+)?", text):
        value = int(text.split(".")[0])
        if value <= maximum:
            return value
    return None


# "Episode 138 - The Great Purges", "Ep. 12: …", "#7 …" — the word makes any number safe.
_NAMED_NUMBER = re.compile(r"^\s*(?:episode|ep\.?|#)\s*(\d{1,5})\s*(?:[:.\-–—|]\s*)?(\S.*)$", re.I)
# "138: The Great Purges" — a bare number could be a year ("1939: …"), so below 1000 only.
_BARE_NUMBER = re.compile(r"^\s*(\d{1,3})\s*[:.\-–—|]\s*(\S.*)$")
# "The Soviet Union Part 8", "The Soviet Union, Part 8", "The Soviet Union (Part 8)".
_SERIES_PART = re.compile(r"^(\S.*?\S),?\s+\(?Part\s+(\d{1,3})\)?$")
MAX_PART = 32767


def number_from_title(title):
    """(number, title without it) for a numbered title, else (None, title)."""
    for pattern in (_NAMED_NUMBER, _BARE_NUMBER):
        if match := pattern.match(title):
            return int(match[1]), match[2].strip()
    return None, title


def series_from_title(title):
    """(series, part) from a title like "The Soviet Union Part 8", else (None, None)."""
    match = _SERIES_PART.match(title)
    if match and not match[1].isdigit() and 0 < int(match[2]) <= MAX_PART:
        return match[1], int(match[2])
    return None, None


# --- Feed -------------------------------------------------------------------


def parse_feed(data):
    """A ParsedFeed from the feed's bytes, or a FeedError; see the module docstring."""
    root = parse_xml(data)
    if root.tag != "rss":
        kind = "an Atom feed" if root.tag == f"{{{ATOM}}}feed" else f"<{root.tag}>"
        raise FeedError(f"This is not an RSS 2.0 feed: its root element is {kind}, not <rss>.")
    channel_element = root.find("channel")
    if channel_element is None:
        raise FeedError("The feed has no <channel>.")
    warnings = []
    channel = _parse_channel(channel_element, warnings)
    items, seen = [], set()
    for index, element in enumerate(channel_element.findall("item"), start=1):
        item = _parse_item(element, index, warnings, seen)
        if item is not None:
            seen.add(item.guid)
            items.append(item)
    _seasons_to_series(items)
    if len(warnings) > MAX_WARNINGS:
        warnings[MAX_WARNINGS:] = [f"… and {len(warnings) - MAX_WARNINGS:,} more warnings like these."]
    return ParsedFeed(channel=channel, items=items, warnings=warnings)


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


def _parse_channel(element, warnings):
    title = clip(_text(element.find("title")), 300)
    if not title:
        raise FeedError("The feed's channel has no <title>; is this a podcast feed?")
    where = "the channel"
    image = _find(element, f"{{{ITUNES}}}image")
    image_url = image.get("href", "") if image is not None else _text(element.find("image/url"))
    self_link = next(
        (link.get("href", "") for link in element.findall(f"{{{ATOM}}}link") if link.get("rel") == "self"),
        "",
    )
    author = _text(element.find(f"{{{ITUNES}}}author")) or _text(element.find("managingEditor"))
    guid = _podcast(element, "guid")
    return ParsedChannel(
        title=title,
        link=clean_url(_text(element.find("link")), warnings, where, "link"),
        description=clean_description(
            _text(_find(element, "description", f"{{{ITUNES}}}summary"))
        ),
        language=clip(_text(element.find("language")), 20) or "en",
        author=clip(author, 300),
        image_url=clean_url(image_url, warnings, where, "image"),
        feed_url=clean_url(self_link or _text(element.find(f"{{{ITUNES}}}new-feed-url")), warnings, where, "feed URL"),
        guid=clip(_text(guid[0]) if guid else "", 100),
        persons=_parse_persons(element, where, warnings),
    )


def _parse_item(element, index, warnings, seen):
    raw_title = " ".join(_text(element.find("title")).split())
    where = f"item {index}" + (f" (“{raw_title[:60]}”)" if raw_title else "")
    enclosure = element.find("enclosure")
    enclosure = {} if enclosure is None else enclosure.attrib
    audio_url = clean_url(enclosure.get("url"), warnings, where, "enclosure URL")
    guid = _text(element.find("guid")) or audio_url
    if not guid:
        warnings.append(f"{where}: no guid and no enclosure URL to know it by on a re-import; skipped.")
        return None
    if len(guid) > MAX_GUID:
        guid = "sha256:" + hashlib.sha256(guid.encode()).hexdigest()
    if guid in seen:
        warnings.append(f"{where}: its guid {guid[:100]!r} repeats an earlier item's; skipped.")
        return None
    description = _text(_find(element, f"{{{CONTENT}}}encoded", "description", f"{{{ITUNES}}}summary"))
    if not raw_title and not description:
        warnings.append(f"{where}: no title and no description; skipped.")
        return None

    episode_type = _text(element.find(f"{{{ITUNES}}}episodeType")).lower() or "full"
    number = parse_int(_text(element.find(f"{{{ITUNES}}}episode")), maximum=2**31 - 1)
    if number is None:
        episodes = _podcast(element, "episode")
        number = parse_int(_text(episodes[0]), maximum=2**31 - 1) if episodes else None
    title_number, bare_title = number_from_title(raw_title)
    if number is None and episode_type == "full":
        number = title_number
    title = bare_title if title_number is not None and title_number == number else raw_title
    if not title:
        title = clip(re.sub(r"<[^>]+>", " ", html.unescape(description)), 80)
    series, part = series_from_title(title)

    published_text = _text(element.find("pubDate"))
    published = parse_date(published_text)
    if published_text and published is None:
        warnings.append(f"{where}: the pubDate {published_text[:60]!r} is not a date I can read; left empty.")
    duration_text = _text(element.find(f"{{{ITUNES}}}duration"))
    duration = parse_duration(duration_text)
    if duration_text and duration is None:
        warnings.append(f"{where}: the duration {duration_text[:30]!r} is not seconds, MM:SS or HH:MM:SS; left empty.")
    length_text = enclosure.get("length", "")
    audio_length = parse_int(length_text) or None  # 0 is what generators write for "unknown"
    if length_text.strip() and length_text.strip() != "0" and audio_length is None:
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
        where=where,
        number=number,
        published=published,
        audio_url=audio_url,
        audio_type=clip(enclosure.get("type", ""), 100),
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
