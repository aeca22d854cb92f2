"""Suggestions and rejected names in the admin: a record, and the way to take a rejection back."""

from django.contrib import admin

from .models import RejectedName, Suggestion


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "status", "episode", "score", "reason"]
    list_filter = ["status", "kind", "episode"]
    search_fields = ["name", "near"]
    list_select_related = ["episode"]
    readonly_fields = ["episode", "name", "key", "kind", "reason", "near", "mentions", "score", "status",
                       "term", "person", "created", "decided", "decided_by"]

    def has_add_permission(self, request):
        return False  # suggestions come from transcripts


@admin.register(RejectedName)
class RejectedNameAdmin(admin.ModelAdmin):
    """Delete a row to let the name be suggested again."""

    list_display = ["name", "rejected_by", "created"]
    search_fields = ["name"]
    list_select_related = ["rejected_by"]
    readonly_fields = ["key", "name", "rejected_by", "created"]

    def has_add_permission(self, request):
        return False
