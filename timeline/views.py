"""The timeline: events the episodes narrate, as a page and in TimelineJS's JSON shape."""

from itertools import groupby

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.core.validators import slug_re
from django.urls import reverse
from django.utils.html import escape, linebreaks
from django.views.decorators.http import require_safe

from companion.shared_pages import shared_when_anonymous

from episodes.extensions import EntryPagePart
from episodes.models import Person, Term

from .models import Event


def chosen(model, slug):
    """The person or term a ?person= / ?term= filter names; 404 for one we don't have."""
    if not slug:
        return None
    # Only a slug can name one (and PostgreSQL refuses a query holding NUL).
    entry = model.objects.filter(slug=slug[:200]).first() if slug_re.fullmatch(slug) else None
    if entry is None:
        raise Http404(f"No {model._meta.verbose_name} called {slug!r}.")
    return entry


@require_safe
@shared_when_anonymous
def timeline(request):
    """Events in order, grouped by year; ?person=slug or ?term=slug narrows them."""
    person = chosen(Person, request.GET.get("person"))
    term = chosen(Term, request.GET.get("term"))
    events = list(Event.objects.involving(person, term).with_links())
    context = {
        "years": [(year, list(group)) for year, group in groupby(events, key=lambda event: event.year)],
        "count": len(events),
        "person": person,
        "term": term,
        # Only the people and terms that have events are worth filtering by.
        "people": Person.objects.filter(events__isnull=False).distinct().order_by("name"),
        "terms": Term.objects.filter(events__isnull=False).distinct().order_by("name"),
    }
    return render(request, "timeline/timeline.html", context)


def timelinejs_slide(event, request):
    """One event as a TimelineJS slide; its text is HTML, so ours is escaped first."""
    text = linebreaks(event.description, autoescape=True)
    moment = event.first_moment()
    slide = {
        "unique_id": event.slug,
        "start_date": event.timelinejs_date(),
        "display_date": event.date_label,
        "text": {"headline": escape(event.title), "text": text},
    }
    if event.is_range():
        slide["end_date"] = event.timelinejs_date(end=True)
    if moment is not None:
        episode = moment.episode
        label = f"{episode.label}: {episode.title}" if episode.number is not None else episode.title
        slide["group"] = label
        link = escape(request.build_absolute_uri(moment.url))
        slide["text"]["text"] += f'<p><a href="{link}">Hear it in {escape(label)}</a></p>'
    return slide


@require_safe
def timeline_json(request):
    """The timeline for TimelineJS (timeline.knightlab.com): public data others may embed."""
    events = Event.objects.with_links()
    data = {
        "title": {
            "text": {
                "headline": "Timeline",
                "text": "<p>Dated events the episodes narrate, with the moment each is told.</p>",
            },
        },
        "events": [timelinejs_slide(event, request) for event in events],
    }
    response = JsonResponse(data)
    response["Access-Control-Allow-Origin"] = "*"
    response["Link"] = f'<{request.build_absolute_uri(reverse("timeline:index"))}>; rel="alternate"'
    return response


def entry_events(request, entry):
    """The events of a person or term page, and the timeline filtered to them."""
    return {"events": entry.events.all(), "events_filter": (entry._meta.model_name, entry.slug)}


ENTRY_PAGE = EntryPagePart(context=entry_events, template="timeline/entry_events.html")
