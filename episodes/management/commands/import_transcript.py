"""
Import a plain-text transcript into an episode.

    manage.py import_transcript 138-the-great-purges transcript.txt

Sentences whose text is unchanged keep their citations, timings and mention
overrides; the rest are replaced, all in one transaction. Any problem with
the file stops the import before the database is touched.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from episodes.transcripts import TranscriptError, import_transcript, read_transcript
from episodes.models import Episode


class DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Import a plain-text transcript into an episode, replacing its sentences."

    def add_arguments(self, parser):
        parser.add_argument("episode", help="The episode's slug, e.g. 138-the-great-purges.")
        parser.add_argument("file", help="A UTF-8 plain-text file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )

    def handle(self, *args, episode, file, dry_run, **options):
        try:
            target = Episode.objects.get(slug=episode)
        except Episode.DoesNotExist:
            known = ", ".join(Episode.objects.values_list("slug", flat=True)[:10]) or "none yet"
            raise CommandError(f"No episode with slug {episode!r} (known: {known}).") from None
        try:
            text = read_transcript(file)
            with transaction.atomic():
                report = import_transcript(target, text, relink=not dry_run)
                if dry_run:
                    raise DryRun
        except TranscriptError as error:
            raise CommandError(str(error)) from None
        except DryRun:
            self.stdout.write(f"Dry run, nothing written. Would import: {report}")
            return
        self.stdout.write(self.style.SUCCESS(f"{target}: {report}"))
