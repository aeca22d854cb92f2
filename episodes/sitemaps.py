"""
For crawlers: /sitemap.xml lists every public page, /robots.txt keeps them
out of the admin, moderation, account and search pages and points at the sitemap.

Pages other helpers' features add (the episode list, series, the timeline)
are listed when their URL names exist, so the sitemap never names a 404.
"""

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import F
from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from episodes.models import Series
from episodes.models import Episode, Person, Source, Term

LIST_PAGES = [
    "episodes:home",
    "episodes:episode_list",
    "episodes:series_list",
    "timeline:index",
    "episodes:term_list",
    "episodes:person_list",
    "episodes:source_list",
]


def url_exists(name, *args):
    try:
        reverse(name, args=args)
    except NoReverseMatch:
        return False
    return True


class ListPages(Sitemap):
    changefreq = "weekly"

    def items(self):
        return [name for name in LIST_PAGES if url_exists(name)]

    def location(self, name):
        return reverse(name)


class EpisodePages(Sitemap):
    changefreq = "monthly"

    def items(self):
        return Episode.objects.published().only("slug", "updated", "transcript_rendered_at").order_by(
            F("number").asc(nulls_last=True), "pk"
        )

    def lastmod(self, episode):
        """The row or its transcript, whichever changed last (a re-render leaves `updated` alone)."""
        return max(filter(None, [episode.updated, episode.transcript_rendered_at]))


class EntryPages(Sitemap):
    """Glossary terms, people or sources: one page each, by slug."""

    changefreq = "monthly"

    def __init__(self, model):
        self.model = model

    def items(self):
        return self.model.objects.only("slug").order_by("slug")


class SeriesPages(Sitemap):
    changefreq = "monthly"

    def items(self):
        if not url_exists("episodes:series_detail", "x"):
            return []
        return Series.objects.only("slug").order_by("slug")


SITEMAPS = {
    "pages": ListPages,
    "episodes": EpisodePages,
    "series": SeriesPages,
    "terms": EntryPages(Term),
    "people": EntryPages(Person),
    "sources": EntryPages(Source),
}

# Pages crawlers should leave alone: staff tools, personal pages, and
# search results (an endless space of thin pages).
DISALLOWED = ["moderation/", "accounts/", "search/"]


@require_safe
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    """
    The admin is disallowed only at its default path: a DJANGO_ADMIN_PATH chosen
    to be hard to guess would be given away by naming it here.
    """
    hidden = [settings.ADMIN_PATH] if settings.ADMIN_PATH == "admin/" else []
    lines = ["User-agent: *"]
    lines += [f"Disallow: /{path}" for path in [*hidden, *DISALLOWED]]
    lines += ["Allow: /", "", f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
