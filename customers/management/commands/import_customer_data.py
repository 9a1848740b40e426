"""complaintdesk import_customer_data PATH --kind orders|service --format csv|xlsx [--dry-run] [--errors FILE]

A JSON summary on stdout; refused rows (row number, file line, field, reason) in the summary and, with
--errors, as a CSV report (cells neutralised for spreadsheets). Exit status 0 when the import ran,
bad rows or not; 2 when the file cannot be read at all (nothing is imported)."""

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from customers import importer
from customers.choices import ImportKind


class Command(BaseCommand):
    help = "Import customers' orders or service records from CSV or XLSX (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--kind", required=True, choices=ImportKind.values)
        parser.add_argument("--format", required=True, choices=importer.FORMATS)
        parser.add_argument("--dry-run", action="store_true", help="validate and count; write nothing")
        parser.add_argument("--errors", help="write the error report (CSV) to this file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            with path.open("rb") as raw:
                result = importer.import_file(
                    raw, kind=options["kind"], fmt=options["format"], source=path.name, dry_run=options["dry_run"]
                )
        except OSError as exc:
            self._fatal(str(exc))
        except importer.ImportRefused as exc:
            self._fatal(str(exc))
        importer.record_run(result, kind=options["kind"], filename=path.name, dry_run=options["dry_run"])
        if options["errors"]:
            Path(options["errors"]).write_text(importer.error_report(result.errors), encoding="utf-8")
        summary = {
            "rows": result.rows,
            "created": result.created,
            "unchanged": result.unchanged,
            "refused": result.refused,
            "customers_created": result.customers_created,
            "encoding": result.encoding,
            "dry_run": options["dry_run"],
            "errors": [dict(zip(importer.REPORT_HEADER, e, strict=True)) for e in result.errors[:100]],
        }
        self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))

    def _fatal(self, message: str) -> None:
        self.stderr.write(f"import_customer_data: {message}")
        sys.exit(2)
