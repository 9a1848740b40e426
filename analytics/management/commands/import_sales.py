"""complaintdesk import_sales PATH [--dry-run] [--json]

Loads sales volume (orders, revenue) from a CSV or XLSX file (analytics.sales_import; the format from
the file's extension). Prints a summary (created, updated, unchanged, errors) and every refused row
with its row number, file line, field and reason. Exit status 0 when the import ran, bad rows or not;
2 when the file cannot be read at all (nothing is imported)."""

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics import sales_import


class Command(BaseCommand):
    help = "Import sales volume (orders and revenue per day or month, org unit and product) from CSV or XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="validate and count; write nothing")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            with path.open("rb") as raw:
                fmt = sales_import.detect_format(path.name, raw.read(4))
                raw.seek(0)
                result = sales_import.import_file(raw, fmt=fmt, source=path.name, dry_run=options["dry_run"])
        except OSError as exc:
            self._fatal(str(exc))
        except sales_import.ImportRefused as exc:
            self._fatal(str(exc))
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2, default=str))
            return
        self.stdout.write(
            f"{path.name}: rows {result.rows}, created {result.created}, updated {result.updated}, "
            f"unchanged {result.unchanged}, errors {result.refused}"
            + (" (dry run: nothing saved)" if result.dry_run else "")
        )
        if result.ignored_columns:
            self.stdout.write("ignored columns: " + ", ".join(result.ignored_columns))
        for row, line, field, reason, value in result.errors:
            shown = f' value "{value}"' if value else ""
            self.stdout.write(f"row {row} (line {line}) {field or '-'}: {reason}{shown}")

    def _fatal(self, message: str) -> None:
        self.stderr.write(f"import_sales: {message}")
        sys.exit(2)
