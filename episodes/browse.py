"""
The catalogue: every episode by number or date, the series, and the way from
one episode to the next.

A show with hundreds of episodes needs lists that page, series that read in
order from part 1, and neighbours on every episode page. Episodes with no
number (trailers, extras) sort after the numbered ones.
"""

from django.core.paginator import Paginator
from django.db.models import Count, F, Max, Min
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from companion.params import page_param

from .models import Episode, Person, Series, Term

EPISODES_PER_PAGE = 50

ORDERS = {
    "newest": ("Newest first", [F("published").desc(nulls_last=True), F("number").desc(nulls_last=True), "pk"]),
    "number": ("By number", [F("number").asc(nulls_last=True), F("published").asc(nulls_last=True), "pk"]),
}


def in_order(order):
    return Episode.objects.select_related("series").order_by(*ORDERS[order][1])


def latest_episodes(count=5):
    return in_order("newest")[:count]


def series_overview():
    """Each series with its size and where it sits in the show, in the show's order."""
    return Series.objects.annotate(
        episode_count=Count("episodes"),
        first_number=Min("episodes__number"),
        last_number=Max("episodes__number"),
    ).order_by(F("first_number").asc(nulls_last=True), "title")


# The nearest episode on each side, by number and within the series, in one
# query. Written out because the ORM spent longer composing its four
# subqueries than the database took to run them (the episode page's largest
# cost before rendering). A NULL number or part simply matches nothing.
NEIGHBOURS_SQL = """
    SELECT id, number, title, slug, series_id, part, updated FROM episodes_episode
    WHERE id <> %s AND id IN (
        (SELECT id FROM episodes_episode WHERE number < %s ORDER BY number DESC LIMIT 1),
        (SELECT id FROM episodes_episode WHERE number > %s ORDER BY number LIMIT 1),
        (SELECT id FROM episodes_episode WHERE series_id = %s AND part < %s
         ORDER BY part DESC, number DESC, id DESC LIMIT 1),
        (SELECT id FROM episodes_episode WHERE series_id = %s AND part > %s
         ORDER BY part, number, id LIMIT 1)
    )
"""


def neighbours(episode):
    """
    {"previous", "next"} by number and {"previous_part", "next_part"} within
    the series, each an Episode (only what a link needs) or None, from one query.
    """
    found = dict.fromkeys(["previous", "next", "previous_part", "next_part"])
    has_part = episode.series_id is not None and episode.part is not None
    if episode.number is None and not has_part:
        return found
    number, series, part = episode.number, episode.series_id, episode.part
    others = list(
        Episode.objects.raw(NEIGHBOURS_SQL, [episode.pk, number, number, series, part, series, part])
    )
    # Each subquery found the nearest episode on its side, so the nearest of these few is it.
    if episode.number is not None:
        numbered = [other for other in others if other.number is not None]
        found["previous"] = max((o for o in numbered if o.number < episode.number), key=lambda o: o.number, default=None)
        found["next"] = min((o for o in numbered if o.number > episode.number), key=lambda o: o.number, default=None)
    if episode.series_id and episode.part is not None:
        parts = [o for o in others if o.series_id == episode.series_id and o.part is not None]
        found["previous_part"] = max((o for o in parts if o.part < episode.part), key=lambda o: o.part, default=None)
        found["next_part"] = min((o for o in parts if o.part > episode.part), key=lambda o: o.part, default=None)
    return found


@require_safe
def episode_list(request):
    """All episodes, a page at a time; ?order=newest (the default) or ?order=number."""
    order = request.GET.get("order")
    if order not in ORDERS:
        order = "newest"
    page = Paginator(in_order(order), EPISODES_PER_PAGE).get_page(page_param(request, "page"))
    orders = [(key, label) for key, (label, _) in ORDERS.items()]
    return render(request, "episodes/episode_list.html", {"page": page, "order": order, "orders": orders})


@require_safe
def series_list(request):
    return render(request, "episodes/series_list.html", {"series_list": series_overview()})


@require_safe
def series_detail(request, slug):
    series = get_object_or_404(Series, slug=slug)
    episodes = series.episodes.order_by(F("part").asc(nulls_last=True), F("number").asc(nulls_last=True), "pk")
    return render(request, "episodes/series_detail.html", {"series": series, "episodes": episodes})


def home_context():
    """What the home page offers: the latest episodes and ways in by series, person or term."""
    return {
        "latest": latest_episodes(),
        "series_list": series_overview()[:12],
        "top_people": Person.objects.most_mentioned()[:10],
        "top_terms": Term.objects.most_mentioned()[:10],
    }
