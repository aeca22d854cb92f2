"""
The editor's workspace: episodes and their sentences, the glossary, people
and sources. Saving anything the linker reads queues a relink, so pages
never compute links themselves; an edit to a term's or person's names shows
the links it would change first (admin_links.py).
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count

from .admin_links import AmbiguityRuleInline, PreviewLinksMixin, ScopedAliasInline
from .feeds import admin as feeds_admin  # noqa: F401  registers Podcast, with its "Import feed" page
from .models import Citation, Episode, Mention, Person, Sentence, Source, Term
from episodes.tasks import relink_episodes
from .timings.imports import TimingImportError, import_timings
from .transcripts import TranscriptError, decode_transcript, import_transcript


def queue_relink(episode_ids=None):
    transaction.on_commit(lambda: relink_episodes.enqueue(episode_ids))


class RelinkOnSaveMixin:
    """What the linker or the rendered transcript reads: a change relinks episodes."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        queue_relink()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        queue_relink()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        queue_relink()


class MentionInline(admin.TabularInline):
    model = Mention
    extra = 0
    fields = ["sentence", "kind", "start", "end", "matched_text"]
    readonly_fields = ["matched_text"]
    autocomplete_fields = ["sentence"]
    show_change_link = True


class CitationInline(admin.TabularInline):
    model = Citation
    extra = 0
    fields = ["sentence", "source", "quoted_text", "locator"]
    autocomplete_fields = ["sentence", "source"]


class EpisodeAdminForm(forms.ModelForm):
    """The episode, plus uploads of its transcript text and timings."""

    transcript_file = forms.FileField(
        required=False, help_text="Plain UTF-8 text; replaces the sentences (kept where unchanged)."
    )
    timings_file = forms.FileField(
        required=False, help_text="WebVTT, SRT, Podcasting 2.0 JSON or HTML; times the sentences."
    )

    class Meta:
        model = Episode
        fields = "__all__"

    def clean_transcript_file(self):
        upload = self.cleaned_data.get("transcript_file")
        if upload:
            try:
                self.cleaned_data["transcript_text"] = decode_transcript(upload.read(), upload.name)
            except TranscriptError as error:
                raise forms.ValidationError(str(error)) from None
        return upload


@admin.register(Episode)
class EpisodeAdmin(admin.ModelAdmin):
    form = EpisodeAdminForm
    list_display = ["number", "title", "series", "part", "published", "sentence_count"]
    list_display_links = ["number", "title"]
    search_fields = ["title", "series__title", "summary"]
    list_filter = ["series"]
    prepopulated_fields = {"slug": ["number", "title"]}
    readonly_fields = ["published_title", "transcript_rendered_at"]
    actions = ["relink", "estimate_timings"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        episode = form.instance
        if text := form.cleaned_data.get("transcript_text"):
            try:
                report = import_transcript(episode, text)
                self.message_user(request, f"Transcript imported: {report}", messages.SUCCESS)
            except TranscriptError as error:
                self.message_user(request, f"Transcript not imported: {error}", messages.ERROR)
        if upload := form.cleaned_data.get("timings_file"):
            try:
                mapping = import_timings(episode, upload.read(), upload.name)
                self.message_user(
                    request,
                    f"Timings imported: {mapping.matched_sentences} of "
                    f"{len(mapping.timings)} sentences timed.",
                    messages.SUCCESS,
                )
            except TimingImportError as error:
                self.message_user(request, f"Timings not imported: {error}", messages.ERROR)

    @admin.action(description="Estimate timings from the duration")
    def estimate_timings(self, request, queryset):
        for episode in queryset:
            if episode.timing in (Episode.Timing.TIMED, Episode.Timing.ALIGNED):
                self.message_user(request, f"{episode}: kept its real timings.", messages.WARNING)
            elif not episode.duration:
                self.message_user(request, f"{episode}: set its duration first.", messages.ERROR)
            else:
                episode.estimate_timings()
                self.message_user(request, f"{episode}: timings estimated.", messages.SUCCESS)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(sentence_total=Count("sentences"))

    @admin.display(description="Sentences", ordering="sentence_total")
    def sentence_count(self, episode):
        return episode.sentence_total

    @admin.action(description="Relink terms and people, and re-render")
    def relink(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        relink_episodes.enqueue(ids)
        self.message_user(request, f"Relinking {len(ids)} episode(s).", messages.SUCCESS)


@admin.register(Sentence)
class SentenceAdmin(RelinkOnSaveMixin, admin.ModelAdmin):
    list_display = ["episode", "position", "paragraph", "short_text", "start", "end"]
    list_filter = ["episode"]
    search_fields = ["text"]
    list_select_related = ["episode"]
    inlines = [MentionInline, CitationInline]

    @admin.display(description="Text")
    def short_text(self, sentence):
        return sentence.text[:100]


@admin.register(Term)
class TermAdmin(PreviewLinksMixin, RelinkOnSaveMixin, admin.ModelAdmin):
    list_display = ["name", "category", "definition"]
    list_filter = ["category"]
    search_fields = ["name", "aliases", "definition"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["related"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "aliases", "definition"]}),
        ("Entry", {"fields": ["article", "episode_wording", "related", "reference"]}),
    ]
    inlines = [ScopedAliasInline, AmbiguityRuleInline]


@admin.register(Person)
class PersonAdmin(PreviewLinksMixin, RelinkOnSaveMixin, admin.ModelAdmin):
    list_display = ["name", "born", "died", "role"]
    search_fields = ["name", "full_name", "aliases", "role"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "full_name", "slug", "aliases", ("born", "died"), "role"]}),
        ("Entry", {"fields": ["biography", "reference"]}),
    ]
    inlines = [ScopedAliasInline, AmbiguityRuleInline]


@admin.register(Mention)
class MentionAdmin(RelinkOnSaveMixin, admin.ModelAdmin):
    list_display = ["entity", "kind", "matched_text", "sentence"]
    list_filter = ["kind", "sentence__episode"]
    search_fields = ["term__name", "person__name", "sentence__text"]
    list_select_related = ["term", "person", "sentence__episode"]
    autocomplete_fields = ["sentence", "term", "person"]


@admin.register(Source)
class SourceAdmin(RelinkOnSaveMixin, admin.ModelAdmin):
    list_display = ["title", "author", "year", "kind"]
    list_filter = ["kind"]
    search_fields = ["title", "author", "publisher", "isbn"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [CitationInline]


@admin.register(Citation)
class CitationAdmin(RelinkOnSaveMixin, admin.ModelAdmin):
    list_display = ["source", "sentence", "locator"]
    list_filter = ["source__kind", "sentence__episode"]
    search_fields = ["quoted_text", "source__title", "sentence__text"]
    list_select_related = ["source", "sentence__episode"]
    autocomplete_fields = ["sentence", "source"]


# Discussion notes: moderators work from /moderation/; the admin is the full
# record. Every status change goes through moderation.moderate(), so the
# admin's actions are logged exactly like the queue's buttons.
