"""
The episode admin's "Upload timings": a file is previewed (every sentence it
would move, keep or leave untimed) before the editor applies it, and the last
change to an episode's timings can be undone from its report.
"""

from collections import Counter

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path

from .models import TimingImport
from .models.timing_imports import Outcome
from .timings.formats import MAX_TIMING_BYTES
from .timings.imports import TimingImportError, apply_import, preview_timings, undo_import


class TimingsUploadForm(forms.Form):
    upload = forms.FileField(
        label="Timings file",
        help_text=f"WebVTT, SRT, Podcasting 2.0 JSON or HTML, up to {MAX_TIMING_BYTES // 2**20} MB.",
    )
    overwrite = forms.BooleanField(
        label="Replace the starts an editor set by hand", required=False,
        help_text="Left unticked, every start set on the review page stays as the editor set it.",
    )

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        if upload.size > MAX_TIMING_BYTES:
            raise forms.ValidationError(f"The file is {upload.size:,} bytes; the limit is {MAX_TIMING_BYTES:,}.")
        return upload


class TimingsUploadMixin:
    """For the episode's admin: the upload page, and each upload's preview and report."""

    def get_urls(self):
        upload = self.admin_site.admin_view(self.timings_upload_view)
        report = self.admin_site.admin_view(self.timings_report_view)
        return [
            path("<path:object_id>/timings/", upload, name="episodes_episode_timings"),
            path("<path:object_id>/timings/<int:import_id>/", report, name="episodes_episode_timings_report"),
            *super().get_urls(),
        ]

    def editable_episode(self, request, object_id):
        episode = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, episode):
            raise PermissionDenied
        return episode

    def timings_context(self, request, episode, title):
        return {
            **self.admin_site.each_context(request),
            "title": title, "opts": self.model._meta, "original": episode,
        }

    def act_on_import(self, request, apply, undo, error_class):
        """A report page's Apply or Undo button: run it and say what happened. Each returns its message."""
        actions = {"apply": apply, "undo": undo}
        action = actions.get(request.POST.get("action"))
        if action is None:
            self.message_user(request, "Choose Apply or Undo.", messages.ERROR)
            return
        try:
            self.message_user(request, action(), messages.SUCCESS)
        except error_class as error:
            self.message_user(request, str(error), messages.ERROR)

    def import_report_context(self, request, episode, title, record, changes, outcomes):
        """What both report pages show: counts by outcome, and the sentences that change (or every one)."""
        show_all = request.GET.get("show") == "all"
        counts = Counter(change.outcome for change in changes)
        return self.timings_context(request, episode, title) | {
            "record": record,
            "changes": changes if show_all else [c for c in changes if c.outcome != outcomes.UNCHANGED],
            "show_all": show_all,
            "counts": [(label, counts[outcome]) for outcome, label in outcomes.LABELS.items() if counts[outcome]],
            "can_undo": record.can_undo(),
        }

    def timings_upload_view(self, request, object_id):
        episode = self.editable_episode(request, object_id)
        form = TimingsUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["upload"]
            try:
                record = preview_timings(episode, upload.read(), upload.name, overwrite=form.cleaned_data["overwrite"])
            except TimingImportError as error:
                form.add_error("upload", str(error))
            else:
                return redirect("admin:episodes_episode_timings_report", episode.pk, record.pk)
        context = self.timings_context(request, episode, f"Upload timings for “{episode.title}”") | {
            "form": form,
            "history": episode.timing_imports.exclude(state=TimingImport.State.PREVIEWED)[:10],
            "editor_starts": episode.sentences.filter(start_set_by_editor=True).count(),
        }
        return TemplateResponse(request, "admin/episodes/episode/timings_upload.html", context)

    def timings_report_view(self, request, object_id, import_id):
        episode = self.editable_episode(request, object_id)
        record = get_object_or_404(episode.timing_imports, pk=import_id)
        if request.method == "POST":
            def apply():
                apply_import(record)
                return f"Timings applied: {record.summary()}"

            def undo():
                undo_import(record)
                return "The previous timings are back."

            self.act_on_import(request, apply, undo, TimingImportError)
            return redirect("admin:episodes_episode_timings_report", episode.pk, record.pk)
        title = f"Timings from {record.filename or record.get_source_display()}"
        context = self.import_report_context(request, episode, title, record, record.sentence_changes, Outcome)
        return TemplateResponse(request, "admin/episodes/episode/timings_report.html", context)
