"""
Namespace prefixes a feed uses without declaring them.

XML refuses `<itunes:episode>` unless the document says which namespace
`itunes:` stands for, but many hand-made and older feeds forget the
declaration, and podcast apps read them anyway: for the few prefixes
everyone means the same thing by, so do we. The missing declarations are
added to the root element's start tag and the feed is parsed again; the
import report names each prefix recovered. A prefix nobody agrees on is
still refused, by name.
"""

import re

WELL_KNOWN = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "media": "http://search.yahoo.com/mrss/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
    "psc": "http://podlove.org/simple-chapters",
}

# Text that is not markup: a prefix inside show notes or a comment is no prefix.
_NOT_MARKUP = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->", re.S)
_TAG_PREFIX = re.compile(rb"</?([A-Za-z_][\w.-]*):[A-Za-z_]")
_ATTRIBUTE_PREFIX = re.compile(rb"\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*\s*=\s*[\"']")
_DECLARED = re.compile(rb"\sxmlns:([A-Za-z_][\w.-]*)\s*=")
_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.S)
_ROOT_NAME = re.compile(rb"<[A-Za-z_][\w.:-]*")


def undeclared_prefixes(data):
    """The prefixes the markup uses and never declares, in order of first use."""
    markup = _NOT_MARKUP.sub(b"", data)
    declared = {name.decode() for name in _DECLARED.findall(markup)} | {"xml", "xmlns"}
    used = [m.decode() for m in _TAG_PREFIX.findall(markup) + _ATTRIBUTE_PREFIX.findall(markup)]
    return list(dict.fromkeys(name for name in used if name not in declared))


def declare(data, prefixes):
    """The bytes with xmlns declarations for prefixes added to the root element; None if it can't be found."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: not worth rewriting byte by byte
        return None
    position = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while match := _PROLOG.match(data, position):
        if match.end() == position:
            break
        position = match.end()
    root = _ROOT_NAME.match(data, data.find(b"<", position))
    if root is None:
        return None
    declarations = b"".join(f' xmlns:{name}="{WELL_KNOWN[name]}"'.encode() for name in prefixes)
    return data[: root.end()] + declarations + data[root.end():]


def tag_at(data, line, column):
    """The start of the element expat stopped at ("<foo:bar"), for a message."""
    lines = data.split(b"\n")
    if not 1 <= line <= len(lines):
        return ""
    found = re.search(rb"<[^\s>/]+", lines[line - 1][max(column - 1, 0):])
    return found.group().decode("utf-8", "replace")[:60] if found else ""
