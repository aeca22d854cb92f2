"""
An episode's chapters as a Podcasting 2.0 JSON chapters file (version 1.2).

An editor's Chapter rows (or the demo's, from episodes/demo/episode.yaml)
win; they are also the transcript's headings (episodes/segments.py). Without
them a timed episode still gets chapters: one per paragraph of its
transcript, starting where the paragraph does and titled by its opening
words, each linking to that moment on our page. An untimed episode without
rows has none (404), since a chapter is a time.
"""

from itertools import groupby
from operator import attrgetter

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe

from ..models import Episode, Podcast
from ..moments import moment_parameter
from .podcast import CHAPTERS_TYPE, conditional

VERSION = "1.2.0"
TITLE_WORDS = 8


def opening_words(text, count=TITLE_WORDS):
    """The first few words of a paragraph, with an ellipsis when there is more."""
    words = text.split()
    if len(words) <= count:
        return " ".join(words)
    return " ".join(words[:count]).rstrip(",;:—–-") + "…"


def paragraph_chapters(episode):
    """[(start, title), …]: each paragraph that has a timed sentence, in order."""
    sentences = episode.sentences.order_by("position").only("paragraph", "text", "start")
    chapters = []
    for _, group in groupby(sentences, key=attrgetter("paragraph")):
        group = list(group)
        start = next((sentence.start for sentence in group if sentence.start is not None), None)
        if start is None or (chapters and start <= chapters[-1][0]):
            continue
        chapters.append((start, opening_words(" ".join(sentence.text for sentence in group))))
    return chapters


def episode_chapters(episode, build_url):
    """The chapter objects, in order of start time; [] when there are none to give."""
    # A chapter opening at a sentence the timings don't reach has no time to give.
    rows = list(episode.chapters.exclude(sentence__isnull=False, sentence__start__isnull=True))
    if rows:
        chapters = []
        for row in rows:
            chapter = {"startTime": round(row.start, 3), "title": row.title}
            if row.url:
                chapter["url"] = row.url
            if row.img:
                chapter["img"] = row.img
            chapters.append(chapter)
        return chapters
    if not episode.is_timed():
        return []
    page = episode.get_absolute_url()
    return [
        {"startTime": round(start, 3), "title": title, "url": build_url(f"{page}?t={moment_parameter(start)}")}
        for start, title in paragraph_chapters(episode)
    ]


@require_safe
@conditional
def chapters_json(request, slug):
    """The chapters file /feed.xml points at; its ETag is a hash of the body."""
    episode = get_object_or_404(Episode.objects.visible_to(request.user), slug=slug)
    chapters = episode_chapters(episode, request.build_absolute_uri)
    if not chapters:
        raise Http404("This episode has no chapters: none set by an editor, and no timings.")
    show = Podcast.objects.current()
    document = {
        "version": VERSION,
        "title": episode.title,
        "podcastName": show.title,
        "author": show.author,
        "chapters": chapters,
    }
    if not show.author:
        del document["author"]
    response = JsonResponse(
        document, content_type=CHAPTERS_TYPE, json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    # Public data that podcast apps and web players on other sites fetch.
    response["Access-Control-Allow-Origin"] = "*"
    return response
