"""
The episode admin's transcript upload: the text is previewed (every sentence
kept, edited, added or removed, and what the notes would do) before the
editor applies it, and the last import can be undone from its report.
"""

from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import date
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .models.transcript_imports import TextOutcome
from .transcript_imports import apply_transcript, preview_transcript, undo_transcript
from .transcripts import TranscriptError


class TranscriptUploadMixin:
    """For the episode's admin (with TimingsUploadMixin): the preview and report of each upload."""

    def get_urls(self):
        report = self.admin_site.admin_view(self.transcript_report_view)
        return [
            path("<path:object_id>/transcript/<int:import_id>/", report, name="episodes_episode_transcript_report"),
            *super().get_urls(),
        ]

    def save_related(self, request, form, formsets, change):
        """An uploaded text is previewed, not imported: response_add/response_change then show the preview."""
        super().save_related(request, form, formsets, change)
        episode = form.instance
        if (text := form.cleaned_data.get("transcript_text")) is None:
            return
        try:
            request.transcript_preview = preview_transcript(episode, text, form.cleaned_data["transcript_file"].name)
        except TranscriptError as error:
            self.message_user(request, f"Transcript not imported: {error}", messages.ERROR)

    def response_add(self, request, obj, *args, **kwargs):
        return self.to_transcript_preview(request) or super().response_add(request, obj, *args, **kwargs)

    def response_change(self, request, obj):
        return self.to_transcript_preview(request) or super().response_change(request, obj)

    def to_transcript_preview(self, request):
        if (record := getattr(request, "transcript_preview", None)) is not None:
            return redirect("admin:episodes_episode_transcript_report", record.episode_id, record.pk)
        return None

    @admin.display(description="Last transcript upload")
    def last_transcript_import(self, episode):
        """On the episode's form, so its report (and its undo) can be found again."""
        record = episode.pk and episode.transcript_imports.exclude(state="previewed").first()
        if not record:
            return "–"
        url = reverse("admin:episodes_episode_transcript_report", args=[episode.pk, record.pk])
        return format_html('<a href="{}">{}</a>: {} on {}. {}', url, record.filename or "Upload",
                           record.get_state_display(), date(record.created, "j M Y, H:i"), record.summary())

    def transcript_report_view(self, request, object_id, import_id):
        episode = self.editable_episode(request, object_id)
        record = get_object_or_404(episode.transcript_imports, pk=import_id)
        if request.method == "POST":
            def undo():
                undo_transcript(record)
                return "The previous transcript and its timings are back."

            self.act_on_import(request, lambda: f"Transcript imported: {apply_transcript(record)}", undo, TranscriptError)
            return redirect("admin:episodes_episode_transcript_report", episode.pk, record.pk)
        changes = record.text_changes
        title = f"Transcript from {record.filename or 'an upload'}"
        context = self.import_report_context(request, episode, title, record, changes, TextOutcome) | {
            "timed_episode": any(c.start is not None for c in changes),
        }
        return TemplateResponse(request, "admin/episodes/episode/transcript_report.html", context)
