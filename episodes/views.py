"""Pages for listeners: episodes, the glossary, people and sources."""

from itertools import groupby

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import condition, require_safe
from django.views.decorators.vary import vary_on_headers

from companion.params import page_param, text_param

from .audio import ranged_file_response
from .browse import home_context, neighbours
from .discussion import add_note_badges, episode_notes_context, paragraph_note_counts
from .exports import FORMATS, TIMED_FORMATS
from .models import Citation, Episode, Person, Source, Term
from .moments import format_moment, parse_moment
from .page_cache import STORED_TRANSCRIPT, conditional_episode_page, transcripts
from .search import GROUPS, search
from .xray import mentions_context

MAX_SEARCH_PAGE = 1000  # 20,000 results deep (20 a page): further is a typo or a script


def group_by_episode(items, sentence_of):
    """[(episode, [items…]), …] for items already in reading order."""
    return [
        (episode, list(group))
        for episode, group in groupby(items, key=lambda item: sentence_of(item).episode)
    ]


def group_by_letter(entries):
    return [
        (letter, list(group))
        for letter, group in groupby(entries, key=lambda entry: entry.name[:1].upper())
    ]


@require_safe
def home(request):
    return render(request, "episodes/home.html", home_context())


@require_safe
def episode_detail(request, slug):
    # The stored transcript comes from the worker's memory, and only if the page is rendered.
    episodes = Episode.objects.select_related("series").defer(*STORED_TRANSCRIPT)
    episode = get_object_or_404(episodes, slug=slug)
    # Previous/next by number and within the series (the page links them).
    episode.neighbours = neighbours(episode)
    return episode_page(request, episode, paragraph_note_counts(request.user, episode))


@conditional_episode_page
def episode_page(request, episode, note_counts):
    transcripts.fill(episode)
    moment = parse_moment(request.GET.get("t"))
    transcript = episode.transcript_html
    sentence = None
    if moment is not None and episode.is_timed() and (sentence := episode.sentence_at(moment)):
        # Focus (and so scroll to) the moment's sentence without JavaScript.
        anchor = f'id="{sentence.anchor}" '
        transcript = transcript.replace(
            anchor, f'{anchor}autofocus tabindex="-1" aria-current="true" ', 1
        )
    # Notes are per reader, so their badges go in per request, never into transcript_html.
    notes = episode_notes_context(request, episode, note_counts)
    transcript = add_note_badges(transcript, episode, notes["note_counts"])
    duration = episode.duration.total_seconds() if episode.duration else None
    context = {
        "episode": episode,
        "transcript": mark_safe(transcript),
        "moment": moment,
        "moment_sentence": sentence,  # quoted in the link preview (episodes/structured_data.py)
        "duration_seconds": int(duration) if duration else None,
        "duration_label": format_moment(duration) if duration else "–:––",
        **notes,
    }
    return render(request, "episodes/episode_detail.html", context)


@require_safe
def episode_audio(request, slug):
    episode = get_object_or_404(Episode, slug=slug)
    if not episode.audio:
        raise Http404("This episode has no audio file.")
    return ranged_file_response(request, episode.audio)


def transcript_rendered_at(request, slug, **kwargs):
    """When the episode's text or timings last changed: exports are conditional on it."""
    return Episode.objects.filter(slug=slug).values_list("transcript_rendered_at", flat=True).first()


@require_safe
@condition(last_modified_func=transcript_rendered_at)
def transcript_export(request, slug, extension):
    episode = get_object_or_404(Episode, slug=slug)
    if extension not in FORMATS:
        raise Http404("Transcripts come as .vtt, .srt, .json, .html or .txt.")
    if extension in TIMED_FORMATS and not episode.is_timed():
        raise Http404("This episode has no timings yet; try transcript.txt.")
    content_type, export = FORMATS[extension]
    response = HttpResponse(export(episode), content_type=content_type)
    # Public data that podcast apps and other sites may fetch.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
@condition(last_modified_func=transcript_rendered_at)
def episode_words(request, slug):
    """Word timings for the player's word highlight, fetched once playback starts."""
    episode = get_object_or_404(Episode, slug=slug)
    words = dict(
        episode.sentences.exclude(words=[]).values_list("position", "words")
    )
    return JsonResponse({"sentences": {str(k): v for k, v in words.items()}})


def entity_list(request, queryset, template):
    """An A–Z list with a name filter; htmx asks for just the results."""
    query = text_param(request, "q", max_length=200)
    entries = list(queryset.matching(query).order_by("name"))
    context = {"query": query, "letters": group_by_letter(entries), "count": len(entries)}
    if request.htmx:
        template += "#results"
    return render(request, template, context)


@require_safe
@vary_on_headers("HX-Request")
def term_list(request):
    return entity_list(request, Term.objects.all(), "episodes/term_list.html")


@require_safe
@vary_on_headers("HX-Request")
def person_list(request):
    return entity_list(request, Person.objects.all(), "episodes/person_list.html")


@require_safe
def term_detail(request, slug):
    term = get_object_or_404(Term, slug=slug)
    context = {
        "term": term,
        "related": term.related.order_by("name"),
        **mentions_context(request, term),
        "events": term.events.all(),
    }
    return render(request, "episodes/term_detail.html", context)


@require_safe
def person_detail(request, slug):
    person = get_object_or_404(Person, slug=slug)
    return render(
        request,
        "episodes/person_detail.html",
        {"person": person, **mentions_context(request, person), "events": person.events.all()},
    )


@require_safe
def source_list(request):
    return render(request, "episodes/source_list.html", {"sources": Source.objects.all()})


@require_safe
def source_detail(request, slug):
    source = get_object_or_404(Source, slug=slug)
    citations = (
        Citation.objects.filter(source=source)
        .select_related("sentence__episode")
        .order_by("sentence__episode__number", "sentence__position")
    )
    return render(
        request,
        "episodes/source_detail.html",
        {"source": source, "citations": group_by_episode(citations, lambda c: c.sentence)},
    )


@require_safe
@vary_on_headers("HX-Request")
def search_page(request):
    """Results grouped by kind; htmx asks for just the results as the reader types."""
    query = request.GET.get("q", "")
    group = request.GET.get("group")
    page = page_param(request, "page", last=MAX_SEARCH_PAGE)
    results = search(query, group if group in GROUPS else None, page)
    template = "episodes/search.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {"results": results, "query": query})
