"""
Restore the database from a file written by `manage.py backup`. Everything
in the database is replaced: stop the site first, and keep the backup.
"""

from django.core.management.base import BaseCommand, CommandError

from companion.backups import BackupError, restore


class Command(BaseCommand):
    help = "Replace the database's contents with a backup made by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file.")
        parser.add_argument("--yes", action="store_true", help="Don't ask for confirmation.")

    def handle(self, *args, path, yes, **options):
        if not yes and input(f"Replace the whole database with {path}? [y/N] ").strip().lower() != "y":
            raise CommandError("Nothing restored.")
        try:
            restore(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Restored from {path}."))
