"""
Episode pages: ETags for everyone, and a shared page cache for anonymous readers.

The transcript itself is rendered at write time (Episode.transcript_html),
and each worker keeps the stored transcripts it served lately
(TranscriptMemory), so what is left per request is the page around it, the
note badges and the moment. The ETag is a hash of everything the page
depends on: the episode row and its transcript version, the show, the badge
counts the reader sees, the moment, the reader (and their CSRF cookie, since
the page carries a token), and the code release. A reader who already has
that page gets a 304.

Anonymous readers all see the same page for the same version
(companion/shared_pages.py), so it is kept in the "pages" cache under its
ETag and served without rendering. Such pages never carry a CSRF token (it
would hand one reader's secret to all the others): base.html leaves it out
when request.shared_by_readers is set, and anonymous readers have nothing to
post from an episode page. A stale entry is never served, because any change
gives a new key.

Working out the ETag takes the episode row (whose public_note_counts are an
anonymous reader's badges) and its neighbours from the database; for the
busiest case, an anonymous reader of a popular episode, the page memory in
front of Django (companion/page_memory.py) answers repeats for a few seconds
without touching the database at all, and a proxy in front for longer.
"""

import hashlib
import threading
from collections import OrderedDict
from functools import cache, wraps
from pathlib import Path

import django
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, quote_etag

from .structured_data import show_for

PAGE_CACHE_SECONDS = 24 * 3600
# The stored transcript's columns, and how many episodes' a worker keeps (about 110 KB each).
STORED_TRANSCRIPT = ("transcript_html", "transcript_plain")
TRANSCRIPTS_KEPT = 100


@cache
def release():
    """Changes whenever templates or static files do, so a deploy never serves old pages."""
    digest = hashlib.sha256(django.get_version().encode())
    for folder in (settings.BASE_DIR / "templates", settings.BASE_DIR / "static"):
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def episode_etag(request, episode, reader_states):
    user = request.user
    parts = [
        release(),
        episode.pk,
        episode.updated.isoformat() if episode.updated else "",
        episode.transcript_rendered_at.isoformat() if episode.transcript_rendered_at else "",
        str(episode.series) if episode.series_id else "",
        # Previous/next links (Episode.neighbours): a new or renamed neighbour changes the page.
        sorted(
            (side, other.pk, other.updated.isoformat() if other.updated else "")
            for side, other in getattr(episode, "neighbours", {}).items()
            if other is not None
        ),
        # The show's name, language, link and image are in the link preview and JSON-LD.
        repr(show_for(request)),
        # What the reader sees of the parts other apps add, e.g. the notes' badges.
        reader_states,
        request.get_full_path(),
        bool(request.htmx),
        user.pk if user.is_authenticated else "",
        request.COOKIES.get(settings.CSRF_COOKIE_NAME, "") if user.is_authenticated else "",
    ]
    return quote_etag(hashlib.sha256(repr(parts).encode()).hexdigest()[:32])


def conditional_episode_page(view):
    """
    Wrap a view(request, episode, reader_states) that renders the episode page,
    below @shared_when_anonymous (which decides whether the page is shared).

    The wrapper fetches nothing itself: the caller passes what it already
    loaded, so a cached page costs the same two queries as computing the ETag.
    """

    @wraps(view)
    def wrapper(request, episode, reader_states):
        if len(get_messages(request)):
            # A flash message is shown once; this page can't be reused.
            return view(request, episode, reader_states)
        etag = episode_etag(request, episode, reader_states)
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            response = HttpResponseNotModified()
        elif getattr(request, "shared_by_readers", False):
            pages = caches["pages"]
            content = pages.get(etag)
            if content is None:
                response = view(request, episode, reader_states)
                if response.status_code == 200:
                    pages.set(etag, response.content, PAGE_CACHE_SECONDS)
            else:
                response = HttpResponse(content)
                response["X-Page-Cache"] = "hit"
        else:
            response = view(request, episode, reader_states)
        response["ETag"] = etag
        # Cache-Control: public for anonymous readers, private otherwise (companion/shared_pages.py).
        patch_vary_headers(response, ["HX-Request"])
        return response

    return wrapper


class TranscriptMemory:
    """
    Each worker keeps the stored transcripts of the episodes it served lately,
    keyed by episode and render time, so an episode page loads the row without
    its two largest columns (deferred: STORED_TRANSCRIPT). A re-render gives a
    new key, so nothing kept is ever stale and nothing needs clearing.
    """

    def __init__(self, size=TRANSCRIPTS_KEPT):
        self.size = size
        self.kept = OrderedDict()  # (episode pk, rendered at) -> (transcript_html, transcript_plain)
        self.lock = threading.Lock()

    def fill(self, episode):
        """Set episode.transcript_html and transcript_plain, from memory or with one query."""
        key = (episode.pk, episode.transcript_rendered_at)
        with self.lock:
            stored = self.kept.get(key)
            if stored is not None:
                self.kept.move_to_end(key)
        if stored is None:
            rendered_at, *stored = type(episode).objects.filter(pk=episode.pk).values_list(
                "transcript_rendered_at", *STORED_TRANSCRIPT
            ).get()
            # Kept under the render time it came with, should another render have happened since.
            with self.lock:
                self.kept[(episode.pk, rendered_at)] = stored
                while len(self.kept) > self.size:
                    self.kept.popitem(last=False)
        episode.transcript_html, episode.transcript_plain = stored


transcripts = TranscriptMemory()
