"""
Import a podcast's RSS feed (iTunes tags, Podcasting 2.0) into the catalogue:

    manage.py import_feed https://example.com/feed.xml
    manage.py import_feed feed.xml --dry-run

Creates or updates the Podcast, one Episode per item (matched by guid), its
credits, chapters and transcript links, and imports timed transcripts it can
fetch. A re-import keeps every change an editor made. Any fatal problem with
the feed stops the import with nothing written; see episodes/feeds/imports.py.
"""

from django.core.management.base import BaseCommand, CommandError

from episodes.feeds.imports import import_feed, read_feed_source
from episodes.feeds.parse import FeedError


class Command(BaseCommand):
    help = "Import a podcast's RSS feed (a file or an http(s) URL) into the catalogue."

    def add_arguments(self, parser):
        parser.add_argument("source", help="A feed file, or its http(s) URL.")
        parser.add_argument(
            "--dry-run", action="store_true",
            help="Report what would change; write nothing (and fetch no transcripts or chapters).",
        )
        parser.add_argument(
            "--publish", action="store_true", help="Publish new episodes at once (they arrive as drafts otherwise).",
        )
        parser.add_argument(
            "--no-fetch", action="store_true", help="Do not fetch the transcripts and chapters it links to."
        )

    def handle(self, *args, source, dry_run, no_fetch, publish, **options):
        try:
            data = read_feed_source(source)
            report = import_feed(
                data, source_url=source, dry_run=dry_run, fetch=not (dry_run or no_fetch), publish=publish
            )
        except FeedError as error:
            raise CommandError(f"Feed not imported: {error}") from None
        self.stdout.write(self.style.SUCCESS(str(report)))
