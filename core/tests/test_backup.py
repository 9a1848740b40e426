"""`complaintdesk backup` / `restore` on the suite's database (SQLite or PostgreSQL): a backup taken while
complaints keep arriving restores into a fresh database with its evidence, and the ledger verifies;
a non-empty database is refused without --yes; a damaged archive is refused before anything changes;
a ledger that does not verify makes the restore exit 1.

Transactional: the backup reads committed data (another connection, or pg_dump)."""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from conftest import complaint_body, ensure_reference_data
from core import backup
from evidence import store
from evidence.actions import add_evidence
from evidence.demo_files import png
from ledger import chain
from ledger.models import LedgerEvent

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
# `complaintdesk` is manage.py; run from the checkout so that every app of the tree is importable.
COMPLAINTDESK = [sys.executable, str(ROOT / "manage.py")]


@pytest.fixture(scope="module", autouse=True)
def reference_data_kept(django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    # The flush after each transactional test empties the seeded taxonomy and regions; later tests need them.
    yield
    with django_db_blocker.unblock():
        ensure_reference_data()


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    index = tmp_path / "media" / "similarity" / "vectors.bin"
    index.parent.mkdir(parents=True)
    index.write_bytes(b"\x00similarity index\xff")
    return index


def submit(n: int) -> Complaint:
    body = complaint_body(complainant_phone=f"1380013{n:04d}", complainant_email="", order_no=f"B-{n}")
    complaint, _code = actions.submit(check_intake(IntakeData(**body), staff=False), actor=Actor.consumer())
    return complaint


def worked_case(cast: Any, n: int, photo: bytes | None = None) -> Complaint:
    complaint = submit(n)
    if photo is not None:  # sent with the complaint
        add_evidence(
            complaint,
            content=photo,
            filename="漏电照片.png",
            kind="complaint_material",
            actor=Actor.consumer(),
            via="api",
        )
    return actions.accept(complaint, actor=Actor.staff(cast.agent), priority="P2", note="已受理，三日内答复。")


def command(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        status = 0
    except CommandError as exc:
        status = exc.returncode
        err.write(str(exc))
    return status, out.getvalue(), err.getvalue()


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive if m.isfile()}  # type: ignore[union-attr]


def rewrite(source: Path, target: Path, change: dict[str, bytes | None], extra: dict[str, bytes] | None = None) -> Path:
    """A copy of the archive with members replaced (None: left out) or added."""
    with tarfile.open(source) as old, tarfile.open(target, "w") as new:
        for member in old:
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            if member.name in change:
                if change[member.name] is None:
                    continue
                data = change[member.name]  # type: ignore[assignment]
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            new.addfile(info, io.BytesIO(data))
    return target


class FreshDatabase:
    """An empty database of the suite's engine, beside the test database, for a restore to go into."""

    def __init__(self, tmp_path: Path) -> None:
        self.settings = connection.settings_dict
        if connection.vendor == "sqlite":
            self.path = tmp_path / "restored.sqlite3"
            self.url = f"sqlite:///{self.path}"
        else:
            self.name = f"{self.settings['NAME']}_restored"[:63]
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)', f'CREATE DATABASE "{self.name}"')
            user = self.settings["USER"] or ""
            self.url = f"postgres://{user}@{self.settings['HOST']}:{self.settings['PORT']}/{self.name}"

    def _admin(self, *statements: str) -> None:
        params = {
            k: self.settings[v] for k, v in (("host", "HOST"), ("port", "PORT"), ("user", "USER")) if self.settings[v]
        }
        with psycopg.connect(
            dbname="postgres", password=self.settings["PASSWORD"] or None, autocommit=True, **params
        ) as admin:
            for statement in statements:
                admin.execute(statement)  # type: ignore[arg-type]

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if connection.vendor == "sqlite":
            with sqlite3.connect(self.path) as db:
                return db.execute(sql).fetchall()
        dsn = self.url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(dsn, password=self.settings["PASSWORD"] or None) as db:
            return db.execute(sql).fetchall()  # type: ignore[arg-type]

    def drop(self) -> None:
        if connection.vendor != "sqlite":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[FreshDatabase]:
    database = FreshDatabase(tmp_path)
    yield database
    database.drop()


def test_a_backup_taken_while_complaints_arrive_restores_into_a_fresh_database_and_verifies(
    cast, media, tmp_path, fresh
):
    photo = png(8, 8, shade=90)
    item = worked_case(cast, 1, photo=photo).evidence.get()
    worked_case(cast, 2)
    chain.seal(settle=timedelta(0))
    sealed = chain.digest()
    assert sealed["seq"] == 1

    # Complaints keep arriving on another connection while the backup runs.
    stop, arrived, failures = threading.Event(), [], []

    def intake() -> None:
        try:
            n = 100
            while not stop.is_set():
                arrived.append(submit(n).tracking_no)
                n += 1
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=intake)
    writer.start()
    try:
        while len(arrived) < 2 and not failures:  # the writer is really writing when the backup starts
            writer.join(0.01)
        archive = tmp_path / "out" / "backup.tar.gz"
        status, out, err = command("backup", "--out", str(archive))
    finally:
        stop.set()
        writer.join()
    assert not failures and status == 0, err
    assert out.splitlines()[-1] == str(archive) and "1 evidence file(s) and 1 media file(s)" in out
    assert oct(archive.stat().st_mode & 0o777) == "0o600"  # it holds personal data
    assert not list(archive.parent.glob("*.partial")) and not list(archive.parent.glob(".complaintdesk-*"))
    manifest = json.loads(members(archive)["manifest.json"])
    assert manifest["engine"] == connection.vendor and manifest["ledger_digest"]["seq"] == 1
    names = {p["name"] for p in manifest["parts"]}
    assert names == {
        manifest["database"],
        f"evidence/{item.sha256[:2]}/{item.sha256[2:4]}/{item.sha256}",
        "media/similarity/vectors.bin",
    }

    env = {
        **os.environ,
        "DATABASE_URL": fresh.url,
        "EVIDENCE_ROOT": str(tmp_path / "evidence-restored"),
        "MEDIA_ROOT": str(tmp_path / "media-restored"),
    }
    done = subprocess.run(
        [*COMPLAINTDESK, "restore", str(archive), "--skip-checks"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Evidence complete: 1 file(s)" in done.stdout
    restored = fresh.query("SELECT tracking_no FROM complaints_complaint")
    assert len(restored) >= 4  # the two worked cases and at least the two that arrived before the backup began
    assert f"Ledger intact: {len(restored)} cases" in done.stdout
    assert "checked against the digest of checkpoint 1" in done.stdout
    # Every restored complaint has its ledger chain: the copy is one consistent moment, never half a write.
    orphans = fresh.query(
        "SELECT COUNT(*) FROM complaints_complaint c WHERE NOT EXISTS "
        "(SELECT 1 FROM ledger_ledgerevent e WHERE e.complaint_id = c.id)"
    )
    assert orphans == [(0,)]
    assert {t for (t,) in restored} <= set(Complaint.objects.values_list("tracking_no", flat=True))
    stored = tmp_path / "evidence-restored" / item.sha256[:2] / item.sha256[2:4] / item.sha256
    assert stored.read_bytes() == photo
    assert (tmp_path / "media-restored" / "similarity" / "vectors.bin").read_bytes() == media.read_bytes()


def test_restore_refuses_a_database_that_is_not_empty_and_with_yes_brings_back_the_backup(cast, settings, tmp_path):
    kept = worked_case(cast, 1)
    settings.COMPLAINTDESK_BACKUP_DIR = str(tmp_path / "backups")
    status, out, _err = command("backup")
    assert status == 0
    archive = Path(out.splitlines()[-1])
    assert archive.parent == tmp_path / "backups" and archive.name.startswith("complaintdesk-backup-")
    later = submit(2)

    status, out, err = command("restore", str(archive))
    assert status == 2 and "restore failed: the database is not empty (2 complaints" in err and "--yes" in err
    assert "Nothing was changed." in err
    assert Complaint.objects.filter(pk=later.pk).exists()

    status, out, err = command("restore", str(archive), "--yes")
    assert status == 0, out + err
    assert "Ledger intact: 1 cases, 2 events" in out
    assert list(Complaint.objects.values_list("tracking_no", flat=True)) == [kept.tracking_no]
    assert Complaint.objects.get().version == kept.version


def test_a_damaged_or_foreign_archive_is_refused_before_anything_changes(cast, tmp_path, monkeypatch):
    worked_case(cast, 1, photo=png(4, 4))
    archive = tmp_path / "backup.tar"
    assert command("backup", "--out", str(archive))[0] == 0
    later = submit(2)
    parts = members(archive)
    blob = next(name for name in parts if name.startswith("evidence/"))
    database = next(name for name in parts if name.startswith("database."))
    flipped = bytes([parts[blob][0] ^ 1]) + parts[blob][1:]
    manifest = json.loads(parts["manifest.json"])
    foreign = dict(manifest, engine="postgresql" if connection.vendor == "sqlite" else "sqlite")
    foreign["database"] = backup.DATABASE_PARTS[foreign["engine"]]
    for part in foreign["parts"]:
        if part["name"] == database:
            part["name"] = foreign["database"]
    # A forger who rewrites a blob and its manifest entry alike: the manifest agrees, the blob's name does not.
    forged = json.loads(parts["manifest.json"])
    for part in forged["parts"]:
        if part["name"] == blob:
            part["sha256"] = hashlib.sha256(flipped).hexdigest()
    cases = {
        "changed byte": (rewrite(archive, tmp_path / "a.tar", {blob: flipped}), f"{blob}: SHA-256 or size differs"),
        "blob and manifest changed": (
            rewrite(archive, tmp_path / "h.tar", {blob: flipped, "manifest.json": json.dumps(forged).encode()}),
            f"{blob}: content does not match its SHA-256 name",
        ),
        "part left out": (rewrite(archive, tmp_path / "b.tar", {blob: None}), f"{blob}: missing from the archive"),
        "part added": (
            rewrite(archive, tmp_path / "c.tar", {}, {"media/extra.txt": b"x"}),
            "media/extra.txt: not listed in the manifest",
        ),
        "path outside": (
            rewrite(archive, tmp_path / "d.tar", {}, {"../../etc/evil": b"x"}),
            "unexpected member '../../etc/evil'",
        ),
        "no manifest": (rewrite(archive, tmp_path / "e.tar", {"manifest.json": None}), "no manifest.json"),
        "cut short": (tmp_path / "f.tar", "damaged or cut short"),
        "other engine": (
            rewrite(
                archive,
                tmp_path / "g.tar",
                {database: None, "manifest.json": json.dumps(foreign).encode()},
                {foreign["database"]: parts[database]},
            ),
            "restore it into the same engine",
        ),
    }
    (tmp_path / "f.tar").write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    for label, (path, reason) in cases.items():
        status, _out, err = command("restore", str(path), "--yes")
        assert status == 2 and "Nothing was changed." in err and reason in err, (label, err)
    assert not (tmp_path.parent / "etc" / "evil").exists()
    # An intact archive whose parts would not fit beside it (as a compressed bomb's would not) is refused
    # from the sizes in its headers, before anything is staged.
    tight = shutil.disk_usage(tmp_path)._replace(free=backup._STAGING_RESERVE + len(parts[database]) // 2)
    monkeypatch.setattr(backup.shutil, "disk_usage", lambda path: tight)
    status, _out, err = command("restore", str(archive), "--yes")
    assert status == 2 and f"MiB free beside it (at '{database}')" in err, err
    assert "Nothing was changed." in err
    monkeypatch.undo()
    assert Complaint.objects.filter(pk=later.pk).exists()  # nothing was restored
    sha = blob.rsplit("/", 1)[-1]
    assert store.open(sha).read() == parts[blob]  # the good blob in the store was left alone


def test_restore_exits_1_and_names_the_first_broken_link_when_the_ledger_does_not_verify(cast, tmp_path):
    complaint = worked_case(cast, 1)
    Complaint.objects.filter(pk=complaint.pk).update(priority="P1")  # edited behind the ledger's back
    archive = tmp_path / "backup.tar"
    assert command("backup", "--out", str(archive))[0] == 0
    status, out, err = command("restore", str(archive), "--yes")
    assert status == 1 and "the restored data does not verify" in err
    assert "Ledger BROKEN: 1 problem(s)" in out
    assert f"First broken: {complaint.tracking_no} event 2 field priority" in out
    assert LedgerEvent.objects.count() == 2
