import json
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.verify import verify


def _load_digest(value: str) -> dict[str, Any]:
    """The digest as `ledger_digest` prints or exports it: the JSON itself, or a file holding it."""
    if value.lstrip().startswith("{"):
        text = value
    else:
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"--against: cannot read {value} ({exc.strerror or exc})") from exc
    try:
        digest = json.loads(text)
        loaded: dict[str, Any] = {"seq": int(digest["seq"]), "hash": str(digest["hash"])}
        if digest.get("events") is not None:
            loaded["events"] = int(digest["events"])
        if digest.get("side_chains") is not None:
            loaded["side_chains"] = {str(name): head for name, head in dict(digest["side_chains"]).items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"--against: not a ledger digest ({exc})") from exc
    if loaded["seq"] < 0 or not re.fullmatch(r"[0-9a-f]{64}", loaded["hash"]):
        raise CommandError("--against: not a ledger digest (seq must be ≥ 0 and hash 64 hex digits)")
    return loaded


class Command(BaseCommand):
    help = (
        "Recompute every case chain and the checkpoint chain, check each case against the replay of its "
        "events, and name the first broken link. With --against DIGEST, also prove that the ledger still "
        "extends a digest kept outside the system. Exits 1 if anything is broken."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the report as one JSON object.")
        parser.add_argument("--limit", type=int, default=50, help="List at most this many problems (default 50).")
        parser.add_argument(
            "--against",
            "--digest",
            dest="against",
            metavar="DIGEST",
            help="A digest exported earlier by ledger_digest (a file, or its JSON): the checkpoint it names must "
            "still be at its position with its hash, every later link must recompute, and the ledger must hold at "
            "least the events it counted.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        digest = _load_digest(options["against"]) if options["against"] else None
        report = verify(limit_problems=options["limit"], digest=digest)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            counts = f"{report.cases} cases, {report.events} events, {report.checkpoints} checkpoints"
            if report.ok:
                self.stdout.write(self.style.SUCCESS(f"Ledger intact: {counts}."))
                if digest is not None:
                    counted = f", {digest['events']} events" if "events" in digest else ""
                    self.stdout.write(
                        f"It extends the digest of checkpoint {digest['seq']} ({digest['hash'][:12]}…{counted})."
                    )
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
