import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dossier.verify import Report, _Source, render, verify


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
        parser.add_argument(
            "--offline",
            action="store_true",
            help="Do not compare with this system's ledger (what verify.py does on another machine).",
        )

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
        if not options["offline"]:
            against_system(options["path"], report)
        if options["json"]:
            fields = ("ok", "problems", "notes", "files", "events", "evidence", "checkpoint_seq", "sealed_seq")
            self.stdout.write(json.dumps({k: getattr(report, k) for k in fields}, ensure_ascii=False))
        elif report.ok:
            self.stdout.write(self.style.SUCCESS(render(report)))
        else:
            self.stdout.write(self.style.ERROR(render(report)))
        if not report.ok:
            raise CommandError("the dossier does not verify", returncode=1)


def against_system(path: str, report: Report) -> None:
    """On the system that made it, a dossier must also match the ledger itself: a forger can
    re-chain and re-seal a copy so that it verifies on its own, but not change these tables. Each
    event's hash, the checkpoint's hash, and the manifest's hash recorded by the export event."""
    import hashlib

    from complaints.models import Complaint
    from ledger.models import Checkpoint, LedgerEvent

    source = _Source(path)
    try:
        chain = source.json("ledger/events.json") if source.has("ledger/events.json") else {}
        proof = source.json("ledger/checkpoint.json") if source.has("ledger/checkpoint.json") else {}
        manifest_sha = hashlib.sha256(source.read("manifest.json")).hexdigest() if source.has("manifest.json") else ""
    except (ValueError, KeyError, OSError) as exc:
        report.fail(f"dossier malformed: {exc}")
        return
    finally:
        source.close()
    complaint = Complaint.objects.filter(pk=chain.get("case"), tracking_no=report.tracking_no).first()
    if complaint is None:
        report.fail(f"case {report.tracking_no} is not in this system's ledger")
        return
    stored = dict(LedgerEvent.objects.filter(complaint=complaint).values_list("seq", "hash"))
    for event in chain.get("events") or []:
        if stored.get(event.get("seq")) != event.get("hash"):
            report.fail(f"ledger event {event.get('seq')}: differs from this system's ledger")
    cp = (proof or {}).get("checkpoint")
    if cp is not None and not Checkpoint.objects.filter(seq=cp.get("seq"), hash=cp.get("hash")).exists():
        report.fail(f"checkpoint {cp.get('seq')}: differs from this system's checkpoints")
    exports = LedgerEvent.objects.filter(complaint=complaint, action="export_dossier").values_list("data", flat=True)
    if not any((data or {}).get("manifest_sha256") == manifest_sha for data in exports):
        report.fail("manifest.json: no export of this case recorded in the ledger has this manifest")
    if report.ok:
        report.notes.append("matches this system's ledger: every event, the checkpoint and the recorded export")
