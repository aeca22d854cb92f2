"""
List, for every glossary term and person, which of its names and aliases
match in which episodes and how often, and flag those that match nowhere,
so an editor sees aliases that never link (a misspelling, a wording the
episodes don't use) beside those that link a lot.

The counts come from running the linker over the episodes' sentences now
(see episodes.linking.alias_report for why), so they are what a relink
would store. Reads only; safe to run at any time.
"""

from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from episodes.linking import alias_report

# Episodes named on one alias's line before the rest are summed up.
EPISODES_SHOWN = 10


class Command(BaseCommand):
    help = "Show which names and aliases of each term and person match where, and which never match."

    def add_arguments(self, parser):
        parser.add_argument(
            "--unmatched",
            action="store_true",
            help="Only the names and aliases that match in no episode.",
        )

    def handle(self, *args, unmatched, **options):
        report = alias_report()
        never = sum(not alias.total for entry in report for alias in entry.aliases)
        for entry in report:
            aliases = [alias for alias in entry.aliases if not (unmatched and alias.total)]
            if not aliases:
                continue
            self.stdout.write(
                f"{entry.entry.name} ({entry.entry.kind} {entry.entry.slug}): "
                f"{entry.total} mention{pluralize(entry.total)}"
            )
            width = max(len(alias.alias) for alias in aliases)
            for alias in aliases:
                self.stdout.write(f"    {alias.alias:<{width}}  {self.where(alias)}",
                                  style_func=None if alias.total else self.style.WARNING)
        total = sum(len(entry.aliases) for entry in report)
        silent = sum(not entry.total for entry in report)
        self.stdout.write(
            f"{never} of {total} names and aliases never match; "
            f"{silent} of {len(report)} entries are never linked."
        )

    @staticmethod
    def where(alias):
        if not alias.total:
            return "never matches"
        shown = [f"{slug} {count}" for slug, count in list(alias.episodes.items())[:EPISODES_SHOWN]]
        episodes = len(alias.episodes)
        more = episodes - len(shown)
        return f"{alias.total} in {episodes} episode{pluralize(episodes)}: {', '.join(shown)}" + (
            f" and {more} more" if more else ""
        )
