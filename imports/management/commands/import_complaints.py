"""complaintdesk import_complaints PATH --format csv|xlsx|jsonl|cfpb [--mapping FILE] [--dry-run]

A progress bar on stderr, a JSON summary on stdout. Exit status 0 when the import ran, bad rows or
not (they are in the summary and in --errors FILE); 2 for a fatal problem (unreadable file, bad
mapping), after which nothing more is read (batches committed before it stay)."""

import json
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from complaints.ledgering import Actor
from imports.service import BATCH_SIZE, FORMATS, CsvErrorReport, ImportFailed, Summary, run_import


class Command(BaseCommand):
    help = "Import complaints from a CSV, XLSX, JSON Lines or CFPB file (idempotent by source id)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--mapping", help="JSON mapping file (csv, xlsx, jsonl)")
        parser.add_argument("--source", default="", help="source system name, the idempotency key with the id")
        parser.add_argument("--dry-run", action="store_true", help="validate and count; write nothing")
        parser.add_argument("--errors", help="write the error report (CSV) to this file")
        parser.add_argument("--user", help="staff user recorded as the importer in the ledger (default: system)")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        mapping = None
        if options["mapping"]:
            try:
                mapping = json.loads(Path(options["mapping"]).read_text("utf-8-sig"))
            except (OSError, ValueError) as exc:
                self._fatal(f"mapping file: {exc}")
        actor = Actor.system()
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no such user: {options['user']}")
            actor = Actor.staff(user)
        report_file = None
        try:
            raw = path.open("rb")
        except OSError as exc:
            self._fatal(str(exc))
        try:
            errors = None
            if options["errors"]:
                report_file = open(options["errors"], "w", encoding="utf-8", newline="")
                errors = CsvErrorReport(report_file)
            bar = self._bar(options["no_progress"])
            try:
                summary = run_import(
                    raw,
                    fmt=options["format"],
                    mapping=mapping,
                    source=options["source"],
                    dry_run=options["dry_run"],
                    actor=actor,
                    errors=errors,
                    on_progress=bar.update if bar else None,
                    batch_size=max(1, options["batch_size"]),
                )
            except ImportFailed as exc:
                if bar:
                    bar.close()
                self._fatal(str(exc), exc.summary)
            if bar:
                bar.close()
        finally:
            raw.close()
            if report_file is not None:
                report_file.close()
        self.stdout.write(json.dumps(_public(summary), ensure_ascii=False))

    def _fatal(self, message: str, summary: Summary | None = None) -> None:
        self.stderr.write(f"import_complaints: {message}")
        done = {} if summary is None else _public(summary)
        self.stdout.write(json.dumps({"fatal": message, **done}, ensure_ascii=False))
        sys.exit(2)

    def _bar(self, off: bool) -> "_Bar | None":
        if off:
            return None
        return _Bar(getattr(self.stderr, "_out", sys.stderr))


def _public(summary: Summary) -> dict[str, Any]:
    out = summary.as_dict()
    for name in ("done_units", "total_units"):
        out.pop(name)
    return out


class _Bar:
    """tqdm on stderr, advanced by the position in the file (bytes; rows of a sheet for XLSX)."""

    def __init__(self, stream: Any) -> None:
        from tqdm import tqdm

        self.bar = tqdm(desc="import", total=0, unit="B", unit_scale=True, file=stream, mininterval=0.5)

    def update(self, summary: Summary) -> None:
        if summary.total_units and self.bar.total != summary.total_units:
            self.bar.total = summary.total_units
            if not summary.encoding:  # a sheet: progress in rows
                self.bar.unit, self.bar.unit_scale = "rows", False
        self.bar.update(max(0, summary.done_units - self.bar.n))
        self.bar.set_postfix(
            rows=summary.rows,
            created=summary.created,
            skipped=summary.skipped_existing,
            errors=summary.errors,
            refresh=False,
        )

    def close(self) -> None:
        self.bar.close()
