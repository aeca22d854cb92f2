"""
The admin side of the podcast and its feed: the Podcast row, and an
"Import feed" page (a URL or an upload) linked from its list, doing what
`manage.py import_feed` does. The import runs in the request: fine for a
feed of a few hundred items, but its transcripts and chapters are fetched
too, so a first import of a big feed can take a while (untick "fetch").
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from episodes.admin_forms import UrlOrUploadForm, url_field
from episodes.models import Podcast
from episodes.feeds.imports import import_feed, read_feed_source
from episodes.feeds.parse import MAX_FEED_BYTES, FeedError

MAX_MESSAGES = 30  # warnings shown one by one; the rest are counted


class ImportFeedForm(UrlOrUploadForm):
    max_bytes = MAX_FEED_BYTES
    url = url_field("Feed URL", "The podcast's RSS feed, fetched now.")
    upload = forms.FileField(
        label="Or upload the feed", required=False,
        help_text=f"An RSS 2.0 file, up to {MAX_FEED_BYTES // 2**20} MB.",
    )
    fetch = forms.BooleanField(
        label="Fetch the transcripts and chapters it links to", required=False, initial=True,
    )
    publish = forms.BooleanField(
        label="Publish new episodes at once", required=False,
        help_text="Left unticked, new episodes arrive as drafts: listeners see them once you publish them.",
    )
    dry_run = forms.BooleanField(label="Dry run: report what would change, write nothing", required=False)

    def missing_source_message(self):
        return "Give the feed's URL or upload the feed."


@admin.register(Podcast)
class PodcastAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "language", "feed_url"]
    readonly_fields = ["guid"]
    change_list_template = "admin/episodes/podcast/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_feed_view)
        return [path("import/", view, name="episodes_podcast_import"), *super().get_urls()]

    def has_import_permission(self, request):
        user = request.user
        return user.has_perm("episodes.add_episode") and user.has_perm("episodes.change_episode") and (
            self.has_change_permission(request) or self.has_add_permission(request)
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {"can_import": self.has_import_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def import_feed_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportFeedForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                if upload := data["upload"]:
                    feed, source = upload.read(), ""
                else:
                    feed, source = read_feed_source(data["url"]), data["url"]
                report = import_feed(
                    feed, source_url=source, dry_run=data["dry_run"], fetch=data["fetch"], publish=data["publish"]
                )
            except FeedError as error:
                form.add_error(None, f"Feed not imported: {error}")
            else:
                self.report(request, report)
                return redirect("admin:episodes_podcast_import")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import the podcast's feed",
            "opts": self.model._meta,
            "form": form,
            "podcast": Podcast.objects.order_by("pk").first(),
        }
        return TemplateResponse(request, "admin/episodes/podcast/import_feed.html", context)

    def report(self, request, report):
        summary, *details = str(report).splitlines()
        if report.dry_run:
            summary, *details = details
            summary = f"Dry run, nothing written. {summary}"
        self.message_user(request, summary, messages.INFO if report.dry_run else messages.SUCCESS)
        if report.created and not report.dry_run:
            drafts = "?is_draft__exact=1" if not report.published else ""
            self.message_user(request, format_html(
                '<a href="{}">See the {} new episode{}</a>.', reverse("admin:episodes_episode_changelist") + drafts,
                report.created, "s" if report.created != 1 else "",
            ), messages.SUCCESS)
        for line in details[:MAX_MESSAGES]:
            level = messages.WARNING if line.startswith(("Warning", "Kept", "Skipped", "Recovered")) else messages.INFO
            self.message_user(request, line, level)
        if len(details) > MAX_MESSAGES:
            self.message_user(
                request, f"… and {len(details) - MAX_MESSAGES} more; `manage.py import_feed` lists them all.",
                messages.WARNING,
            )
