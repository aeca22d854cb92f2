"""
Relink mentions of terms and people in every episode (or the ones named),
keeping editors' added and suppressed mentions, and re-render transcripts.
"""

from django.core.management.base import BaseCommand

from episodes.linking import relink_all
from episodes.models import Episode


class Command(BaseCommand):
    help = "Recompute term and person mentions and re-render transcripts."

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Episode slugs (default: all).")

    def handle(self, *args, slugs, **options):
        episodes = Episode.objects.filter(slug__in=slugs) if slugs else Episode.objects.all()
        for slug, count in relink_all(episodes).items():
            self.stdout.write(f"{slug}: {count} mentions")
