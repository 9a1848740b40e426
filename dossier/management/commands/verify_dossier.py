import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dossier.verify import render, verify


class Command(BaseCommand):
    help = (
        "Verify a case dossier (the ZIP or its unzipped folder) as its own verify.py does: file hashes, the case's "
        "ledger chain and the checkpoint that seals it. Exits 1 if anything is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument(
            "--digest", help="A ledger digest kept outside the system (its JSON, or a file holding it)."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as one JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        digest = None
        if options["digest"]:
            text = options["digest"]
            if not text.lstrip().startswith("{"):
                text = Path(text).read_text(encoding="utf-8")
            try:
                digest = json.loads(text)
            except ValueError as exc:
                raise CommandError(f"--digest: not JSON ({exc})") from exc
        report = verify(options["path"], digest)
        if options["json"]:
            fields = ("ok", "problems", "notes", "files", "events", "evidence", "checkpoint_seq", "sealed_seq")
            self.stdout.write(json.dumps({k: getattr(report, k) for k in fields}, ensure_ascii=False))
        elif report.ok:
            self.stdout.write(self.style.SUCCESS(render(report)))
        else:
            self.stdout.write(self.style.ERROR(render(report)))
        if not report.ok:
            raise CommandError("the dossier does not verify", returncode=1)
