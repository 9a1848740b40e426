"""Fuzzing the bulk import (issue 9 item 5): CSV, JSON Lines and XLSX files made of generated cells,
encodings, delimiters and damaged bytes, read and converted row by row (a dry run: rows are parsed,
mapped and checked against the intake rules, nothing is written). The documented outcomes are a
Summary (with rows refused for a reason) or ImportFailed for a file that cannot be read at all;
anything else raised is a crash.

Hypothesis runs derandomized (the same files on every run) with a bounded number of examples."""

import csv
import io
import json
from datetime import date, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from complaints.models import Complaint
from imports.service import ImportFailed, Summary, run_import

FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

# Columns named like intake fields map to themselves (no mapping file); `id` is the source id.
COLUMNS = [
    "id",
    "description",
    "complainant_name",
    "complainant_phone",
    "complainant_email",
    "received_at",
    "occurred_at",
    "purchase_date",
    "amount_paid",
    "amount_claimed",
    "category",
    "remedies_requested",
    "risk_flags",
    "anonymous",
    "org_unit",
    "province_code",
    "channel",
    "priority",
]
# Values that have broken parsers before: dates in every shape, numbers past every limit, control
# characters, quotes and delimiters, text in both encodings, lists and objects where text belongs.
NASTY = [
    "",
    " ",
    "2024-02-30",
    "2024/03/05 25:61",
    "0001-01-01",
    "9999-12-31T23:59:59+14:00",
    "1e309",
    "NaN",
    "-0",
    "99999999999999999999999999",
    "12345678901234567890123",
    "18446744073709551616",
    "-1",
    "\x00",
    "\x1b[31m",
    '"',
    '""',
    ",;\t",
    "\r\n",
    "漏电 ✓ 😀",
    "\ufeffid",
    "refund、compensation；apology",
    "是",
    "匿名",
    "P1",
    "phone",
    "440000",
    "product_quality",
    "a" * 3000,
]
cell_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=60))
columns = st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=8, unique=True).map(
    lambda names: names if "id" in names else ["id", *names]
)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(columns)
    width = len(header)
    # Mostly rows as wide as the header (they reach the intake rules), some ragged.
    row = st.lists(cell_text, min_size=width, max_size=width) | st.lists(cell_text, max_size=width + 2)
    rows = draw(st.lists(row, max_size=6))
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    data = text.getvalue().encode(encoding, errors="replace")
    if draw(st.booleans()):  # a stray byte, or a file cut off in the middle
        data = data + draw(st.binary(max_size=20))
        data = data[: draw(st.integers(1, len(data)))]
    return data


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        cell_text,
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    keys = draw(columns)
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        record = {key: draw(json_values) for key in keys if draw(st.booleans()) or key == "id"}
        lines.append(json.dumps(record, ensure_ascii=draw(st.booleans())))
    if draw(st.booleans()):
        lines.insert(draw(st.integers(1, len(lines))), draw(st.sampled_from(["[1, 2]", "{", "null", '"text"', ""])))
    return ("\n".join(lines) + "\n").encode()


xlsx_cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    cell_text.map(lambda text: "".join(c for c in text if c >= " " or c in "\t\n\r")),
)


@st.composite
def xlsx_files(draw: st.DrawFn) -> bytes:
    from openpyxl import Workbook

    header = draw(columns)
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in draw(st.lists(st.lists(xlsx_cells, max_size=len(header) + 1), max_size=4)):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if draw(st.integers(0, 3)) == 0:  # a damaged file: bytes flipped, or cut off
        blob = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            blob[draw(st.integers(0, len(blob) - 1))] = draw(st.integers(0, 255))
        data = bytes(blob[: draw(st.integers(len(blob) // 2, len(blob)))])
    return data


def import_dry(data: bytes, fmt: str) -> Summary | None:
    """The summary of a dry run, or None when the file was refused as a whole (ImportFailed)."""
    try:
        summary = run_import(io.BytesIO(data), fmt=fmt, source="fuzz", dry_run=True, pipeline=False)
    except ImportFailed as refused:
        assert str(refused), "a refusal says why"
        return None
    assert summary.created == 0
    assert summary.errors <= summary.rows
    return summary


@FUZZ
@given(data=st.one_of(csv_files(), st.binary(max_size=400)))
def test_any_csv_file_is_imported_row_by_row_or_refused_with_a_reason(db, data):
    import_dry(data, "csv")
    assert not Complaint.objects.exists()


@FUZZ
@given(data=st.one_of(jsonl_files(), st.binary(max_size=400)))
def test_any_json_lines_file_is_imported_row_by_row_or_refused_with_a_reason(db, data):
    import_dry(data, "jsonl")
    assert not Complaint.objects.exists()


@settings(FUZZ, max_examples=40)
@given(data=st.one_of(xlsx_files(), st.binary(max_size=400)))
def test_any_xlsx_file_is_imported_row_by_row_or_refused_with_a_reason(db, data):
    import_dry(data, "xlsx")
    assert not Complaint.objects.exists()


def test_the_generated_files_do_reach_the_rows(db):
    """The fuzzing above means something only if generated rows get through the readers to the
    intake rules: a well-formed generated file is read, and its bad cells are refused per row."""
    header = ["id", "description", "received_at", "amount_paid"]
    rows: list[list[Any]] = [["A-1", "漏电", "2024-02-30", "1e309"], ["A-2", "\x1b[31m", "2024-03-05", "12"]]
    text = io.StringIO()
    csv.writer(text).writerows([header, *rows])
    summary = import_dry(text.getvalue().encode(), "csv")
    assert summary is not None and summary.rows == 2 and summary.errors == 2
    fields = {error["field"] for error in summary.first_errors}
    assert {"received_at", "description"} <= fields
