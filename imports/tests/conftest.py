"""Files to import, written the way other systems write them, and a helper that imports one."""

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from imports.service import CsvErrorReport, Summary, run_import

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
CFPB = SHARED / "cfpb_structured.csv"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Uploads of the import page go to a folder of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def cfpb_slice(tmp_path: Path) -> Callable[[int], Path]:
    """The first n data rows of ../shared/data/cfpb_structured.csv (skips where the data is absent)."""

    def make(n: int) -> Path:
        if not CFPB.exists():
            pytest.skip(f"{CFPB} is absent: the CFPB import tests need the shared data (see DESIGN.md §12)")
        out = tmp_path / f"cfpb-{n}.csv"
        with CFPB.open(encoding="utf-8", newline="") as src, out.open("w", encoding="utf-8", newline="") as dst:
            reader, writer = csv.reader(src), csv.writer(dst)
            writer.writerow(next(reader))
            for i, row in enumerate(reader):
                if i >= n:
                    break
                writer.writerow(row)
        return out

    return make


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    text = io.StringIO()
    csv.writer(text).writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def write_jsonl(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), "utf-8")
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


class Run:
    """The outcome of one import: the summary and the error report as CSV rows."""

    def __init__(self, summary: Summary, report: list[list[str]]) -> None:
        self.summary = summary
        self.report = report

    @property
    def errors(self) -> list[dict[str, str]]:
        header, *rows = self.report
        return [dict(zip(header, r, strict=True)) for r in rows]


def import_file(path: Path, fmt: str, **options: Any) -> Run:
    out = io.StringIO()
    with path.open("rb") as raw:
        summary = run_import(raw, fmt=fmt, errors=CsvErrorReport(out), **options)
    report = list(csv.reader(io.StringIO(out.getvalue().lstrip("\ufeff"))))
    return Run(summary, report)


@pytest.fixture
def run() -> Callable[..., Run]:
    return import_file
