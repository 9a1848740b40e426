#!/usr/bin/env python3
"""Verify a ComplaintDesk case dossier offline. Python 3.9+ standard library only: this very file is
copied into every dossier as verify.py, and `complaintdesk verify_dossier` imports it.

    python3 verify.py dossier.zip           # the ZIP as downloaded
    python3 verify.py                       # inside the unzipped folder (next to manifest.json)
    python3 verify.py dossier.zip --digest '{"seq": 812, "hash": "…"}'

Checks, naming the first thing that is broken:
  1. every file listed in manifest.json has the SHA-256 the manifest gives, and no file is unlisted;
  2. every evidence file hashes to the SHA-256 in its name and in evidence.json, and that hash is the
     one an add_evidence event of the case's ledger chain recorded;
  3. the case's ledger chain (ledger/events.json): seqs 1..n in order, each event links to the hash of
     the one before, and each event's hash recomputes (SHA-256 of its canonical JSON);
  4. the checkpoint (ledger/checkpoint.json) recomputes, and the case head it seals is the hash of
     that event in the chain; with --digest, a digest kept outside the system names that checkpoint.
Exit status 0 when everything verifies, 1 otherwise."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zipfile
from dataclasses import dataclass, field
from typing import Any

FORMAT = "complaintdesk-dossier/1"
GENESIS = "0" * 64
MANIFEST = "manifest.json"
# Files that describe the others and so cannot be listed in the manifest themselves.
UNLISTED = {MANIFEST, "SHA256SUMS"}


@dataclass
class Report:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    events: int = 0
    evidence: int = 0
    checkpoint_seq: int | None = None
    sealed_seq: int | None = None
    tracking_no: str = ""

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)

    @property
    def first_broken(self) -> str | None:
        return self.problems[0] if self.problems else None


def canonical(payload: Any) -> bytes:
    """As ledger.chain.canonical: sorted keys, no spaces, UTF-8 (not ASCII escapes)."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(case_id: int, event: dict[str, Any]) -> str:
    """As ledger.chain.event_hash."""
    payload = {
        "v": 1,
        "case": case_id,
        "seq": event["seq"],
        "action": event["action"],
        "actor": event["actor"],
        "actor_label": event["actor_label"],
        "changes": event["changes"],
        "data": event["data"],
        "at": event["at"],
        "prev": event["prev_hash"],
    }
    return hashlib.sha256(canonical(payload)).hexdigest()


def checkpoint_hash(cp: dict[str, Any]) -> str:
    """As ledger.chain.checkpoint_hash."""
    payload = {
        "v": 1,
        "seq": cp["seq"],
        "at": cp["at"],
        "last_event_id": cp["last_event_id"],
        "heads": cp["heads"],
        "prev": cp["prev_hash"],
    }
    return hashlib.sha256(canonical(payload)).hexdigest()


def _short(digest: Any) -> str:
    text = str(digest)
    return text[:12] + "…" if len(text) > 12 else text


class _Source:
    """The dossier's files, from the ZIP or from the unzipped folder."""

    def __init__(self, path: str) -> None:
        self.zip: zipfile.ZipFile | None = None
        self.root = ""
        if os.path.isdir(path):
            self.root = path
        else:
            self.zip = zipfile.ZipFile(path)

    def names(self) -> list[str]:
        if self.zip is not None:
            return [n for n in self.zip.namelist() if not n.endswith("/")]
        found = []
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                full = os.path.join(folder, name)
                found.append(os.path.relpath(full, self.root).replace(os.sep, "/"))
        return found

    def has(self, name: str) -> bool:
        if self.zip is not None:
            try:
                self.zip.getinfo(name)
                return True
            except KeyError:
                return False
        return os.path.isfile(os.path.join(self.root, *name.split("/")))

    def sha256(self, name: str) -> str:
        hasher = hashlib.sha256()
        if self.zip is not None:
            with self.zip.open(name) as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    hasher.update(chunk)
        else:
            with open(os.path.join(self.root, *name.split("/")), "rb") as stream:
                for chunk in iter(lambda: stream.read(1 << 20), b""):
                    hasher.update(chunk)
        return hasher.hexdigest()

    def read(self, name: str) -> bytes:
        if self.zip is not None:
            return self.zip.read(name)
        with open(os.path.join(self.root, *name.split("/")), "rb") as stream:
            return stream.read()

    def json(self, name: str) -> Any:
        return json.loads(self.read(name).decode("utf-8"))

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _check_files(source: _Source, manifest: dict[str, Any], report: Report) -> dict[str, str]:
    """Manifest against content; returns the actual hash of every listed file that exists."""
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        report.fail("manifest.json: no file list")
        return {}
    actual: dict[str, str] = {}
    for name in sorted(listed):
        entry = listed[name]
        expected = entry.get("sha256") if isinstance(entry, dict) else entry
        if not source.has(name):
            report.fail(f"{name}: listed in the manifest but missing")
            continue
        actual[name] = source.sha256(name)
        report.files += 1
        if actual[name] != expected:
            report.fail(f"{name}: content changed (manifest {_short(expected)}, file {_short(actual[name])})")
    for name in sorted(set(source.names()) - set(listed) - UNLISTED):
        report.fail(f"{name}: not listed in the manifest (added after export)")
    return actual


def _check_chain(case_id: Any, events: Any, report: Report) -> list[dict[str, Any]]:
    if not isinstance(case_id, int) or not isinstance(events, list):
        report.fail("ledger/events.json: malformed (no case id or no event list)")
        return []
    prev = GENESIS
    for position, event in enumerate(events, start=1):
        report.events += 1
        try:
            seq, action, stored = event["seq"], event["action"], event["hash"]
            recomputed = event_hash(case_id, event)
        except (KeyError, TypeError):
            report.fail(f"ledger event at position {position}: malformed")
            return []
        where = f"ledger event {seq} ({action})"
        if seq != position:
            report.fail(f"ledger events out of order or missing: position {position} holds event {seq}")
        elif event["prev_hash"] != prev:
            to = "genesis" if position == 1 else f"event {position - 1} ({_short(prev)})"
            report.fail(f"{where}: does not link to {to}; its prev_hash is {_short(event['prev_hash'])}")
        if recomputed != stored:
            report.fail(f"{where}: hash mismatch (stored {_short(stored)}, recomputed {_short(recomputed)})")
        prev = stored
    return events


def _check_checkpoint(case_id: Any, events: list[dict[str, Any]], proof: Any, digest: Any, report: Report) -> None:
    if not isinstance(proof, dict):
        report.fail("ledger/checkpoint.json: malformed")
        return
    cp = proof.get("checkpoint")
    if cp is None:
        report.notes.append(
            "no checkpoint seals this case's chain yet: the chain verifies on its own, but nothing outside it "
            "vouches for its head (export again after the next checkpoint)"
        )
        return
    try:
        recomputed = checkpoint_hash(cp)
        seq = cp["seq"]
    except (KeyError, TypeError):
        report.fail("ledger/checkpoint.json: malformed checkpoint")
        return
    report.checkpoint_seq = seq
    if recomputed != cp.get("hash"):
        report.fail(
            f"checkpoint {seq}: hash mismatch (stored {_short(cp.get('hash'))}, recomputed {_short(recomputed)})"
        )
    heads = [h for h in cp.get("heads", []) if isinstance(h, list) and len(h) == 3 and h[0] == case_id]
    if not heads:
        report.fail(f"checkpoint {seq}: does not name this case's chain (case {case_id})")
        return
    _case, sealed_seq, sealed_hash = heads[0]
    report.sealed_seq = sealed_seq
    if not isinstance(sealed_seq, int) or not 1 <= sealed_seq <= len(events):
        report.fail(f"checkpoint {seq}: seals event {sealed_seq}, which is not in ledger/events.json")
    elif events[sealed_seq - 1].get("hash") != sealed_hash:
        report.fail(
            f"checkpoint {seq}: sealed event {sealed_seq} has hash {_short(sealed_hash)}, "
            f"the chain gives {_short(events[sealed_seq - 1].get('hash'))}"
        )
    if isinstance(sealed_seq, int) and sealed_seq < len(events):
        report.notes.append(f"events {sealed_seq + 1}–{len(events)} are newer than checkpoint {seq} (not sealed yet)")
    if digest is not None:
        if int(digest.get("seq", -1)) == seq:
            if digest.get("hash") != cp.get("hash"):
                report.fail(
                    f"checkpoint {seq}: differs from the digest kept outside (digest {_short(digest.get('hash'))})"
                )
            else:
                report.notes.append(f"checkpoint {seq} equals the digest kept outside the system")
        else:
            # Fail closed: a dossier re-chained and re-sealed by a forger is self-consistent; only the digest
            # kept outside ties it to the real ledger, and a digest of another checkpoint cannot (offline).
            report.fail(
                f"the digest names checkpoint {digest.get('seq')}, the dossier checkpoint {seq}: they cannot be "
                "compared offline; use the digest of that checkpoint, or `complaintdesk verify_dossier` on the system"
            )


def _check_evidence(
    source: _Source, items: Any, events: list[dict[str, Any]], actual: dict[str, str], report: Report
) -> None:
    if not isinstance(items, list):
        report.fail("evidence.json: malformed")
        return
    recorded = {
        (e.get("data", {}).get("evidence_id"), e.get("data", {}).get("sha256"))
        for e in events
        if e.get("action") == "add_evidence" and isinstance(e.get("data"), dict)
    }
    for item in items:
        sha, path, item_id = item.get("sha256"), item.get("path"), item.get("id")
        label = path or f"evidence item {item_id}"
        if (item_id, sha) not in recorded:
            report.fail(f"{label}: no add_evidence event in the chain records item {item_id} with hash {_short(sha)}")
        if item.get("status") != "included":
            report.notes.append(
                f"evidence item {item_id} ({_short(sha)}): {item.get('status')}, file not in the dossier"
            )
            continue
        report.evidence += 1
        if not path or not source.has(path):
            report.fail(f"{label}: evidence file missing")
            continue
        digest = actual.get(path) or source.sha256(path)
        if digest != sha or not os.path.basename(path).startswith(f"{sha}-"):
            report.fail(
                f"{label}: evidence file does not match its hash (recorded {_short(sha)}, file {_short(digest)})"
            )


def verify(path: str, digest: dict[str, Any] | None = None) -> Report:
    """Verify the dossier at `path` (a ZIP or an unzipped folder)."""
    report = Report()
    try:
        source = _Source(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.fail(f"{path}: cannot be read as a dossier ({exc})")
        return report
    try:
        _check_names(source, report)
        if not source.has(MANIFEST):
            report.fail("manifest.json: missing")
            return report
        manifest = source.json(MANIFEST)
        if manifest.get("format") != FORMAT:
            report.fail(f"manifest.json: unknown format {manifest.get('format')!r}")
            return report
        report.tracking_no = str(manifest.get("tracking_no", ""))
        actual = _check_files(source, manifest, report)
        chain = source.json("ledger/events.json") if source.has("ledger/events.json") else {}
        case_id = chain.get("case")
        if case_id != manifest.get("case"):
            report.fail("ledger/events.json: belongs to another case than the manifest")
        events = _check_chain(case_id, chain.get("events"), report)
        proof = source.json("ledger/checkpoint.json") if source.has("ledger/checkpoint.json") else None
        _check_checkpoint(case_id, events, proof, digest, report)
        listing = source.json("evidence.json") if source.has("evidence.json") else {}
        if listing.get("case") != case_id:
            report.fail("evidence.json: belongs to another case than the ledger chain")
        _check_evidence(source, listing.get("items"), events, actual, report)
    except (ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
        report.fail(f"dossier malformed: {type(exc).__name__}: {exc}")
    finally:
        source.close()
    return report


def _check_names(source: _Source, report: Report) -> None:
    """A ZIP whose member names climb out of the folder, are absolute, or repeat (a reader may pick
    either copy) is refused: its contents are not what an unzip tool would show."""
    if source.zip is None:
        return
    names = [info.filename for info in source.zip.infolist()]
    for name in names:
        parts = name.replace("\\", "/").split("/")
        if name.startswith("/") or ".." in parts or (len(name) > 1 and name[1] == ":"):
            report.fail(f"{name}: unsafe name in the ZIP")
    for name in sorted({n for n in names if names.count(n) > 1}):
        report.fail(f"{name}: appears more than once in the ZIP")


def render(report: Report) -> str:
    lines = []
    if report.ok:
        sealed = (
            f", checkpoint {report.checkpoint_seq} seals event {report.sealed_seq}"
            if report.checkpoint_seq is not None
            else ", NOT sealed by a checkpoint"
        )
        lines.append(
            f"Dossier {report.tracking_no} OK: {report.files} files, {report.events} ledger events, "
            f"{report.evidence} evidence files{sealed}."
        )
    else:
        lines.append(f"Dossier {report.tracking_no} BROKEN: {len(report.problems)} problem(s).")
        lines.append(f"First broken: {report.first_broken}")
        lines.extend(f"  - {p}" for p in report.problems)
    lines.extend(f"  note: {n}" for n in report.notes)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Verify a ComplaintDesk case dossier offline.")
    parser.add_argument("path", nargs="?", help="the dossier ZIP or its unzipped folder (default: this folder)")
    parser.add_argument("--digest", help='a ledger digest kept outside the system: {"seq": N, "hash": "…"} or a file')
    args = parser.parse_args(argv)
    path = args.path or os.path.dirname(os.path.abspath(__file__))
    digest = None
    if args.digest:
        text = args.digest if args.digest.lstrip().startswith("{") else open(args.digest, encoding="utf-8").read()
        digest = json.loads(text)
    report = verify(path, digest)
    print(render(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
