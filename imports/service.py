"""One import, from an open file to cases: read, convert and validate row by row, write in batches.

Memory stays flat: the reader streams, a batch holds at most `batch_size` drafts, errors go out to
a sink after every batch, and only the first few are kept for the summary. Each batch is committed
on its own, so an import killed halfway keeps what it committed and a re-run skips those rows."""

import csv
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import IO, Any, BinaryIO, Protocol

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.ledgering import Actor
from core.spreadsheet import safe_row

from .cfpb import SOURCE as CFPB_SOURCE
from .cfpb import CfpbConverter
from .drafts import Draft, Finisher, RowError
from .encoding import EncodingError
from .generic import GenericConverter
from .mapping import MappingError, check_source, identity_mapping, load_mapping
from .readers import FileError, open_reader

log = logging.getLogger("complaintdesk.imports")

FORMATS = ("csv", "xlsx", "jsonl", "cfpb")
BATCH_SIZE = 2000
# Batches prepared and waiting while one is stored (PostgreSQL); memory grows with it.
PIPELINE_DEPTH = 2
FIRST_ERRORS = 20
REPORT_HEADER = ["row", "line", "source_id", "field", "reason"]


class ImportFailed(Exception):
    """A fatal problem: the file cannot be read, or the mapping cannot work for it. `summary` says
    what was done before it (batches committed before a problem halfway through the file stay)."""

    def __init__(self, message: str, summary: "Summary | None" = None) -> None:
        super().__init__(message)
        self.summary = summary


@dataclass
class Summary:
    rows: int = 0
    created: int = 0
    skipped_existing: int = 0
    errors: int = 0
    seconds: float = 0.0
    rows_per_second: float = 0.0
    dry_run: bool = False
    encoding: str = ""
    warnings: list[str] = field(default_factory=list)
    first_errors: list[dict[str, Any]] = field(default_factory=list)
    # Progress through the file: bytes for CSV / JSON Lines, sheet rows for XLSX (total 0: unknown).
    done_units: int = 0
    total_units: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ErrorSink(Protocol):
    def add(self, errors: list[RowError]) -> None: ...


class CsvErrorReport:
    """The error report as CSV (UTF-8 with BOM so that Excel reads the Chinese), every cell passed
    through core.spreadsheet.safe_cell: rows come from outside and may carry formulas."""

    def __init__(self, out: IO[str]) -> None:
        out.write("\ufeff")
        self.writer = csv.writer(out)
        self.writer.writerow(REPORT_HEADER)

    def add(self, errors: list[RowError]) -> None:
        self.writer.writerows(safe_row([e.row, e.line, e.source_id, e.field, e.reason]) for e in errors)


def run_import(
    raw: BinaryIO,
    *,
    fmt: str,
    mapping: dict[str, Any] | None = None,
    source: str = "",
    dry_run: bool = False,
    actor: Actor | None = None,
    job_id: int | None = None,
    errors: ErrorSink | None = None,
    on_progress: Callable[[Summary], None] | None = None,
    in_batch: Callable[[Summary], None] | None = None,
    batch_size: int = BATCH_SIZE,
    pipeline: bool | None = None,
) -> Summary:
    """Import one file. Raises ImportFailed for a fatal problem (nothing more is read; batches
    already committed stay). `in_batch` runs inside each batch's transaction (job counters that
    commit with the cases), `on_progress` after it."""
    from .writer import CaseWriter

    if fmt not in FORMATS:
        raise ImportFailed(_("未知格式：%(fmt)s（可用：%(known)s）") % {"fmt": fmt, "known": ", ".join(FORMATS)})
    started = time.monotonic()
    summary = Summary(dry_run=dry_run)
    finisher = Finisher(timezone.now())
    try:
        reader = open_reader(fmt, raw)
        if fmt == "cfpb":
            if mapping:
                raise MappingError(_("CFPB 格式的列是固定的，不需要映射文件。"))
            converter: CfpbConverter | GenericConverter = CfpbConverter(reader.columns, finisher)
            source = CFPB_SOURCE if not source else check_source(source)
        else:
            spec = load_mapping(mapping, source=source) if mapping else identity_mapping(reader.columns, source=source)
            source = spec.source
            converter = GenericConverter(spec, reader.columns, finisher)
    except (FileError, EncodingError, MappingError) as exc:
        raise ImportFailed(str(exc)) from exc
    summary.encoding = reader.encoding
    summary.warnings = list(converter.warnings)
    finisher.share(external_source=source)
    writer = CaseWriter(actor=actor or Actor.system(), job_id=job_id, defaults=finisher.defaults)
    batches = _Batches(writer, source, summary, dry_run, in_batch, pipeline)
    batch: list[Draft] = []
    pending_errors: list[RowError] = []

    def report(found: list[RowError]) -> None:
        summary.errors += 1
        for error in found:
            if len(summary.first_errors) < FIRST_ERRORS:
                summary.first_errors.append(asdict(error))
        pending_errors.extend(found)

    def flush() -> None:
        if batch:
            batches.write(batch)
            batch.clear()
        if pending_errors and errors is not None:
            errors.add(pending_errors)
        pending_errors.clear()
        summary.done_units, summary.total_units = reader.progress()
        summary.seconds = round(time.monotonic() - started, 3)
        if on_progress is not None:
            on_progress(summary)

    rows = iter(reader)
    try:
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except (FileError, EncodingError, OSError, ValueError, KeyError, SyntaxError) as exc:
                # The file broke off halfway (a damaged XLSX, a read error): keep what is good so far.
                flush()
                batches.close()
                summary.seconds = round(time.monotonic() - started, 3)
                raise ImportFailed(
                    _("第 %(row)d 行之后文件无法读取：%(error)s") % {"row": summary.rows, "error": exc}, summary
                ) from exc
            summary.rows += 1
            if row.problem:
                report([RowError(row.row, row.line, "", row.problem)])
            else:
                result = converter.convert(row)
                if isinstance(result, list):
                    report(result)
                else:
                    batch.append(result)
            if len(batch) >= batch_size or len(pending_errors) >= batch_size:
                flush()
        flush()
    finally:
        batches.close()
    summary.warnings.extend(reader.warnings())
    summary.seconds = round(time.monotonic() - started, 3)
    summary.rows_per_second = round(summary.rows / summary.seconds, 1) if summary.seconds else 0.0
    return summary


class _Batches:
    """Writes batches of drafts: skips ids that are cases already, takes tracking numbers, prepares
    the rows and stores them in one transaction per batch.

    On PostgreSQL (outside a caller's transaction) storing runs in a thread with its own
    connection while the next batches are prepared (up to PIPELINE_DEPTH waiting), so that the
    database and Python work on the two cores at once. Ids of batches not yet stored count as
    existing for the next one."""

    def __init__(
        self,
        writer: Any,
        source: str,
        summary: Summary,
        dry_run: bool,
        in_batch: Callable[[Summary], None] | None,
        pipeline: bool | None,
    ) -> None:
        self.writer = writer
        self.source = source
        self.summary = summary
        self.dry_run = dry_run
        self.in_batch = in_batch
        if pipeline is None:
            pipeline = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.pipeline = pipeline and not dry_run
        self._queue: queue.Queue[Any] = queue.Queue()
        self._changed = threading.Condition()
        self._pending: list[set[str]] = []  # ids of the batches queued or being stored, in order
        self._failure: BaseException | None = None
        self._retry: list[list[Draft]] = []
        self._thread: threading.Thread | None = None

    def _in_flight(self) -> set[str]:
        with self._changed:
            return set().union(*self._pending)

    def write(self, batch: list[Draft]) -> None:
        for attempt in (1, 2, 3):
            unique: dict[str, Draft] = {}
            for draft in batch:
                unique.setdefault(draft.external_id, draft)
            existing = self.writer.existing(self.source, list(unique)) | self._in_flight()
            todo = [d for ext, d in unique.items() if ext not in existing]
            skipped = len(batch) - len(todo)
            if self.dry_run:
                self.summary.skipped_existing += skipped
                self.summary.created += len(todo)
                return
            if not todo:
                with transaction.atomic():
                    self._done(0, skipped)
                return
            tracking = self.writer.tracking_numbers(todo)
            if self.pipeline:
                prepared = self.writer.prepare(todo, tracking)
                self._submit(prepared, todo, skipped)
                return
            try:
                with transaction.atomic():
                    prepared = self.writer.prepare(todo, tracking)
                    self.writer.store(prepared)
                    self._done(len(todo), skipped)
                self.after_commit(prepared)
                return
            except IntegrityError:
                # Another import wrote some of these ids meanwhile: look again.
                self.writer.forget_pending()
                if attempt == 3:
                    raise

    def after_commit(self, prepared: Any) -> None:
        """The duplicate check of intake (complaints.duplicates) for the batch's open cases that have a
        complainant's profile: each is linked to the same person's similar earlier cases within the
        window, for an agent to confirm or dismiss. A file need not be sorted by date: the person's
        open cases received later, stored by earlier batches, are linked to it in turn. Closed
        history is not checked, and a failure is logged, never stops the import."""
        from complaints.duplicates import find_duplicates

        for case_id in prepared.open_with_customer:
            try:
                find_duplicates(case_id, later=True)
            except Exception:
                log.exception("import: duplicate check of case %s failed", case_id)

    def _done(self, created: int, skipped: int) -> None:
        """Inside the batch's transaction: the counters, and the caller's (job progress)."""
        self.summary.created += created
        self.summary.skipped_existing += skipped
        if self.in_batch is not None:
            self.in_batch(self.summary)

    # --- the storing thread (PostgreSQL) -----------------------------------------------------------

    def _submit(self, prepared: Any, drafts: list[Draft], skipped: int) -> None:
        self._settle(PIPELINE_DEPTH - 1)
        if self._thread is None:
            self._thread = threading.Thread(target=self._store_loop, name="import-store", daemon=True)
            self._thread.start()
        with self._changed:
            self._pending.append(set(prepared.external_ids))
        self._queue.put((prepared, drafts, skipped))

    def _store_loop(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                prepared, drafts, skipped = item
                try:
                    with transaction.atomic():
                        self.writer.store(prepared)
                        self._done(len(prepared), skipped)
                    self.after_commit(prepared)
                except IntegrityError:
                    self._retry.append(drafts)
                except BaseException as exc:  # handed to the importing thread
                    self._failure = self._failure or exc
                finally:
                    with self._changed:
                        self._pending.pop(0)
                        self._changed.notify_all()
        finally:
            connection.close()

    def _settle(self, waiting: int) -> None:
        """Until at most `waiting` batches are unstored; re-raises a failure of the thread; redoes,
        without the thread, a batch that met ids another import had written meanwhile (or a
        profile of a batch that failed)."""
        with self._changed:
            while len(self._pending) > waiting:
                self._changed.wait()
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure
        while self._retry:
            drafts = self._retry.pop(0)
            self.writer.forget_pending()
            pipeline, self.pipeline = self.pipeline, False
            try:
                self.write(drafts)
            finally:
                self.pipeline = pipeline

    def wait(self) -> None:
        self._settle(0)

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None
