"""
What the notes add to other apps' pages (registered in notes/apps.py): on the
episode page each segment's note badge, the note control among the passage
tools and the note dialog; and a group of search results.
"""

import re
import uuid
from bisect import bisect_left, bisect_right
from itertools import accumulate

from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from episodes.extensions import EpisodePagePart, SearchGroup
from episodes.reverse_cache import cached_reverse
from episodes.search import Group

from .models import Note
from .views import can_write, compose_context


def reader_state(request, episode):
    """The threads this reader sees by first sentence, [(position, threads), …]: part of the page's ETag."""
    return tuple(sorted(Note.objects.badges_for(request.user, episode).items(), key=lambda item: item[0] or 0))


# The opening tag of each segment in the stored transcript (templates/episodes/transcript.html).
SEGMENT_OPENING = re.compile(r'<div class="segment" id="seg-([0-9]+)" data-first="([0-9]+)" data-last="([0-9]+)">')


def add_note_badges(transcript, episode, counts):
    """Insert a link to each segment's notes into the stored transcript HTML (per request)."""
    positions = sorted((position, count) for position, count in counts.items() if position is not None)
    if not positions:
        return transcript
    starts = [position for position, _ in positions]
    running = list(accumulate((count for _, count in positions), initial=0))
    url = cached_reverse("notes:list", episode.slug)
    parts, cursor = [], 0
    for match in SEGMENT_OPENING.finditer(transcript):
        number, first, last = match[1], int(match[2]), int(match[3])
        count = running[bisect_right(starts, last)] - running[bisect_left(starts, first)]
        if count:
            parts += [
                transcript[cursor : match.end()],
                format_html(
                    '<a class="note-badge" href="{}?passage={}-{}" data-segment="{}" '
                    'aria-label="{} note{} on this passage">{}</a>',
                    url, first, last, number, count, "" if count == 1 else "s", count,
                ),
            ]
            cursor = match.end()
    parts.append(transcript[cursor:])
    return "".join(parts)


def page_context(request, episode, state, transcript):
    """What the episode page needs for its badges and its note dialog."""
    counts = dict(state)
    writer = can_write(request.user)
    return {
        # Notes are per reader, so their badges go in per request, never into transcript_html.
        "transcript": mark_safe(add_note_badges(transcript, episode, counts)),
        "note_total": sum(counts.values()),
        "can_write": writer,
        "key": uuid.uuid4().hex,
        "note_max": settings.NOTE_MAX_LENGTH,
        "compose": compose_context(episode, target="compose") if writer else None,
    }


EPISODE_PAGE = EpisodePagePart(
    reader_state=reader_state,
    context=page_context,
    templates={
        "head": "notes/episode_head.html",
        "header": "notes/episode_header.html",
        "tools": "notes/episode_tools.html",
        "reading": "notes/episode_dialog.html",
    },
)


def find_notes(parsed, active, offset, per_page):
    """Listeners' approved notes containing every word (notes are few: a plain scan)."""
    notes = Note.objects.public()
    for word in parsed.words + [" ".join(phrase) for phrase in parsed.phrases]:
        notes = notes.filter(body__icontains=word)
    notes = notes.select_related("episode", "author", "first_sentence").order_by("-created")
    count = notes.count()
    if not count or active not in (None, "notes"):
        return Group("notes", "Notes", count, [])
    page = notes[offset : offset + per_page] if active == "notes" else notes[:5]
    return Group("notes", "Notes", count, list(page))


SEARCH = SearchGroup(key="notes", label="Notes", find=find_notes, item_template="notes/search_hit.html")
