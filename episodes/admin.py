"""
The editor's workspace: episodes and their sentences, the glossary, people
and sources. Saving anything the linker reads queues a relink, so pages
never compute links themselves.
"""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count

from .alignment_admin import AlignEpisodeMixin  # also registers AlignmentRun
from . import timeline_admin  # noqa: F401  registers Event
from . import feed_admin  # noqa: F401  registers Podcast, with its "Import feed" page
from .importers import TranscriptError, decode_transcript, import_transcript
from .models import Citation, Episode, Mention, Person, Sentence, Source, Term
from .tasks import relink_episodes
from .timed_import import TimingImportError, import_timings


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
class EpisodeAdmin(AlignEpisodeMixin, admin.ModelAdmin):
    form = EpisodeAdminForm
    list_display = ["number", "title", "series", "part", "published", "sentence_count"]
    list_display_links = ["number", "title"]
    search_fields = ["title", "series__title", "summary"]
    list_filter = ["series"]
    prepopulated_fields = {"slug": ["number", "title"]}
    readonly_fields = ["transcript_rendered_at", "latest_alignment"]
    actions = ["relink", "estimate_timings", "align_to_audio"]

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
class TermAdmin(RelinkOnSaveMixin, admin.ModelAdmin):
    list_display = ["name", "category", "definition"]
    list_filter = ["category"]
    search_fields = ["name", "aliases", "definition"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["related"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "aliases", "definition"]}),
        ("Entry", {"fields": ["article", "episode_wording", "related", "reference"]}),
    ]


@admin.register(Person)
class PersonAdmin(RelinkOnSaveMixin, admin.ModelAdmin):
    list_display = ["name", "born", "died", "role"]
    search_fields = ["name", "full_name", "aliases", "role"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "full_name", "slug", "aliases", ("born", "died"), "role"]}),
        ("Entry", {"fields": ["biography", "reference"]}),
    ]


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
from .markup import render_markdown  # noqa: E402
from .moderation import ModerationError, moderate  # noqa: E402
from .notes import Flag, ModerationEvent, Note  # noqa: E402
from django.db.models import Q  # noqa: E402

Action = ModerationEvent.Action


class FlagInline(admin.TabularInline):
    model = Flag
    extra = 0
    fields = ["reason", "detail", "reporter", "created", "resolved"]
    readonly_fields = ["reason", "detail", "reporter", "created"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reporter")


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["short_body", "status", "author", "episode", "created", "flag_count"]
    list_filter = ["status", "orphaned", "episode"]
    search_fields = ["body", "author__username", "author__display_name"]
    list_select_related = ["author", "episode"]
    raw_id_fields = ["author", "parent", "first_sentence", "last_sentence"]
    # Status changes only through the actions below, which log them.
    readonly_fields = ["status", "body_html", "created", "edited_at", "deleted_at", "idempotency_key"]
    date_hierarchy = "created"
    inlines = [FlagInline]
    actions = ["approve", "reject", "mark_spam", "ban_author", "restore"]

    def has_add_permission(self, request):
        return False  # notes are written by listeners, on the episode page

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            open_flags=Count("flags", filter=Q(flags__resolved=False))
        )

    @admin.display(description="Note")
    def short_body(self, note):
        return note.body[:80]

    @admin.display(description="Open flags", ordering="open_flags")
    def flag_count(self, note):
        return note.open_flags

    def save_model(self, request, obj, form, change):
        obj.body_html = render_markdown(obj.body)  # as the note views do at write time
        super().save_model(request, obj, form, change)

    def moderate_all(self, request, queryset, action):
        done = 0
        banned = set()
        for note in queryset.select_related("author"):
            # One ban per author; their other selected notes are rejected.
            this_action = Action.REJECT if action == Action.BAN and note.author_id in banned else action
            reason = "Author banned." if this_action != action else ""
            try:
                moderate(note, this_action, request.user, reason)
            except ModerationError as error:
                self.message_user(request, f"Note {note.pk}: {error}", messages.WARNING)
                continue
            done += 1
            if action == Action.BAN:
                banned.add(note.author_id)
        if done:
            self.message_user(request, f"{Action(action).label}: {done} note(s).", messages.SUCCESS)

    @admin.action(description="Approve the selected notes")
    def approve(self, request, queryset):
        self.moderate_all(request, queryset, Action.APPROVE)

    @admin.action(description="Reject the selected notes")
    def reject(self, request, queryset):
        self.moderate_all(request, queryset, Action.REJECT)

    @admin.action(description="Mark the selected notes as spam")
    def mark_spam(self, request, queryset):
        self.moderate_all(request, queryset, Action.SPAM)

    @admin.action(description="Ban the authors (and reject their notes)")
    def ban_author(self, request, queryset):
        self.moderate_all(request, queryset, Action.BAN)

    @admin.action(description="Restore the selected rejected or spam notes")
    def restore(self, request, queryset):
        self.moderate_all(request, queryset, Action.RESTORE)


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["note", "reason", "reporter", "created", "resolved"]
    list_filter = ["reason", "resolved"]
    search_fields = ["detail", "reporter__username", "note__body"]
    list_select_related = ["note__author", "reporter"]
    raw_id_fields = ["note", "reporter"]


@admin.register(ModerationEvent)
class ModerationEventAdmin(admin.ModelAdmin):
    """The moderation log: read-only, so it stays a record."""

    list_display = ["created", "actor", "action", "note", "subject", "reason"]
    list_filter = ["action"]
    search_fields = ["reason", "actor__username", "subject__username"]
    list_select_related = ["actor", "note", "subject"]
    date_hierarchy = "created"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
