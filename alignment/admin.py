"""
The admin side of aligning an episode to its audio.

An "Align to audio" button on the episode's page opens a small form (the
episode's own audio, another URL, or an upload); an action aligns the selected
episodes to their own audio. Runs are shown read-only, with their progress,
what was skipped and links to the sentences to review.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from episodes import admin as episodes_admin
from episodes.admin_forms import UrlOrUploadForm, url_field
from episodes.models import Episode
from episodes.moments import format_moment

from .models import AlignmentRun
from .runs import (
    MAX_AUDIO_BYTES,
    AlignmentRefused,
    AudioUnavailable,
    episode_audio_location,
    latest_run,
    needing_review,
    store_upload,
    with_failed_alignment,
)
from .tasks import start_alignment


def progress_bar(run):
    """A <progress> with its percentage as text, for browsers and screen readers alike."""
    percent = round(run.progress * 100)
    return format_html('<progress max="100" value="{}">{}%</progress> {}%', percent, percent, percent)


def runs_in_request():
    """True when tasks run at enqueue time (the immediate backend): the request waits for the run."""
    from django.tasks import task_backends
    from django.tasks.backends.immediate import ImmediateBackend

    return isinstance(task_backends["default"], ImmediateBackend)


def review_url(run, position=None):
    url = reverse("alignment:review", args=[run.episode.slug])
    return f"{url}#review-s-{position}" if position else url


class AlignForm(UrlOrUploadForm):
    max_bytes = MAX_AUDIO_BYTES
    url = url_field("Audio URL", "An http(s) address of the episode's audio, downloaded for the alignment.")
    upload = forms.FileField(
        label="Or upload the audio", required=False,
        help_text=f"MP3, Ogg/Opus, FLAC or WAV, up to {MAX_AUDIO_BYTES // 2**20} MB.",
    )
    keep_manual = forms.BooleanField(
        label="Keep starts an editor set by hand", required=False, initial=True,
    )

    def __init__(self, *args, episode, **kwargs):
        super().__init__(*args, **kwargs)
        self.episode = episode

    def missing_source_message(self):
        if not episode_audio_location(self.episode):
            return "This episode has no audio: give its URL or upload it."
        return None  # the episode's own audio will do


class AlignEpisodeMixin:
    """For the episode's admin: the align page, the align action and the latest run on the change page."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.align_view)
        return [path("<path:object_id>/align/", view, name="episodes_episode_align"), *super().get_urls()]

    def align_view(self, request, object_id):
        episode = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_change_permission(request, episode):
            raise PermissionDenied
        form = AlignForm(request.POST or None, request.FILES or None, episode=episode)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    if upload := form.cleaned_data["upload"]:
                        audio = store_upload(episode, upload)
                    else:
                        audio = form.cleaned_data["url"] or episode_audio_location(episode)
                    run = start_alignment(episode, audio, keep_manual=form.cleaned_data["keep_manual"])
            except (AlignmentRefused, AudioUnavailable) as error:
                form.add_error(None, str(error))
            else:
                run.refresh_from_db()
                level = messages.ERROR if run.status == AlignmentRun.Status.FAILED else messages.SUCCESS
                self.message_user(request, f"Alignment {run.get_status_display().lower()}.", level)
                return redirect("admin:alignment_alignmentrun_change", run.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Align “{episode.title}” to its audio",
            "opts": self.model._meta,
            "original": episode,
            "form": form,
            "own_audio": episode_audio_location(episode),
            "latest": latest_run(episode),
            "runs_in_request": runs_in_request(),
        }
        return TemplateResponse(request, "admin/alignment/episode/align.html", context)

    @admin.action(description="Align to their audio (file or URL)")
    def align_to_audio(self, request, queryset):
        for episode in queryset:
            audio = episode_audio_location(episode)
            if not audio:
                self.message_user(request, f"{episode}: no audio; use Align on its page.", messages.ERROR)
                continue
            try:
                start_alignment(episode, audio)
            except AlignmentRefused as error:
                self.message_user(request, f"{episode}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{episode}: alignment queued.", messages.SUCCESS)

    @admin.display(description="Alignment")
    def latest_alignment(self, episode):
        if not episode.pk:
            return "–"
        align = reverse("admin:episodes_episode_align", args=[episode.pk])
        run = latest_run(episode)
        if run is None:
            return format_html('Never aligned. <a href="{}">Align to audio</a>', align)
        return format_html(
            '<a href="{}">{}</a>, {} {} {} · <a href="{}">Review timings</a> · <a href="{}">Align again</a>',
            reverse("admin:alignment_alignmentrun_change", args=[run.pk]),
            run.get_status_display(),
            run.created.strftime("%Y-%m-%d %H:%M"),
            progress_bar(run) if run.status in (AlignmentRun.Status.QUEUED, AlignmentRun.Status.RUNNING) else "",
            run.message or run.stage,
            review_url(run),
            align,
        )


@admin.register(AlignmentRun)
class AlignmentRunAdmin(admin.ModelAdmin):
    """A record of runs: read-only, so it stays a record (deleting an old one is allowed)."""

    list_display = ["episode", "created", "status", "progress_display", "stage", "finished"]
    list_filter = ["status", "episode"]
    list_select_related = ["episode"]
    date_hierarchy = "created"
    fields = [
        "episode", "audio", "keep_manual", "status", "progress_display", "stage", "message",
        "created", "started", "heartbeat", "finished", "summary", "changes_link", "skipped_segments",
        "low_confidence_links",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Progress", ordering="progress")
    def progress_display(self, run):
        return progress_bar(run)

    @admin.display(description="Result")
    def summary(self, run):
        result = run.result or {}
        if "duration" not in result:
            return "–"
        duration = result["duration"]
        per_minute = result["compute_seconds"] / (duration / 60) if duration else 0
        kept = len(result.get("kept_manual", []))
        return (
            f"{result['sentences']} sentences timed in {format_moment(duration)} of audio; "
            f"{result['compute_seconds']:.1f} s of compute ({per_minute:.1f} s per audio minute); "
            f"{kept} editor's start{'s' if kept != 1 else ''} kept."
        )

    @admin.display(description="What changed")
    def changes_link(self, run):
        record = (run.result or {}).get("timing_import")
        if not record:
            return "–"
        url = reverse("admin:episodes_episode_timings_report", args=[run.episode_id, record])
        return format_html('<a href="{}">Every sentence moved, kept or left untimed, and an undo</a>', url)

    @admin.display(description="Skipped (not in the script)")
    def skipped_segments(self, run):
        skipped = (run.result or {}).get("skipped") or []
        if not skipped:
            return "–"
        return format_html_join(
            ", ", "{}–{} ({} s)",
            ((format_moment(start), format_moment(end), round(end - start)) for start, end in skipped),
        )

    @admin.display(description="Sentences to review")
    def low_confidence_links(self, run):
        positions = (run.result or {}).get("low_confidence") or []
        if not positions:
            return "None" if run.status == AlignmentRun.Status.DONE else "–"
        links = format_html_join(
            " ", '<a href="{}">§{}</a>', ((review_url(run, position), position) for position in positions)
        )
        return format_html('{} · <a href="{}">Review all</a>', links, review_url(run))


# The episode's admin page, with "Align to audio": the alignment app is built on
# episodes, so it extends the episodes app's admin rather than the other way round.
admin.site.unregister(Episode)


@admin.register(Episode)
class EpisodeAdmin(AlignEpisodeMixin, episodes_admin.EpisodeAdmin):
    change_form_template = "admin/alignment/episode/change_form.html"
    readonly_fields = [*episodes_admin.EpisodeAdmin.readonly_fields, "latest_alignment"]
    actions = [*episodes_admin.EpisodeAdmin.actions, "align_to_audio"]


class NeedsWorkFilter(admin.SimpleListFilter):
    """The episodes an editor has work on, as the editor's home counts them (companion/desk.py)."""

    title = "needs"
    parameter_name = "needs"

    def lookups(self, request, model_admin):
        return [("review", "Sentences to review"), ("untimed", "No timings yet"), ("failed", "Alignment failed")]

    def queryset(self, request, queryset):
        match self.value():
            case "review":
                return needing_review(queryset)
            case "untimed":
                return queryset.filter(pk__in=Episode.objects.untimed().values("pk"))
            case "failed":
                return queryset.filter(pk__in=with_failed_alignment(Episode.objects.all()).values("pk"))
        return queryset


EpisodeAdmin.list_filter = [NeedsWorkFilter, *episodes_admin.EpisodeAdmin.list_filter]
