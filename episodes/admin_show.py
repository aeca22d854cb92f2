"""
The show around the episodes in the admin: series, credits, chapters and the
transcripts the feed links to. Rows that belong to an episode are written
inside its Episode.writing() and re-render it (EpisodeContentAdmin).
"""

from django.contrib import admin
from django.db.models import Count, Max, Min
from django.utils.html import format_html

from .admin_content import EpisodeContentAdmin
from .models import Chapter, Credit, Series, TranscriptLink
from .moments import format_moment
from .tasks import render_episodes


class EpisodeRowAdmin(EpisodeContentAdmin, admin.ModelAdmin):
    """A row of one episode (or, for a credit, of the whole podcast: no episode to lock)."""

    episode_path = "episode_id"
    follow_up = render_episodes
    list_select_related = ["episode"]
    autocomplete_fields = ["episode"]

    def form_episodes(self, obj):
        return {obj.episode_id} - {None}


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["title", "episode_count", "numbers"]
    search_fields = ["title", "description"]
    prepopulated_fields = {"slug": ["title"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            episode_total=Count("episodes"), first=Min("episodes__number"), last=Max("episodes__number")
        )

    @admin.display(description="Episodes", ordering="episode_total")
    def episode_count(self, series):
        return series.episode_total

    @admin.display(description="Numbers", ordering="first")
    def numbers(self, series):
        if series.first is None:
            return "–"
        return str(series.first) if series.first == series.last else f"{series.first}–{series.last}"


@admin.register(Credit)
class CreditAdmin(EpisodeRowAdmin):
    list_display = ["name", "role", "group", "credited_for"]
    list_filter = ["role", "group"]
    search_fields = ["name", "episode__title"]

    @admin.display(description="For", ordering="episode__number")
    def credited_for(self, credit):
        return credit.episode or "The whole podcast"


@admin.register(Chapter)
class ChapterAdmin(EpisodeRowAdmin):
    list_display = ["title", "episode", "starts", "opening_sentence", "listen"]
    list_filter = ["episode"]
    search_fields = ["title", "episode__title"]
    autocomplete_fields = ["episode", "sentence"]
    ordering = ["episode__number", "start"]

    @admin.display(description="Starts at", ordering="start")
    def starts(self, chapter):
        return format_moment(chapter.start)

    @admin.display(description="Opens with")
    def opening_sentence(self, chapter):
        if chapter.sentence_id is None:
            return "–"
        return format_html('<a href="{}">§{}</a>', chapter.sentence.get_absolute_url(), chapter.sentence.position)

    @admin.display(description="Preview")
    def listen(self, chapter):
        """The episode's page, playing from the chapter's start."""
        return format_html('<a href="{}?t={}">Listen from {}</a>', chapter.episode.get_absolute_url(),
                           int(chapter.start), format_moment(chapter.start))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("episode", "sentence__episode")


@admin.register(TranscriptLink)
class TranscriptLinkAdmin(EpisodeRowAdmin):
    list_display = ["episode", "type", "language", "imported_at", "problem"]
    list_filter = ["type"]
    search_fields = ["url", "episode__title"]

    @admin.display(description="Why it wasn't used")
    def problem(self, link):
        return link.error or "–"
