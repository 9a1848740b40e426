import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from privacy.retention import as_of_day, plan, run

FORMATS = ("text", "json")


def _as_of(value: str | None, dry_run: bool) -> Any:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError as exc:
        raise CommandError(f"--as-of: not a date: {value!r} (expected YYYY-MM-DD)") from exc
    if not dry_run and day > timezone.localdate():
        raise CommandError(
            f"--as-of: {day.isoformat()} is in the future; a real run never anonymises ahead of time "
            "(use --dry-run to see what will be due then)"
        )
    return as_of_day(day)


def _limit(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        limit = int(value)
    except ValueError as exc:
        raise CommandError(f"--limit: not a whole number: {value!r}") from exc
    if limit < 1:
        raise CommandError(f"--limit: must be at least 1 (got {limit})")
    return limit


class Command(BaseCommand):
    help = (
        "Anonymise what has outlived COMPLAINTDESK_PERSONAL_DATA_RETENTION_DAYS: finished cases ended longer "
        "ago than that, and people none of whose cases, orders or services is that recent; legal holds keep "
        "what they hold. With --dry-run, list what would be anonymised and what a legal hold keeps, and "
        "change nothing. A real run writes one erase_personal event per case and one retention_run record."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List what would be anonymised; change nothing.")
        parser.add_argument(
            "--as-of",
            metavar="DATE",
            help="Measure retention from the start of this day (YYYY-MM-DD, the organisation's time zone) "
            "instead of now. A real run accepts no future day.",
        )
        parser.add_argument(
            "--limit",
            metavar="N",
            help="Dry run: list at most N of each list (the counts are complete). Real run: anonymise at most "
            "N people or cases (a person with all their cases counts as one); run again for the rest.",
        )
        parser.add_argument("--format", default="text", help="text (default) or json.")

    def handle(self, *args: Any, **options: Any) -> None:
        fmt = (options["format"] or "").strip().lower()
        if fmt not in FORMATS:
            raise CommandError(f"--format: {options['format']!r} is not one of: {', '.join(FORMATS)}")
        dry_run = bool(options["dry_run"])
        as_of = _as_of(options["as_of"], dry_run)
        limit = _limit(options["limit"])
        if dry_run:
            result = plan(as_of, limit)
            if fmt == "json":
                self.stdout.write(json.dumps({"dry_run": True, **result.as_dict()}, ensure_ascii=False, indent=2))
            else:
                self._text_plan(result.as_dict())
            return
        outcome = run(as_of=as_of, limit=limit, trigger="command")
        row = outcome.run
        report = {
            "dry_run": False,
            "run": str(row.id),
            "seq": row.seq,
            "as_of": row.as_of.isoformat(),
            "retention_days": row.retention_days,
            "counts": outcome.counts,
        }
        if fmt == "json":
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        counts = outcome.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"Retention run {row.seq} ({row.id}) as of {row.as_of.isoformat()}, {row.retention_days} days: "
                f"{counts['customers']} people and {counts['cases']} cases anonymised, "
                f"{counts['keys_shredded']} keys destroyed; {counts['held']} cases kept by a legal hold."
            )
        )
        remaining = counts["remaining"]
        if remaining["customers"] or remaining["cases"]:
            self.stdout.write(
                f"Still due (the --limit was reached): {remaining['customers']} people, {remaining['cases']} "
                "cases. Run again to continue."
            )

    def _text_plan(self, data: dict[str, Any]) -> None:
        write = self.stdout.write
        counts = data["counts"]
        write(
            f"Dry run: nothing is changed. As of {data['as_of']}, retention {data['retention_days']} days "
            f"(ended on or before {data['cutoff_on']})."
        )
        write(f"People to anonymise: {counts['customers']}")
        for row in data["customers"]:
            write(
                f"  customer {row['customer_id']}: {row['cases']} cases, last activity {row['last_activity_on']}, "
                f"retention until {row['retention_until']}"
            )
        write(f"Cases to anonymise: {counts['cases']}")
        for row in data["cases"]:
            person = f", customer {row['customer_id']}" if row["customer_id"] else ""
            write(
                f"  {row['tracking_no']} ({row['status']}{person}): ended {row['ended_on']}, "
                f"retention until {row['retention_until']}"
            )
        write(f"Cases kept only by a legal hold: {counts['held']}")
        for row in data["held"]:
            holds = ", ".join(f"{h['hold']} {h['tracking_no']}" for h in row["held_by"])
            write(f"  {row['tracking_no']} ({row['status']}): ended {row['ended_on']}; held by {holds}")
        shown = max(len(data["customers"]), len(data["cases"]), len(data["held"]))
        if shown < max(counts.values()):
            write("(lists cut at --limit; the counts are complete)")
