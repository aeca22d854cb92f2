"""
Back up the database: `manage.py backup var/backups/companion.sqlite3`
(SQLite's online backup API, safe while the site runs) or, on PostgreSQL,
`manage.py backup companion.dump` (pg_dump's custom format).
"""

from django.core.management.base import BaseCommand, CommandError

from companion.backups import BackupError, backup


class Command(BaseCommand):
    help = "Write a consistent backup of the whole database to a file."

    def add_arguments(self, parser):
        parser.add_argument("path", help="Where to write the backup.")

    def handle(self, *args, path, **options):
        try:
            written = backup(path)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Backed up to {written} ({written.stat().st_size:,} bytes)."))
