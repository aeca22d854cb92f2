"""
Import sentence timings from a timed transcript (WebVTT, SRT, Podcasting 2.0
JSON or HTML) into an episode:

    manage.py import_timings 138-the-great-purges episode.vtt

Cues are mapped onto our sentences by aligning their words, so cues may
split or merge sentences. A file whose text does not match the transcript is
refused, and nothing is changed. Starts an editor set are kept unless
--overwrite-editor-starts; every sentence whose start changes is listed.
"""

from django.core.management.base import BaseCommand, CommandError

from episodes.timings.imports import TimingImportError, import_timings_file
from episodes.models import Episode


class Command(BaseCommand):
    help = "Import sentence timings from a .vtt, .srt, .json or .html transcript."

    def add_arguments(self, parser):
        parser.add_argument("episode", help="The episode's slug.")
        parser.add_argument("file", help="A timed transcript file.")
        parser.add_argument("--dry-run", action="store_true", help="Report the match; write nothing.")
        parser.add_argument(
            "--overwrite-editor-starts", action="store_true",
            help="Replace the starts an editor set by hand (kept otherwise).",
        )

    def handle(self, *args, episode, file, dry_run, overwrite_editor_starts, **options):
        try:
            target = Episode.objects.get(slug=episode)
        except Episode.DoesNotExist:
            raise CommandError(f"No episode with slug {episode!r}.") from None
        try:
            mapping, plan = import_timings_file(target, file, dry_run=dry_run, overwrite=overwrite_editor_starts)
        except TimingImportError as error:
            raise CommandError(str(error)) from None
        prefix = "Dry run, nothing written. " if dry_run else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{prefix}{mapping.matched_sentences} of {len(mapping.timings)} sentences timed "
                f"({mapping.matched_words} of {mapping.total_words} words matched). {plan.summary()}"
            )
        )
        for change in plan.changed:
            self.stdout.write(f"§{change.position}: {change.label.lower()} ({change.before} → {change.after})")
