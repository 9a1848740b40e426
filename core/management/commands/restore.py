"""`complaintdesk restore PATH [--yes]`: restore a backup made by `complaintdesk backup`, then verify
the ledger (core/backup.py; docs/operations.md). Stop the server and the workers first."""

import json
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import backup


def _load_digest(value: str) -> dict[str, Any]:
    """A digest exported by `ledger_digest`: its JSON, or a file holding it."""
    try:
        text = value if value.lstrip().startswith("{") else Path(value).read_text(encoding="utf-8")
        document = json.loads(text)
        digest: dict[str, Any] = {"seq": int(document["seq"]), "hash": str(document["hash"])}
        if document.get("events") is not None:
            digest["events"] = int(document["events"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CommandError(f"--against: not a ledger digest ({exc})", returncode=2) from exc
    if digest["seq"] < 0 or not re.fullmatch(r"[0-9a-f]{64}", digest["hash"]):
        raise CommandError("--against: not a ledger digest (seq must be >= 0, hash 64 hex digits)", returncode=2)
    return digest


class Command(BaseCommand):
    help = (
        "Restore a backup archive into the configured database and file stores, after checking every part "
        "against its manifest; then verify the ledger. Exit 2: the restore failed (refused, a damaged archive: "
        "nothing changed); exit 1: restored, but the ledger does not verify or evidence files are missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the archive written by `complaintdesk backup`")
        parser.add_argument("--yes", action="store_true", help="replace a database that is not empty")
        parser.add_argument(
            "--against",
            "--digest",
            dest="against",
            metavar="DIGEST",
            help="verify against this exported ledger digest (a file, or its JSON) instead of the one recorded at "
            "backup time",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        digest = _load_digest(options["against"]) if options["against"] else None
        verbose = options["verbosity"] > 1
        try:
            result = backup.restore(
                options["path"],
                replace=options["yes"],
                digest=digest,
                progress=(lambda m: self.stderr.write(m)) if verbose else None,
            )
        except backup.BackupError as exc:
            raise CommandError(f"restore failed: {exc}", returncode=2) from exc
        manifest = result.manifest
        self.stdout.write(
            f"Restored the {manifest['engine']} database of {manifest['created_at']}; "
            f"{len(manifest['parts'])} part(s) matched the manifest; "
            f"{result.evidence_restored} evidence and {result.media_restored} media file(s) written."
        )
        if result.pending_migrations:
            self.stdout.write(
                self.style.WARNING(
                    f"The backup predates {len(result.pending_migrations)} migration(s) of this code: "
                    "run `complaintdesk migrate`."
                )
            )
        if result.unknown_migrations:
            self.stdout.write(
                self.style.WARNING(
                    "The backup holds migrations this code does not know (it is newer): "
                    + ", ".join(result.unknown_migrations[:10])
                )
            )
        if result.evidence_missing:
            self.stdout.write(
                self.style.ERROR(
                    f"Evidence MISSING: {len(result.evidence_missing)} of {result.evidence_referenced} file(s) "
                    f"named by evidence items, e.g. {result.evidence_missing[0]}."
                )
            )
        else:
            self.stdout.write(f"Evidence complete: {result.evidence_referenced} file(s) named by evidence items.")
        report = result.ledger
        if report is None:
            self.stdout.write(self.style.ERROR(f"Ledger NOT VERIFIED: {result.ledger_error}"))
        else:
            counts = f"{report.cases} cases, {report.events} events, {report.checkpoints} checkpoints"
            against = digest or manifest.get("ledger_digest") or {}
            if int(against.get("seq") or 0) > 0:
                counts += f"; checked against the digest of checkpoint {against['seq']}"
            if report.ok:
                self.stdout.write(self.style.SUCCESS(f"Ledger intact: {counts}."))
            else:
                total = len(report.problems) + report.more_problems
                self.stdout.write(self.style.ERROR(f"Ledger BROKEN: {total} problem(s) in {counts}."))
                self.stdout.write(f"First broken: {report.first_broken}")
                for problem in report.problems:
                    self.stdout.write(f"  - {problem}")
        if not result.ok:
            raise CommandError("the restored data does not verify", returncode=1)
