"""
Atom (RFC 4287) podcast feeds, read into the same raw fields as an RSS
channel and its items, so one set of rules (episodes/feeds/parse.py) applies
to both. An Atom podcast encloses its audio with <link rel="enclosure">; the
iTunes, Podcasting 2.0 and Media RSS tags inside it are read as in RSS.
"""

ATOM = "http://www.w3.org/2005/Atom"
FEED = f"{{{ATOM}}}feed"
ENTRY = f"{{{ATOM}}}entry"


def _text(element):
    return "" if element is None else "".join(element.itertext()).strip()


def _child(parent, name):
    return parent.find(f"{{{ATOM}}}{name}")


def _link(parent, *rels):
    """The href of the first <link> with one of rels (a link with no rel is "alternate")."""
    for link in parent.findall(f"{{{ATOM}}}link"):
        if (link.get("rel") or "alternate") in rels:
            return link.get("href", "")
    return ""


def channel(feed):
    """The feed's own fields, named as parse.py's RSS reader names them."""
    return {
        "title": _text(_child(feed, "title")),
        "link": _link(feed, "alternate"),
        "description": _text(_child(feed, "subtitle")),
        "language": feed.get("{http://www.w3.org/XML/1998/namespace}lang", ""),
        "author": _text(feed.find(f"{{{ATOM}}}author/{{{ATOM}}}name")),
        "image_url": _text(_child(feed, "logo")) or _text(_child(feed, "icon")),
        "self_url": _link(feed, "self"),
    }


def entry(element):
    """An entry's own fields, named as parse.py's RSS reader names them."""
    content = _child(element, "content")
    return {
        "title": _text(_child(element, "title")),
        "guid": _text(_child(element, "id")),
        "link": _link(element, "alternate"),
        "description": _text(content) or _text(_child(element, "summary")),
        "published": _text(_child(element, "published")) or _text(_child(element, "updated")),
    }
