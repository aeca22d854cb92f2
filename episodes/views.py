"""
Pages for listeners: the home page, the catalogue (episodes by number or date,
the series), each episode with its transcript, the glossary, people, sources
and search.

A show with hundreds of episodes needs lists that page, series that read in
order from part 1, and neighbours on every episode page.
"""

from collections import defaultdict
from itertools import groupby

from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import condition, require_safe
from django.views.decorators.vary import vary_on_headers

from companion.params import page_param, text_param
from companion.shared_pages import shared_when_anonymous

from .audio import ranged_file_response
from .extensions import entry_page_parts, episode_page_parts
from .models import Citation, Episode, Person, Series, Source, Term
from .models.episode import ORDERS
from .moments import format_moment, parse_moment
from .page_cache import STORED_TRANSCRIPT, conditional_episode_page, transcripts
from .search import CANDIDATES, PER_PAGE, group_keys, search
from .timings.exports import FORMATS, TIMED_FORMATS
from .xray import mentions_context

EPISODES_PER_PAGE = 50
# The last page a search can fill: a page number past it shows this one.
MAX_SEARCH_PAGE = CANDIDATES // PER_PAGE


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
@shared_when_anonymous
def home(request):
    """What this is, the latest episode one click from playing, more episodes, and ways in by series, person or term."""
    context = {
        "latest": list(Episode.objects.published().in_order("newest")[:5]),  # the first is featured: one query for all
        "series_list": Series.objects.overview()[:12],
        "top_people": Person.objects.most_mentioned()[:10],
        "top_terms": Term.objects.most_mentioned()[:10],
    }
    return render(request, "episodes/home.html", context)


@require_safe
@shared_when_anonymous
def episode_list(request):
    """All episodes, a page at a time; ?order=newest (the default) or ?order=number."""
    order = request.GET.get("order")
    if order not in ORDERS:
        order = "newest"
    page = Paginator(Episode.objects.published().in_order(order), EPISODES_PER_PAGE).get_page(page_param(request, "page"))
    orders = [(key, label) for key, (label, _) in ORDERS.items()]
    return render(request, "episodes/episode_list.html", {"page": page, "order": order, "orders": orders})


@require_safe
@shared_when_anonymous
def series_list(request):
    return render(request, "episodes/series_list.html", {"series_list": Series.objects.overview()})


@require_safe
@shared_when_anonymous
def series_detail(request, slug):
    series = get_object_or_404(Series, slug=slug)
    episodes = series.episodes.published().order_by(F("part").asc(nulls_last=True), F("number").asc(nulls_last=True), "pk")
    return render(request, "episodes/series_detail.html", {"series": series, "episodes": episodes})


@require_safe
@shared_when_anonymous
def episode_detail(request, slug):
    # The stored transcript comes from the worker's memory, and only if the page is rendered.
    episodes = Episode.objects.visible_to(request.user).select_related("series").defer(*STORED_TRANSCRIPT)
    episode = get_object_or_404(episodes, slug=slug)
    # What this reader sees of the parts other apps add (the notes' badges): in the ETag.
    states = [part.reader_state(request, episode) for part in episode_page_parts]
    return episode_page(request, episode, states)


@conditional_episode_page
def episode_page(request, episode, states):
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
    duration = episode.duration.total_seconds() if episode.duration else None
    context = {
        "episode": episode,
        "transcript": mark_safe(transcript),
        "moment": moment,
        "moment_sentence": sentence,  # quoted in the link preview (episodes/structured_data.py)
        "duration_seconds": int(duration) if duration else None,
        "duration_label": format_moment(duration) if duration else "–:––",
    }
    slots = defaultdict(list)
    for part, state in zip(episode_page_parts, states, strict=True):
        context |= part.context(request, episode, state, context["transcript"])
        for slot, template in part.templates.items():
            slots[slot].append(template)
    context["slots"] = dict(slots)
    return render(request, "episodes/episode_detail.html", context)


@require_safe
def episode_audio(request, slug):
    episode = get_object_or_404(Episode.objects.visible_to(request.user), slug=slug)
    if not episode.audio:
        raise Http404("This episode has no audio file.")
    return ranged_file_response(request, episode.audio)


def transcript_rendered_at(request, slug, **kwargs):
    """When the episode's text or timings last changed: exports are conditional on it."""
    return Episode.objects.filter(slug=slug).values_list("transcript_rendered_at", flat=True).first()


@require_safe
@condition(last_modified_func=transcript_rendered_at)
def transcript_export(request, slug, extension):
    episode = get_object_or_404(Episode.objects.visible_to(request.user), slug=slug)
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
    episode = get_object_or_404(Episode.objects.visible_to(request.user), slug=slug)
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
@shared_when_anonymous
def term_list(request):
    return entity_list(request, Term.objects.all(), "episodes/term_list.html")


@require_safe
@vary_on_headers("HX-Request")
@shared_when_anonymous
def person_list(request):
    return entity_list(request, Person.objects.all(), "episodes/person_list.html")


@require_safe
@shared_when_anonymous
def term_detail(request, slug):
    term = get_object_or_404(Term, slug=slug)
    context = {"term": term, "related": term.related.order_by("name"), **mentions_context(request, term)}
    return render(request, "episodes/term_detail.html", context | entry_parts_context(request, term))


@require_safe
@shared_when_anonymous
def person_detail(request, slug):
    person = get_object_or_404(Person, slug=slug)
    context = {"person": person, **mentions_context(request, person)}
    return render(request, "episodes/person_detail.html", context | entry_parts_context(request, person))


def entry_parts_context(request, entry):
    """What other apps add to a person or term page (the timeline's events), and their templates."""
    context = {"entry_parts": [part.template for part in entry_page_parts]}
    for part in entry_page_parts:
        context |= part.context(request, entry)
    return context


@require_safe
@shared_when_anonymous
def source_list(request):
    return render(request, "episodes/source_list.html", {"sources": Source.objects.all()})


@require_safe
@shared_when_anonymous
def source_detail(request, slug):
    source = get_object_or_404(Source, slug=slug)
    citations = (
        Citation.objects.filter(source=source, sentence__episode__is_draft=False)
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
@shared_when_anonymous
def search_page(request):
    """Results grouped by kind; htmx asks for just the results as the reader types."""
    query = request.GET.get("q", "")
    group = request.GET.get("group")
    page = page_param(request, "page", last=MAX_SEARCH_PAGE)
    results = search(query, group if group in group_keys() else None, page)
    template = "episodes/search.html"
    if request.htmx:
        template += "#results"
    return render(request, template, {"results": results, "query": query})
