"""The case dossier: built from a case with evidence, it verifies offline; every kind of tampering
(an evidence file, an event, the order of events, the checkpoint) makes it fail, naming what."""

import json
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.core.management.base import CommandError

from complaints.ledgering import Actor
from complaints.models import Complaint
from dossier import export
from dossier.verify import verify
from evidence.models import Evidence
from ledger.models import LedgerEvent
from ledger.verify import verify as verify_ledger


@pytest.fixture
def dossier(case_with_evidence, cast, tmp_path):  # type: ignore[no-untyped-def]
    built = export.build(case_with_evidence, actor=Actor.staff(cast.supervisor))
    path = export.write(built, tmp_path / "dossier.zip")
    return path


def rewrite(path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the ZIP with `change(name, bytes) -> bytes | None` applied to each member."""
    out = path.with_name("tampered.zip")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info.filename))
            if data is not None:
                dst.writestr(info.filename, data)
    return out


def test_a_fresh_dossier_verifies_offline(dossier, case_with_evidence):
    report = verify(str(dossier))
    assert report.ok, report.problems
    assert report.evidence == 2
    assert report.tracking_no == case_with_evidence.tracking_no
    assert report.checkpoint_seq is not None  # the head was sealed before the export
    assert report.sealed_seq == report.events
    with zipfile.ZipFile(dossier) as zf:
        names = set(zf.namelist())
        items = json.loads(zf.read("evidence.json"))["items"]
    for item in Evidence.objects.filter(complaint=case_with_evidence):
        assert f"evidence/{item.sha256}-{item.filename}" in names
    assert {i["status"] for i in items} == {"included"}
    assert {"dossier.pdf", "ledger/events.json", "ledger/checkpoint.json", "manifest.json", "verify.py"} <= names


def test_the_bundled_verify_py_runs_standalone_on_the_zip_and_the_folder(dossier, tmp_path):
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(dossier) as zf:
        zf.extractall(folder)
    # -I: isolated mode, nothing of the project (nor Django) is importable.
    run = subprocess.run(
        [sys.executable, "-I", str(folder / "verify.py"), str(dossier)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert " OK: " in run.stdout
    run = subprocess.run([sys.executable, "-I", "verify.py"], cwd=folder, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    (folder / "evidence" / "extra.txt").write_text("slipped in")
    run = subprocess.run([sys.executable, "-I", "verify.py"], cwd=folder, capture_output=True, text=True)
    assert run.returncode == 1
    assert "evidence/extra.txt: not listed in the manifest" in run.stdout


def test_a_tampered_evidence_file_fails_naming_it(dossier):
    def change(name: str, data: bytes) -> bytes:
        return data + b"x" if name.startswith("evidence/") and name.endswith(".png") else data

    report = verify(str(rewrite(dossier, change)))
    assert not report.ok
    assert report.first_broken.startswith("evidence/") and "content changed" in report.first_broken
    assert any("does not match its hash" in p for p in report.problems)


def test_a_tampered_evidence_file_with_a_rewritten_manifest_still_fails(dossier):
    """The manifest is not signed; the ledger chain, which names each file's hash, is what binds them."""
    import hashlib

    def change(name: str, data: bytes) -> bytes | None:
        if name.endswith(".png"):
            return data + b"x"
        if name in {"manifest.json", "SHA256SUMS"}:
            return None
        return data

    tampered = rewrite(dossier, change)
    with zipfile.ZipFile(tampered) as zf:
        files = {n: {"sha256": hashlib.sha256(zf.read(n)).hexdigest()} for n in zf.namelist()}
    with zipfile.ZipFile(dossier) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest["files"] = files
    with zipfile.ZipFile(tampered, "a") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
    report = verify(str(tampered))
    assert not report.ok
    assert "does not match its hash" in report.first_broken


def _edit_events(dossier: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    def change(name: str, data: bytes) -> bytes:
        if name != "ledger/events.json":
            return data
        chain = json.loads(data)
        edit(chain["events"])
        return json.dumps(chain, ensure_ascii=False).encode()

    return rewrite(dossier, change)


def test_a_tampered_event_fails_naming_it(dossier):
    def edit(events):  # type: ignore[no-untyped-def]
        events[1]["actor_label"] = "someone-else"

    report = verify(str(_edit_events(dossier, edit)))
    assert not report.ok
    assert "ledger/events.json: content changed" in report.problems[0]
    assert any(p.startswith("ledger event 2 (") and "hash mismatch" in p for p in report.problems)


def test_reordered_events_fail(dossier):
    def edit(events):  # type: ignore[no-untyped-def]
        events[2], events[3] = events[3], events[2]

    report = verify(str(_edit_events(dossier, edit)))
    assert not report.ok
    assert any("out of order or missing: position 3 holds event 4" in p for p in report.problems)


def test_a_rechained_tail_is_caught_by_the_checkpoint(dossier):
    """Someone rewrites the last event and recomputes its hash: the chain alone is consistent again,
    the checkpoint that sealed the old head is not."""
    from dossier.verify import event_hash

    def edit(events):  # type: ignore[no-untyped-def]
        events[-1]["actor_label"] = "forger"
        events[-1]["hash"] = event_hash(
            json.loads(zipfile.ZipFile(dossier).read("ledger/events.json"))["case"], events[-1]
        )

    report = verify(str(_edit_events(dossier, edit)))
    assert not report.ok
    assert not any("hash mismatch" in p for p in report.problems if p.startswith("ledger event"))
    assert any(p.startswith("checkpoint ") and "sealed event" in p for p in report.problems)


def test_a_tampered_checkpoint_fails_naming_it(dossier):
    def change(name: str, data: bytes) -> bytes:
        if name != "ledger/checkpoint.json":
            return data
        proof = json.loads(data)
        proof["checkpoint"]["heads"].append([999999, 1, "0" * 64])
        return json.dumps(proof).encode()

    report = verify(str(rewrite(dossier, change)))
    assert not report.ok
    assert any(p.startswith("checkpoint ") and "hash mismatch" in p for p in report.problems)


def test_a_digest_kept_outside_is_compared(dossier):
    with zipfile.ZipFile(dossier) as zf:
        cp = json.loads(zf.read("ledger/checkpoint.json"))["checkpoint"]
    assert verify(str(dossier), {"seq": cp["seq"], "hash": cp["hash"]}).ok
    report = verify(str(dossier), {"seq": cp["seq"], "hash": "f" * 64})
    assert not report.ok and "differs from the digest" in report.first_broken


def test_the_pdf_holds_the_tracking_number_chinese_text_and_the_hashes(dossier, case_with_evidence):
    from pypdf import PdfReader

    with zipfile.ZipFile(dossier) as zf:
        text = "".join(page.extract_text() for page in PdfReader(BytesIO(zf.read("dossier.pdf"))).pages)
    flat = "".join(text.split())
    assert case_with_evidence.tracking_no in flat
    assert "投诉案卷" in flat and "电热水壶" in flat and "账本证明" in flat
    for item in Evidence.objects.filter(complaint=case_with_evidence):
        assert item.sha256 in flat
    head = LedgerEvent.objects.filter(complaint=case_with_evidence).order_by("-seq").first()
    assert head.action == "export_dossier"  # recorded after the build: the dossier shows the head before it
    assert LedgerEvent.objects.get(complaint=case_with_evidence, seq=head.seq - 1).hash in flat


def test_the_export_is_a_ledger_read_that_names_the_manifest(case_with_evidence, cast):
    from complaints import actions

    with pytest.raises(PermissionDenied):  # legal/PR see a case at L3, flagged, or shared with them
        export.build(case_with_evidence, actor=Actor.staff(cast.legal))
    case = actions.share(case_with_evidence, actor=Actor.staff(cast.supervisor), user=cast.legal)
    cast.legal.__dict__.pop("_complaintdesk_principal", None)
    version = case.version
    built = export.build(case, actor=Actor.staff(cast.legal))
    event = LedgerEvent.objects.filter(complaint=case_with_evidence).order_by("-seq").first()
    assert event.action == "export_dossier" and event.actor_label == "legal"
    assert event.data["manifest_sha256"] == built.manifest_sha256
    assert Complaint.objects.get(pk=case_with_evidence.pk).version == version
    assert verify_ledger().ok


def test_deleted_evidence_is_listed_as_deleted(case_with_evidence, cast, tmp_path):
    from django.utils import timezone

    item = Evidence.objects.filter(complaint=case_with_evidence).first()
    Evidence.objects.filter(pk=item.pk).update(deleted_at=timezone.now())  # as delete_evidence leaves it
    path = export.write(export.build(case_with_evidence, actor=Actor.staff(cast.supervisor)), tmp_path)
    report = verify(str(path))
    assert report.ok, report.problems
    assert report.evidence == 1
    assert any("deleted" in n for n in report.notes)


def test_who_may_export(case_with_evidence, cast):
    for persona in ("agent", "supervisor", "manager"):
        export.build(case_with_evidence, actor=Actor.staff(getattr(cast, persona)), record=False)
    for persona in ("agent2", "handler", "analyst", "auditor", "outsider", "quality_supervisor"):
        with pytest.raises(PermissionDenied):
            export.build(case_with_evidence, actor=Actor.staff(getattr(cast, persona)), record=False)


def test_the_commands_export_and_verify(case_with_evidence, cast, tmp_path, capsys):
    out = tmp_path / "out.zip"
    call_command("export_dossier", case_with_evidence.tracking_no, "--out", str(out), "--user", "supervisor")
    call_command("verify_dossier", str(out))
    assert " OK: " in capsys.readouterr().out

    def change(name: str, data: bytes) -> bytes:
        return data.replace(b'"seq": 1', b'"seq": 7') if name == "ledger/events.json" else data

    with pytest.raises(CommandError):
        call_command("verify_dossier", str(rewrite(out, change)))
    with pytest.raises(CommandError, match="export"):
        call_command("export_dossier", case_with_evidence.tracking_no, "--out", str(out), "--user", "outsider")


def _forge_everything(dossier: Path) -> Path:
    """What a forger holding only the ZIP can do: change an event, re-chain every hash after it,
    re-seal the checkpoint and rewrite the manifest. The copy is self-consistent."""
    import hashlib

    from dossier.verify import checkpoint_hash, event_hash

    with zipfile.ZipFile(dossier) as zf:
        chain = json.loads(zf.read("ledger/events.json"))
        proof = json.loads(zf.read("ledger/checkpoint.json"))
        manifest = json.loads(zf.read("manifest.json"))
    events = chain["events"]
    events[1]["actor_label"] = "forger"
    prev = events[0]["hash"]
    for event in events[1:]:
        event["prev_hash"] = prev
        event["hash"] = prev = event_hash(chain["case"], event)
    cp = proof["checkpoint"]
    cp["heads"] = [[chain["case"], len(events), prev] if h[0] == chain["case"] else h for h in cp["heads"]]
    cp["hash"] = checkpoint_hash(cp)
    new = {"ledger/events.json": json.dumps(chain).encode(), "ledger/checkpoint.json": json.dumps(proof).encode()}

    def change(name: str, data: bytes) -> bytes | None:
        return None if name in {"manifest.json", "SHA256SUMS"} else new.get(name, data)

    forged = rewrite(dossier, change)
    with zipfile.ZipFile(forged) as zf:
        for name in zf.namelist():
            if name in manifest["files"]:
                manifest["files"][name]["sha256"] = hashlib.sha256(zf.read(name)).hexdigest()
    with zipfile.ZipFile(forged, "a") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
    return forged


def test_a_forgery_consistent_in_itself_is_caught_by_the_digest_and_by_the_system(dossier, capsys):
    with zipfile.ZipFile(dossier) as zf:
        real = json.loads(zf.read("ledger/checkpoint.json"))["checkpoint"]
    forged = _forge_everything(dossier)
    assert verify(str(forged)).ok  # offline and without a digest, nothing outside vouches for it
    report = verify(str(forged), {"seq": real["seq"], "hash": real["hash"]})
    assert not report.ok and "differs from the digest" in report.first_broken
    other = verify(str(forged), {"seq": real["seq"] + 1, "hash": real["hash"]})
    assert not other.ok and "cannot be compared offline" in other.first_broken
    with pytest.raises(CommandError):
        call_command("verify_dossier", str(forged))
    printed = capsys.readouterr().out
    assert "ledger event 2: differs from this system's ledger" in printed
    assert "differs from this system's checkpoints" in printed
    call_command("verify_dossier", str(dossier))
    assert "matches this system's ledger" in capsys.readouterr().out


def test_a_zip_with_a_repeated_or_climbing_name_is_refused(dossier):
    with zipfile.ZipFile(dossier, "a") as zf:
        zf.writestr("manifest.json", b"{}")
        zf.writestr("../outside.txt", b"x")
    report = verify(str(dossier))
    assert not report.ok
    assert any("appears more than once" in p for p in report.problems)
    assert any("unsafe name" in p for p in report.problems)
