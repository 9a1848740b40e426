"""`complaintdesk backup [--out PATH]`: the database, the evidence store and the media files in one
archive with a manifest of SHA-256 sums (core/backup.py; docs/operations.md)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import backup


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite online backup, or pg_dump -Fc), the evidence store and the media files "
        "into one tar archive with a manifest. Safe while the server and workers run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            help="archive to write (.tar, or .tar.gz to compress); default: "
            "COMPLAINTDESK_BACKUP_DIR/complaintdesk-backup-YYYYmmdd-HHMMSS.tar",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"]) if options["out"] else backup.default_path()
        verbose = options["verbosity"] > 1
        try:
            manifest = backup.create(out, progress=(lambda m: self.stderr.write(m)) if verbose else None)
        except backup.BackupError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        parts = manifest["parts"]
        evidence = sum(1 for p in parts if p["name"].startswith("evidence/"))
        media = sum(1 for p in parts if p["name"].startswith("media/"))
        digest = manifest["ledger_digest"]
        for warning in manifest["warnings"]:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        self.stdout.write(
            f"Backup of the {manifest['engine']} database, {evidence} evidence file(s) and {media} media file(s); "
            f"ledger checkpoint {digest['seq']}."
        )
        self.stdout.write(str(out.resolve()))
