"""
The values a feed carries, cleaned for our fields: text clipped to fit, URLs
that are http(s), show notes sanitised to an allow-list, the date, duration
and number formats generators really write. Each returns "" or None for what
it cannot read; the caller says so in the import report.
"""

import html
import math
import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import nh3

# Show notes keep their structure and links, nothing that runs or restyles the page.
DESCRIPTION_TAGS = {
    "p", "br", "a", "em", "strong", "b", "i", "u", "ul", "ol", "li", "blockquote",
    "code", "pre", "h3", "h4", "h5", "h6", "hr",
}
DESCRIPTION_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_URL = 500


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
