import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.verify import verify


def _load_digest(value: str) -> dict[str, Any]:
    """The digest as printed by `ledger_digest`: the JSON itself, or a file holding it."""
    text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
    try:
        digest = json.loads(text)
        return {"seq": int(digest["seq"]), "hash": str(digest["hash"])}
    except (ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"--digest: not a ledger digest ({exc})") from exc


class Command(BaseCommand):
    help = (
        "Recompute every case chain and the checkpoint chain, check each case against the replay of its "
        "events, and name the first broken link. Exits 1 if anything is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the report as one JSON object.")
        parser.add_argument("--limit", type=int, default=50, help="List at most this many problems (default 50).")
        parser.add_argument(
            "--digest",
            help="A digest exported earlier by ledger_digest (its JSON, or a file holding it): the checkpoint "
            "it names must still carry its hash.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        digest = _load_digest(options["digest"]) if options["digest"] else None
        report = verify(limit_problems=options["limit"], digest=digest)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            counts = f"{report.cases} cases, {report.events} events, {report.checkpoints} checkpoints"
            if report.ok:
                self.stdout.write(self.style.SUCCESS(f"Ledger intact: {counts}."))
            else:
                total = len(report.problems) + report.more_problems
                self.stdout.write(self.style.ERROR(f"Ledger BROKEN: {total} problem(s) in {counts}."))
                self.stdout.write(f"First broken: {report.first_broken}")
                for problem in report.problems:
                    self.stdout.write(f"  - {problem}")
                if report.more_problems:
                    self.stdout.write(f"  … and {report.more_problems} more")
        if not report.ok:
            # CommandError makes `complaintdesk verify_ledger` exit with status 1 (after its output).
            raise CommandError("the ledger does not verify", returncode=1)
