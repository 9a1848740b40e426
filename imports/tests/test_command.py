"""complaintdesk import_complaints: JSON summary on stdout, progress on stderr, the error report file
with spreadsheet formulas neutralised, exit status 0 when it ran and 2 for a fatal problem."""

import csv
import io
import json

import pytest
from django.core.management import call_command

from complaints.models import Complaint
from core.spreadsheet import safe_cell, safe_row
from ledger.models import LedgerEvent

from .conftest import write_csv

HEADER = ["id", "description", "complainant_phone", "received_at"]


def command(*args: str) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_complaints", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    return status, json.loads(out.getvalue()), err.getvalue()


def test_command_prints_a_json_summary_and_writes_the_error_report(org, tmp_path):
    path = write_csv(
        tmp_path / "in.csv",
        [
            HEADER,
            ["1", "热水器漏水，要求上门维修。", "13800138000", "2024-05-01"],
            ['=HYPERLINK("http://evil.example","点我")', "太短", "13800138001", "2024-05-01"],
            ["+2", "冰箱不制冷，要求更换。", "not a phone", "2024-05-01"],
            ["@3", "洗衣机噪音很大。", "13800138003", "-5"],
            ["4", "电视黑屏，要求退货。", "13800138004", "2024-05-02"],
        ],
    )
    report = tmp_path / "errors.csv"
    status, summary, stderr = command(str(path), "--format", "csv", "--source", "crm", "--errors", str(report))
    assert status == 0
    assert {k: summary[k] for k in ("rows", "created", "skipped_existing", "errors")} == {
        "rows": 5,
        "created": 2,
        "skipped_existing": 0,
        "errors": 3,
    }
    assert summary["seconds"] > 0 and summary["rows_per_second"] > 0
    assert "import" in stderr  # tqdm's bar
    text = report.read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["row", "line", "source_id", "field", "reason"]
    ids = {r[2] for r in rows[1:]}
    # Formula injection: every cell a spreadsheet would evaluate starts with an apostrophe.
    assert ids == {'\'=HYPERLINK("http://evil.example","点我")', "'+2", "'@3"}
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    assert any(r[3] == "received_at" and "-5" in r[4] for r in rows[1:])

    status, again, _ = command(str(path), "--format", "csv", "--source", "crm", "--no-progress")
    assert status == 0 and again["created"] == 0 and again["skipped_existing"] == 2


def test_dry_run_from_the_command_line_writes_nothing(org, tmp_path):
    path = write_csv(tmp_path / "in.csv", [HEADER, ["1", "热水器漏水，要求上门维修。", "13800138000", "2024-05-01"]])
    status, summary, _ = command(str(path), "--format", "csv", "--source", "crm", "--dry-run", "--no-progress")
    assert status == 0 and summary["dry_run"] and summary["created"] == 1
    assert not Complaint.objects.exists() and not LedgerEvent.objects.exists()


@pytest.mark.parametrize(
    ("setup", "args"),
    [
        (lambda p: None, ["--format", "csv", "--source", "crm"]),  # no such file
        (
            lambda p: p.write_bytes("id,description\n1,Café froid\n".encode("latin-1")),
            ["--format", "csv", "--source", "x"],
        ),
        (lambda p: p.write_text("id,description\n1,hello world\n"), ["--format", "csv"]),  # no source
        (lambda p: p.write_text("id,description\n1,hello world\n"), ["--format", "cfpb"]),  # not CFPB
        (lambda p: p.write_bytes(b"not a zip"), ["--format", "xlsx", "--source", "x"]),
    ],
)
def test_fatal_problems_exit_with_status_2_and_say_why(org, tmp_path, setup, args):
    path = tmp_path / "in.file"
    setup(path)
    status, summary, stderr = command(str(path), *args, "--no-progress")
    assert status == 2 and summary["fatal"] and summary["fatal"] in stderr
    assert not Complaint.objects.exists()


def test_a_bad_mapping_file_exits_with_status_2(org, tmp_path):
    path = write_csv(tmp_path / "in.csv", [HEADER, ["1", "热水器漏水，要求上门维修。", "13800138000", "2024-05-01"]])
    broken = tmp_path / "mapping.json"
    broken.write_text("{not json", "utf-8")
    assert command(str(path), "--format", "csv", "--mapping", str(broken))[0] == 2
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"source": "crm", "id": "工单号", "fields": {}}), "utf-8")
    status, summary, _ = command(str(path), "--format", "csv", "--mapping", str(wrong), "--no-progress")
    assert status == 2 and "工单号" in summary["fatal"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+CMD|' /C calc'!A0", "'+CMD|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1", "'  =1"),
        ("普通文本", "普通文本"),
        ("a=b", "a=b"),
        (-5, -5),
        (None, ""),
    ],
)
def test_safe_cell_neutralises_what_a_spreadsheet_would_evaluate(value, expected):
    assert safe_cell(value) == expected
    assert safe_row([value]) == [expected]
