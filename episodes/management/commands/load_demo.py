"""
Load the demo episode (138, "The Great Purges") with its glossary, people
and sources from the YAML files in episodes/demo/. Safe to run again: it
updates by slug and never duplicates.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from episodes.demo import DemoContentError, load_demo, narrate
from episodes.transcripts import TranscriptError
from episodes.models import Citation, Mention, Person, Source, Term


class Command(BaseCommand):
    help = "Load or refresh the demo episode, glossary, people and sources."

    def add_arguments(self, parser):
        parser.add_argument(
            "--directory",
            default=settings.DEMO_CONTENT_DIR,
            help="Where the demo YAML files live (default: episodes/demo).",
        )
        parser.add_argument(
            "--no-narration",
            action="store_true",
            help="Skip the synthetic narration (generated once, then cached in MEDIA_ROOT).",
        )

    def handle(self, *args, directory, no_narration, **options):
        try:
            episode = load_demo(directory)
        except (DemoContentError, TranscriptError) as error:
            raise CommandError(str(error)) from None
        if not no_narration:
            self.stdout.write(f"Narration: {narrate(episode)}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded episode {episode}: {episode.sentences.count()} sentences, "
                f"{Term.objects.count()} terms, {Person.objects.count()} people, "
                f"{Source.objects.count()} sources, {Citation.objects.count()} citations, "
                f"{Mention.objects.visible().count()} mentions."
            )
        )
