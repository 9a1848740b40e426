"""Constant memory: the import streams, so its peak does not grow with the file (tracemalloc)."""

import time
import tracemalloc
from pathlib import Path

import pytest

from imports.service import CsvErrorReport, run_import

HEADER = "id,description,received_at,product_name,anonymous\n"


def generated(path: Path, rows: int, prefix: str) -> Path:
    """A generic CSV of `rows` complaints, streamed to disk; one row in 50 is bad (an odd date)."""
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(rows):
            day = "someday" if n % 50 == 7 else f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
            out.write(
                f"{prefix}{n},第{n}号投诉：电热水壶使用三天后漏电，要求退款并赔偿损失。,{day},电热水壶 KT-{n % 97},1\n"
            )
    return path


def peak_of(path: Path, report: Path) -> tuple[int, object]:
    with path.open("rb") as raw, report.open("w", encoding="utf-8") as errors:
        tracemalloc.start()
        try:
            summary = run_import(raw, fmt="csv", source="gen", errors=CsvErrorReport(errors))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peak, summary


@pytest.mark.slow  # about 3 minutes under tracemalloc: 110,000 rows written
def test_peak_memory_is_flat_from_ten_thousand_to_a_hundred_thousand_rows(org, tmp_path):
    small_peak, small = peak_of(generated(tmp_path / "small.csv", 10_000, "s"), tmp_path / "small-errors.csv")
    started = time.monotonic()
    large_peak, large = peak_of(generated(tmp_path / "large.csv", 100_000, "l"), tmp_path / "large-errors.csv")
    assert (small.created, small.errors) == (9_800, 200)
    assert (large.created, large.errors) == (98_000, 2_000)
    took = time.monotonic() - started
    print(f"peak {small_peak / 1e6:.1f} MB at 10k rows, {large_peak / 1e6:.1f} MB at 100k ({took:.0f} s)")
    assert large_peak < small_peak * 1.25 + 2_000_000
