"""
What the notes add to other apps' pages (registered in notes/apps.py): each
paragraph's note badge and the note dialog on the episode page, and a group of
search results.
"""

import uuid

from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from episodes.extensions import EpisodePagePart, SearchGroup
from episodes.reverse_cache import cached_reverse
from episodes.search import Group

from .models import Note
from .views import can_write, compose_context


def reader_state(request, episode):
    """The badges this reader sees, [(paragraph, threads), …]: part of the page's ETag."""
    return tuple(sorted(Note.objects.badges_for(request.user, episode).items(), key=lambda item: item[0] or 0))


def add_note_badges(transcript, episode, counts):
    """Insert a link to each paragraph's notes into the stored transcript HTML (per request)."""
    url = cached_reverse("notes:list", episode.slug)
    for paragraph, count in counts.items():
        opening = f'<p class="paragraph" id="p-{paragraph}"'
        at = transcript.find(opening)
        if paragraph is None or at < 0:
            continue
        end = transcript.index(">", at) + 1
        badge = format_html(
            '<a class="note-badge" href="{}?paragraph={}" data-paragraph="{}" '
            'aria-label="{} note{} on this paragraph">{}</a>',
            url, paragraph, paragraph, count, "" if count == 1 else "s", count,
        )
        transcript = transcript[:end] + badge + transcript[end:]
    return transcript


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
        "reading": "notes/episode_dialog.html",
    },
)


def find_notes(parsed, active, offset, per_page):
    """Listeners' approved notes containing every word (notes are few: a plain scan)."""
    notes = Note.objects.filter(status=Note.Status.APPROVED, deleted_at__isnull=True)
    for word in parsed.words + [" ".join(phrase) for phrase in parsed.phrases]:
        notes = notes.filter(body__icontains=word)
    notes = notes.select_related("episode", "author", "first_sentence").order_by("-created")
    count = notes.count()
    if active not in (None, "notes"):
        return Group("notes", "Notes", count, [])
    page = notes[offset : offset + per_page] if active == "notes" else notes[:5]
    return Group("notes", "Notes", count, list(page))


SEARCH = SearchGroup(key="notes", label="Notes", find=find_notes, item_template="notes/search_hit.html")
