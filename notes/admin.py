"""Notes in the admin: read, moderate through moderate() (so it is logged), flags and the log."""

from django.contrib import admin, messages
from django.db.models import Count, Q

from episodes.models import Episode

from .markup import render_markdown
from .moderation import ModerationError, moderate
from .models import Flag, ModerationEvent, Note


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
    # Status changes only through the actions below, which log them; a note anchored in
    # one episode's text can't move to another.
    readonly_fields = ["episode", "status", "body_html", "created", "edited_at", "deleted_at", "idempotency_key"]
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
        with obj.episode.writing():
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        with obj.episode.writing():
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        episodes = set(queryset.values_list("episode_id", flat=True))
        with Episode.objects.filter(pk__in=episodes).writing():
            super().delete_queryset(request, queryset)

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
