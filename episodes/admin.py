"""
The editor's workspace: episodes and their sentences, the glossary, people
and sources. Every change writes inside Episode.writing() of the episodes it
touches; saving anything the linker or the stored transcript reads queues a
relink or a re-render of the episodes concerned, so pages never compute links
themselves; an edit to a term's or person's names shows the links it would
change first (admin_links.py).
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count

from .admin_content import EpisodeContentAdmin
from .admin_timings import TimingsUploadMixin
from .admin_transcripts import TranscriptUploadMixin
from .admin_links import AmbiguityRuleInline, PreviewLinksMixin, ScopedAliasInline
from . import admin_show  # noqa: F401  registers series, credits, chapters and transcript links
from .feeds import admin as feeds_admin  # noqa: F401  registers Podcast, with its "Import feed" page
from .models import Citation, Episode, Mention, Person, Sentence, Source, Term
from .tasks import relink_episodes, render_episodes
from .splitter import split_transcript
from .transcripts import TranscriptError, check_header, decode_transcript


class EntryAdmin(EpisodeContentAdmin):
    """Terms and people: an alias may match in any episode, so a save relinks them all."""

    episode_path = "mentions__sentence__episode_id"  # what a delete takes with it
    relinks_everything = True

    def save_model(self, request, obj, form, change):
        """Saving an entry writes no episode's rows; the relink then locks each episode in turn."""
        super(EpisodeContentAdmin, self).save_model(request, obj, form, change)
        self.queue_follow_up(())


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
    """The episode, plus an upload of its transcript text (timings have their own page: admin_timings.py)."""

    transcript_file = forms.FileField(
        required=False,
        help_text="Plain UTF-8 text; replaces the sentences (kept where unchanged). "
        "You see what it would change, sentence by sentence, before anything is.",
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

    def clean(self):
        """A text for another episode, or with no sentences, is refused here, before the preview."""
        cleaned = super().clean()
        if (text := cleaned.get("transcript_text")) is not None:
            try:
                check_header(Episode(number=cleaned.get("number")), split_transcript(text))
            except TranscriptError as error:
                self.add_error("transcript_file", str(error))
        return cleaned


@admin.register(Episode)
class EpisodeAdmin(TranscriptUploadMixin, TimingsUploadMixin, admin.ModelAdmin):
    form = EpisodeAdminForm
    list_display = ["number", "title", "series", "part", "published", "is_draft", "timing", "sentence_count"]
    list_display_links = ["number", "title"]
    search_fields = ["title", "series__title", "summary"]
    list_filter = ["is_draft", "timing", "series"]
    prepopulated_fields = {"slug": ["number", "title"]}
    readonly_fields = ["published_title", "timing", "transcript_rendered_at", "last_transcript_import"]
    actions = ["publish", "make_draft", "relink", "estimate_timings"]

    def save_model(self, request, obj, form, change):
        with Episode.objects.filter(pk=obj.pk).writing():  # a new episode has nothing to lock
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        with obj.writing():  # before its sentences and notes go with it
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        chosen = Episode.objects.filter(pk__in=list(queryset.values_list("pk", flat=True)))
        with chosen.writing():  # not the changelist's query: it counts sentences, which can't be locked
            super().delete_queryset(request, queryset)

    @admin.action(description="Publish the selected episodes (listeners see them)")
    def publish(self, request, queryset):
        self.set_draft(request, queryset, False)

    @admin.action(description="Make the selected episodes drafts (hidden from listeners)")
    def make_draft(self, request, queryset):
        self.set_draft(request, queryset, True)

    def set_draft(self, request, queryset, draft):
        chosen = Episode.objects.filter(pk__in=list(queryset.values_list("pk", flat=True)))
        with chosen.writing() as ids:
            changing = list(Episode.objects.filter(pk__in=ids).exclude(is_draft=draft))
            for episode in changing:  # saved one by one, so shared caches hear of each (companion/shared_pages.py)
                episode.is_draft = draft
                episode.save(update_fields=["is_draft", "updated"])
        changed = len(changing)
        state = "drafts" if draft else "published"
        self.message_user(request, f"{changed} episode{'s' if changed != 1 else ''} now {state}.", messages.SUCCESS)

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
class SentenceAdmin(EpisodeContentAdmin, admin.ModelAdmin):
    episode_path = "episode_id"  # its inlines' mentions and citations are in the same episode
    list_display = ["episode", "position", "paragraph", "short_text", "start", "end"]
    list_filter = ["episode"]
    search_fields = ["text"]
    list_select_related = ["episode"]
    inlines = [MentionInline, CitationInline]

    @admin.display(description="Text")
    def short_text(self, sentence):
        return sentence.text[:100]


@admin.register(Term)
class TermAdmin(PreviewLinksMixin, EntryAdmin, admin.ModelAdmin):
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
class PersonAdmin(PreviewLinksMixin, EntryAdmin, admin.ModelAdmin):
    list_display = ["name", "born", "died", "role"]
    search_fields = ["name", "full_name", "aliases", "role"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "full_name", "slug", "aliases", ("born", "died"), "role"]}),
        ("Entry", {"fields": ["biography", "reference"]}),
    ]
    inlines = [ScopedAliasInline, AmbiguityRuleInline]


@admin.register(Mention)
class MentionAdmin(EpisodeContentAdmin, admin.ModelAdmin):
    episode_path = "sentence__episode_id"
    list_display = ["entity", "kind", "matched_text", "sentence"]
    list_filter = ["kind", "sentence__episode"]
    search_fields = ["term__name", "person__name", "sentence__text"]
    list_select_related = ["term", "person", "sentence__episode"]
    autocomplete_fields = ["sentence", "term", "person"]

    def get_changeform_initial_data(self, request):
        """A mention added here is the editor's: a relink keeps it (one found by the linker it may remove)."""
        return {"kind": Mention.Kind.ADDED, **super().get_changeform_initial_data(request)}


@admin.register(Source)
class SourceAdmin(EpisodeContentAdmin, admin.ModelAdmin):
    list_display = ["title", "author", "year", "kind"]
    list_filter = ["kind"]
    search_fields = ["title", "author", "publisher", "isbn"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [CitationInline]
    episode_path = "citations__sentence__episode_id"
    follow_up = render_episodes

    def save_model(self, request, obj, form, change):
        """The source's own row, which no episode's writer waits for; its citations come next."""
        super(EpisodeContentAdmin, self).save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        """Its citations, old and new, may be in any episodes: all are locked before any is written."""
        cited = {
            inline.cleaned_data["sentence"].episode_id
            for formset in formsets for inline in formset.forms
            if inline.cleaned_data.get("sentence")
        }
        with self.writing(self.stored_episodes(Source.objects.filter(pk=form.instance.pk)) | cited):
            super().save_related(request, form, formsets, change)


@admin.register(Citation)
class CitationAdmin(EpisodeContentAdmin, admin.ModelAdmin):
    episode_path = "sentence__episode_id"
    follow_up = render_episodes
    list_display = ["source", "sentence", "locator"]
    list_filter = ["source__kind", "sentence__episode"]
    search_fields = ["quoted_text", "source__title", "sentence__text"]
    list_select_related = ["source", "sentence__episode"]
    autocomplete_fields = ["sentence", "source"]

# Discussion notes: moderators work from /moderation/; the admin is the full
# record. Every status change goes through moderation.moderate(), so the
# admin's actions are logged exactly like the queue's buttons.
