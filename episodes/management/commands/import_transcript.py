"""
Import a plain-text transcript into an episode.

    manage.py import_transcript 138-the-great-purges transcript.txt [--dry-run]

Sentences whose text is unchanged keep their citations, timings and mention
overrides; the rest are replaced, all in one transaction. Any problem with
the file stops the import before the database is touched. --dry-run prints
what would happen to each sentence that changes, and writes nothing.
"""

from django.core.management.base import BaseCommand, CommandError

from episodes.models import Episode
from episodes.transcripts import TranscriptError, import_transcript, plan_transcript, read_transcript


class Command(BaseCommand):
    help = "Import a plain-text transcript into an episode, replacing its sentences."

    def add_arguments(self, parser):
        parser.add_argument("episode", help="The episode's slug, e.g. 138-the-great-purges.")
        parser.add_argument("file", help="A UTF-8 plain-text file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change, sentence by sentence; write nothing."
        )

    def handle(self, *args, episode, file, dry_run, **options):
        try:
            target = Episode.objects.get(slug=episode)
        except Episode.DoesNotExist:
            known = ", ".join(Episode.objects.values_list("slug", flat=True)[:10]) or "none yet"
            raise CommandError(f"No episode with slug {episode!r} (known: {known}).") from None
        try:
            text = read_transcript(file)
            if dry_run:
                report = plan_transcript(target, text)
            else:
                report = import_transcript(target, text)
        except TranscriptError as error:
            raise CommandError(str(error)) from None
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(f"{target}: {report}"))
            return
        self.stdout.write(f"Dry run, nothing written. {report.summary()}")
        for change in report.changes:
            if change.outcome != "unchanged":
                self.stdout.write(f"  {describe(change)}")
        for line in report.attached:
            self.stdout.write(f"  {str(line)[:1].upper()}{str(line)[1:]}.")


def describe(change):
    """One line per sentence: '§3 edited, keeps 5.80 s: Nobody felt [-moraly-] {+morally+} safe.'"""
    if change.outcome == "removed":
        timing = "had no time" if change.start is None else f"had {change.start:.2f} s"
        had = f"; had {', '.join(change.attached)}" if change.attached else ""
        return f"was §{change.old_position} removed ({timing}{had}): {change.old_text}"
    if change.outcome == "added":
        return f"§{change.position} added: {change.new_text}"
    if change.timed:
        timing = f"keeps {change.start:.2f} s"
    else:
        timing = "had no time" if change.start is None else f"loses {change.start:.2f} s"
    words = " ".join(
        {"del": f"[-{text}-]", "ins": f"{{+{text}+}}"}.get(op, text) for op, text in change.diff
    )
    had = f"; had {', '.join(change.attached)}" if change.attached else ""
    return f"§{change.position} edited from §{change.old_position} ({timing}{had}): {words}"
