"""Backup and restore (docs/operations.md, "Backup and restore").

A backup is one tar archive:

    database.sqlite3 | database.pgdump   the database: SQLite's online backup API, or pg_dump -Fc
    evidence/ab/cd/<sha256>              every blob of the evidence store (through its Django storage)
    media/<path>                         the other files under MEDIA_ROOT (uploads, the similar-cases index)
    manifest.json                        last: the SHA-256 and size of every part, the engine, the
                                         migrations and the ledger digest at backup time

The database is copied first, the files after it. Evidence is content-addressed and a blob is
stored before the row that names it commits, so every blob the database snapshot refers to already
exists when the files are copied; blobs added later are harmless extras.

A restore reads the whole archive into a staging folder and checks every part against the manifest
before it changes anything. Then it writes the files, replaces the database (sqlite3's backup API
into the database file, or pg_restore --clean --if-exists --single-transaction), and verifies the
ledger (ledger.verify) against the digest recorded at backup time.
"""

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, storages
from django.db import DatabaseError, connections
from django.utils import timezone

FORMAT = "complaintdesk-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE_PARTS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_CHUNK = 1024 * 1024
# Left free on the disk a restore stages the archive on (the database and the system need some too).
_STAGING_RESERVE = 256 * _CHUNK
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Libpq environment variables for the OPTIONS that dj-database-url takes from the URL's query string.
_PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "passfile": "PGPASSFILE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "options": "PGOPTIONS",
}
# A restore waits at most this long for a table lock (a server still running holds some) instead of hanging.
_RESTORE_LOCK_TIMEOUT = "-c lock_timeout=60s"

Progress = Callable[[str], None]


class BackupError(Exception):
    """The backup or restore could not be done. From a restore, the message says what it had changed."""


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    evidence_restored: int = 0
    media_restored: int = 0
    evidence_referenced: int = 0
    evidence_missing: list[str] = field(default_factory=list)
    pending_migrations: list[str] = field(default_factory=list)
    unknown_migrations: list[str] = field(default_factory=list)
    ledger: Any = None  # ledger.verify.Report, or None when the verification itself failed
    ledger_error: str = ""

    @property
    def ok(self) -> bool:
        return self.ledger is not None and self.ledger.ok and not self.evidence_missing


# --- the database engines --------------------------------------------------------------------


def engine_of() -> str:
    vendor = connections["default"].vendor
    if vendor not in DATABASE_PARTS:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return vendor


def _sqlite_path(settings_dict: dict[str, Any]) -> Path:
    name = str(settings_dict["NAME"])
    if not name or name == ":memory:" or "mode=memory" in name:
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(name)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database into another with the online backup API: one step, so the copy is a
    consistent snapshot (in WAL mode writers go on meanwhile), written in one transaction."""
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _sqlite_dump(settings_dict: dict[str, Any], out: Path) -> None:
    source = _sqlite_path(settings_dict)
    if not source.exists():
        raise BackupError(f"no SQLite database at {source}")
    _sqlite_copy(source, out)
    copy = sqlite3.connect(out)
    try:
        # A single self-contained file (no -wal beside it), checked before it goes into the archive.
        copy.execute("PRAGMA journal_mode=DELETE")
        result = copy.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        copy.close()
    if result != "ok":
        raise BackupError(f"the SQLite copy fails its integrity check: {result}")


def _pg_binary(name: str) -> str:
    folder = getattr(settings, "COMPLAINTDESK_PG_BIN_DIR", "")
    if folder:
        return str(Path(folder) / name)
    return shutil.which(name) or f"/usr/bin/{name}"


def pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """libpq's PG* variables for a Django PostgreSQL connection: the password never goes into argv,
    where every user of the machine could read it. Variables already in the environment stay where
    the configuration says nothing, as they do for the application's own connections (libpq too)."""
    env = dict(os.environ)
    pairs = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
    }
    for option, variable in _PG_OPTION_ENV.items():
        pairs[variable] = (settings_dict.get("OPTIONS") or {}).get(option)
    env.update({k: str(v) for k, v in pairs.items() if v not in (None, "")})
    return env


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise BackupError(f"{what}: cannot run {argv[0]} ({exc})") from exc
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def pg_dump(settings_dict: dict[str, Any], out: Path) -> None:
    """pg_dump -Fc of the configured database (a consistent snapshot; the server keeps serving)."""
    _run([_pg_binary("pg_dump"), "--format=custom", "--file", str(out)], pg_env(settings_dict), "pg_dump")


def pg_restore(settings_dict: dict[str, Any], dump: Path) -> None:
    """Replace what the dump holds in the configured database, in one transaction: all or nothing."""
    env = pg_env(settings_dict)
    env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} {_RESTORE_LOCK_TIMEOUT}".strip()
    argv = [
        _pg_binary("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-acl",
        "--single-transaction",
        "--exit-on-error",
        "--dbname",
        str(settings_dict["NAME"]),
        str(dump),
    ]
    _run(argv, env, "pg_restore")


# --- the files -------------------------------------------------------------------------------


def _evidence_storage() -> Any:
    return storages["evidence"]


def _walk_storage(storage: Any, prefix: str = "") -> Iterator[str]:
    try:
        folders, files = storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{prefix}/{name}" if prefix else name
    for folder in sorted(folders):
        yield from _walk_storage(storage, f"{prefix}/{folder}" if prefix else folder)


def _media_files(skip: list[Path]) -> Iterator[tuple[str, Path]]:
    """Files under MEDIA_ROOT, except the evidence store (backed up through its storage) and the
    backup being written."""
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return
    skipped = [p.resolve() for p in skip]
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if (here / d).resolve() not in skipped)
        for name in sorted(files):
            path = here / name
            if path.is_file() and not path.is_symlink() and path.resolve() not in skipped:
                yield path.relative_to(root).as_posix(), path


def _evidence_root() -> Path | None:
    storage = _evidence_storage()
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


class _HashingReader:
    """Passes reads through while hashing them (tarfile reads exactly the member's size)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.hasher = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.hasher.update(chunk)
        self.size += len(chunk)
        return chunk


def _add_member(archive: tarfile.TarFile, name: str, raw: IO[bytes], size: int, mtime: float) -> dict[str, Any]:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(mtime), 0o600
    reader = _HashingReader(raw)
    archive.addfile(info, reader)  # type: ignore[arg-type]
    return {"name": name, "sha256": reader.hasher.hexdigest(), "size": size}


# --- backup ----------------------------------------------------------------------------------


def default_path(now: datetime | None = None) -> Path:
    folder = Path(getattr(settings, "COMPLAINTDESK_BACKUP_DIR", "") or ".")
    stamp = timezone.localtime(now or timezone.now()).strftime("%Y%m%d-%H%M%S")
    return folder / f"complaintdesk-backup-{stamp}.tar"


def _applied_migrations() -> dict[str, str]:
    from django.db.migrations.recorder import MigrationRecorder

    latest: dict[str, str] = {}
    for app, name in sorted(MigrationRecorder(connections["default"]).applied_migrations()):
        latest[app] = name
    return latest


def create(out: Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """Write a backup archive to `out` (a `.tar.gz` / `.tgz` name is gzip-compressed); returns its
    manifest. The archive appears under its name only once complete."""
    from ledger import chain

    say = progress or (lambda message: None)
    engine = engine_of()
    connection = connections["default"]
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    from ledger.models import Checkpoint, LedgerEvent
    from ledger.verify import side_chain_heads

    if Checkpoint._meta.db_table not in connection.introspection.table_names():
        raise BackupError("the database is not migrated: there is nothing of ComplaintDesk to back up")
    # Before the snapshot: a checkpoint written later would be missing from the copy, and events are
    # never deleted, so the copy holds at least the events counted now.
    digest = {**chain.digest(), "events": LedgerEvent.objects.count(), "side_chains": side_chain_heads()}
    migrations = _applied_migrations()
    mode = "w:gz" if out.name.endswith((".tar.gz", ".tgz")) else "w"
    partial = out.with_name(out.name + ".partial")
    warnings: list[str] = []
    parts: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".complaintdesk-backup-") as staging:
        database_part = DATABASE_PARTS[engine]
        staged = Path(staging) / database_part
        say(f"database ({engine}) ...")
        if engine == "sqlite":
            _sqlite_dump(connection.settings_dict, staged)
        else:
            pg_dump(connection.settings_dict, staged)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as raw_out, tarfile.open(fileobj=raw_out, mode=mode) as archive:
                with staged.open("rb") as raw:
                    parts.append(
                        _add_member(archive, database_part, raw, staged.stat().st_size, staged.stat().st_mtime)
                    )
                staged.unlink()  # the staging folder holds one copy at a time
                say("evidence ...")
                parts += _add_evidence(archive, warnings)
                say("media ...")
                skip = [out, partial, Path(staging)]
                if (root := _evidence_root()) is not None:
                    skip.append(root)
                for relative, path in _media_files(skip):
                    with path.open("rb") as raw:
                        stat = os.fstat(raw.fileno())
                        parts.append(_add_member(archive, f"media/{relative}", raw, stat.st_size, stat.st_mtime))
                manifest = {
                    "format": FORMAT,
                    "version": VERSION,
                    "created_at": timezone.now().isoformat(),
                    "engine": engine,
                    "database": database_part,
                    "ledger_digest": digest,
                    "migrations": migrations,
                    "warnings": warnings,
                    "parts": parts,
                }
                body = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(timezone.now().timestamp()), 0o600
                archive.addfile(info, io.BytesIO(body))
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _add_evidence(archive: tarfile.TarFile, warnings: list[str]) -> list[dict[str, Any]]:
    storage = _evidence_storage()
    parts: list[dict[str, Any]] = []
    for name in _walk_storage(storage):
        basename = name.rsplit("/", 1)[-1]
        with storage.open(name, "rb") as raw:
            # Read once into a spool file: the size must be known before tar writes the header, and
            # a blob being written by another process right now must not be taken half-written.
            with tempfile.SpooledTemporaryFile(max_size=8 * _CHUNK) as spool:
                reader = _HashingReader(raw)
                shutil.copyfileobj(reader, spool, _CHUNK)  # type: ignore[misc]
                if _SHA256.fullmatch(basename) and reader.hasher.hexdigest() != basename:
                    # Content-addressed: a blob that does not hash to its name is being written now
                    # (the row naming it is not in the snapshot yet) or is damaged. Either way it is
                    # not taken, so that a restore never plants bad bytes under a good name.
                    warnings.append(f"evidence/{name}: content does not match its SHA-256 name; left out")
                    continue
                spool.seek(0)
                parts.append(_add_member(archive, f"evidence/{name}", spool, reader.size, timezone.now().timestamp()))  # type: ignore[arg-type]
    return parts


# --- restore ---------------------------------------------------------------------------------


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        return False
    if "\\" in name or "\x00" in name:
        return False
    top = path.parts[0]
    if len(path.parts) == 1:
        return name == MANIFEST or name in DATABASE_PARTS.values()
    return top in ("evidence", "media")


def unpack(archive_path: Path, staging: Path) -> dict[str, Any]:
    """Extract the archive into `staging` and check every part against the manifest; returns the
    manifest. Only regular files with names of the backup's layout are accepted (no links, no
    absolute or parent paths), and any part missing, extra, or with another SHA-256 or size refuses
    the archive."""
    try:
        archive = tarfile.open(archive_path, mode="r:*")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"{archive_path}: not a readable backup archive ({exc})") from exc
    seen: dict[str, tuple[str, int]] = {}
    # The sizes in the headers are checked before anything is written: a damaged or hostile archive
    # (a compressed one can claim far more than its own size) must not fill the disk it is staged on.
    room, claimed = shutil.disk_usage(staging).free - _STAGING_RESERVE, 0
    with archive:
        try:
            for member in archive:
                if not member.isfile() or not _safe_member_name(member.name):
                    raise BackupError(f"{archive_path}: unexpected member {member.name!r}; not a ComplaintDesk backup")
                if member.name in seen:
                    raise BackupError(f"{archive_path}: member {member.name!r} appears twice")
                claimed += member.size
                if claimed > room:
                    raise BackupError(
                        f"{archive_path}: its parts take more than the {max(room, 0) // _CHUNK} MiB free beside it "
                        f"(at {member.name!r}); free some space or copy the archive to a roomier disk"
                    )
                target = staging.joinpath(*PurePosixPath(member.name).parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                assert source is not None  # a regular file
                reader = _HashingReader(source)
                with target.open("wb") as sink:
                    shutil.copyfileobj(reader, sink, _CHUNK)  # type: ignore[misc]
                seen[member.name] = (reader.hasher.hexdigest(), reader.size)
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise BackupError(f"{archive_path}: the archive is damaged or cut short ({exc})") from exc
    if MANIFEST not in seen:
        raise BackupError(f"{archive_path}: no {MANIFEST}; not a ComplaintDesk backup")
    try:
        manifest = json.loads((staging / MANIFEST).read_text("utf-8"))
        listed = {p["name"]: (str(p["sha256"]), int(p["size"])) for p in manifest["parts"]}
        engine, database = manifest["engine"], manifest["database"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{archive_path}: {MANIFEST} is unreadable ({exc})") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{archive_path}: not a ComplaintDesk backup of version {VERSION}")
    if DATABASE_PARTS.get(engine) != database or database not in listed:
        raise BackupError(f"{archive_path}: the manifest names no database part for {engine!r}")
    del seen[MANIFEST]
    problems = [f"{name}: missing from the archive" for name in sorted(set(listed) - set(seen))]
    problems += [f"{name}: not listed in the manifest" for name in sorted(set(seen) - set(listed))]
    for name in sorted(set(listed) & set(seen)):
        if seen[name] != listed[name]:
            problems.append(f"{name}: SHA-256 or size differs from the manifest")
    # The manifest is written by whoever wrote the archive, so it cannot vouch for evidence: a blob of
    # the content-addressed store must hash to its own name, or a restore would plant other bytes
    # under the name of the original (and replace a good copy already in the store).
    for name in sorted(n for n in seen if n.startswith("evidence/")):
        basename = name.rsplit("/", 1)[-1]
        if _SHA256.fullmatch(basename) and seen[name][0] != basename:
            problems.append(f"{name}: content does not match its SHA-256 name")
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise BackupError(f"{archive_path}: the archive does not match its manifest: {'; '.join(problems[:10])}{more}")
    return manifest


def occupancy() -> dict[str, int]:
    """Rows of what makes a database non-empty (cases, ledger events, users); {} when it has none.
    Reference data that migrations seed (categories, SLA policies, regions) does not count."""
    from accounts.models import User
    from complaints.models import Complaint
    from ledger.models import LedgerEvent

    tables = set(connections["default"].introspection.table_names())
    counts: dict[str, int] = {}
    for label, model in (("complaints", Complaint), ("ledger events", LedgerEvent), ("users", User)):
        if model._meta.db_table in tables and (count := model.objects.count()):
            counts[label] = count
    return counts


def _restore_files(staging: Path, manifest: dict[str, Any], result: RestoreResult) -> None:
    storage = _evidence_storage()
    media_root = Path(settings.MEDIA_ROOT)
    for part in manifest["parts"]:
        name = part["name"]
        source = staging.joinpath(*PurePosixPath(name).parts)
        if name.startswith("evidence/"):
            stored = name.removeprefix("evidence/")
            if storage.exists(stored):
                with storage.open(stored, "rb") as raw:
                    reader = _HashingReader(raw)
                    while reader.read(_CHUNK):
                        pass
                if reader.hasher.hexdigest() == part["sha256"]:
                    continue  # content-addressed: the same bytes are there already
                storage.delete(stored)  # damaged: the backup's copy replaces it
            with source.open("rb") as raw:
                saved = storage.save(stored, File(raw))
            if saved != stored:
                storage.delete(saved)
                raise BackupError(f"evidence {stored}: the storage kept it as {saved}")
            result.evidence_restored += 1
        elif name.startswith("media/"):
            target = media_root.joinpath(*PurePosixPath(name.removeprefix("media/")).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f".{target.name}.restoring")
            shutil.copyfile(source, temporary)
            os.replace(temporary, target)
            result.media_restored += 1


def _migration_state(result: RestoreResult) -> None:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections["default"])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    result.pending_migrations = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    known = set(executor.loader.graph.nodes)
    result.unknown_migrations = sorted(f"{a}.{n}" for a, n in executor.loader.applied_migrations if (a, n) not in known)


def _check_evidence(result: RestoreResult) -> None:
    """Every live evidence item's file must be in the store after the restore."""
    from evidence import store
    from evidence.models import Evidence

    wanted = set(Evidence.objects.filter(deleted_at__isnull=True).values_list("sha256", flat=True))
    result.evidence_referenced = len(wanted)
    result.evidence_missing = sorted(sha for sha in wanted if not store.exists(sha))


def _check_target(archive_path: Path, replace: bool) -> None:
    if not archive_path.is_file():
        raise BackupError(f"{archive_path}: no such file")
    existing = occupancy()
    if existing and not replace:
        held = ", ".join(f"{count} {label}" for label, count in existing.items())
        raise BackupError(f"the database is not empty ({held}): a restore replaces it; run again with --yes to do so")


def _replace_database(engine: str, dump: Path) -> None:
    """All or nothing: the backup API writes the SQLite file in one transaction, pg_restore runs as one."""
    settings_dict = connections["default"].settings_dict
    connections.close_all()  # nothing of ours may hold the file or a lock on a table
    try:
        if engine == "sqlite":
            _sqlite_copy(dump, _sqlite_path(settings_dict))
        else:
            pg_restore(settings_dict, dump)
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite restore failed: {exc}") from exc
    finally:
        connections.close_all()


def restore(
    archive_path: Path,
    *,
    replace: bool = False,
    digest: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore a backup into the configured database and file stores, then verify the ledger.
    Refuses a non-empty database unless `replace`. `digest` (an exported ledger digest) overrides
    the one the backup recorded. Raises BackupError, saying what was changed: nothing when the
    target is refused or the archive is not intact; only the files when the database step fails."""
    from ledger.verify import verify

    say = progress or (lambda message: None)
    engine = engine_of()
    archive_path = Path(archive_path).resolve()
    # Staging beside the archive (the same disk, usually roomy), unless that folder is read-only.
    where = archive_path.parent if os.access(archive_path.parent, os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=where, prefix=".complaintdesk-restore-") as folder:
        try:
            _check_target(archive_path, replace)
            say("checking the archive ...")
            manifest = unpack(archive_path, Path(folder))
            if manifest["engine"] != engine:
                raise BackupError(
                    f"the backup is of a {manifest['engine']} database and the configured database is {engine}: "
                    "restore it into the same engine"
                )
        except BackupError as exc:
            raise BackupError(f"{exc}. Nothing was changed.") from exc
        result = RestoreResult(manifest=manifest)
        say("files ...")
        try:
            _restore_files(Path(folder), manifest, result)
        except OSError as exc:
            raise BackupError(
                f"writing the files failed ({exc}). The database is unchanged; some of the backup's evidence and "
                "media files were written."
            ) from exc
        say("database ...")
        try:
            _replace_database(engine, Path(folder) / manifest["database"])
        except BackupError as exc:
            raise BackupError(
                f"{exc}. The database is unchanged; the backup's evidence and media files were written "
                "(evidence is content-addressed, so that is harmless)."
            ) from exc
    say("verifying ...")
    _migration_state(result)
    _check_evidence(result)
    recorded = manifest.get("ledger_digest") or {}
    # The recorded events count matters to a verify that checks it (the ledger only ever grows).
    check_against = (
        digest or {k: recorded[k] for k in ("seq", "hash", "events", "side_chains") if k in recorded} or None
    )
    try:
        result.ledger = verify(digest=check_against)
    except DatabaseError as exc:
        result.ledger_error = f"{type(exc).__name__}: {exc}".strip()
    return result
