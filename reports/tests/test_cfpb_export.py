import csv
import io
import json

from django.core.management import call_command

from imports import cfpb

from .conftest import at, category, filed, set_fields

RANGE = {"received_from": "2026-10-01", "received_to": "2026-10-31", "format": "cfpb"}


def _export(api, **extra):  # type: ignore[no-untyped-def]
    response = api.post("/reports/exports", {**RANGE, **extra})
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def _us_case(body, org):  # type: ignore[no-untyped-def]
    complaint = filed(
        body,
        at(2026, 10, 8, 9),
        org_unit=org.store_sz.pk,
        product_name="Checking account",
        description="They charged me twice; call me at 555-123-4567 or jo@example.com.",
    )
    return set_fields(
        complaint,
        country="US",
        us_state="CA",
        postal_code="94110",
        status="closed",
        outcome="final_decision",
        category=category("billing_error"),
        accepted_at=at(2026, 10, 9, 9),
        closed_at=at(2026, 10, 20, 9),
    )


def test_cfpb_export_has_the_18_published_columns_in_order(cast, api_as, body, org):
    _us_case(body, org)
    content = _export(api_as(cast.auditor))
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == cfpb.COLUMNS and len(rows[0]) == 18
    record = dict(zip(rows[0], rows[1], strict=False))
    assert record["Date received"] == "2026-10-08"
    assert record["State"] == "CA" and record["ZIP code"] == "941XX"
    assert record["Company response to consumer"] == "Closed without relief"
    assert record["Date sent to company"] == "2026-10-09"
    assert record["Consumer complaint narrative"] == ""
    assert record["Consumer consent provided?"] == "Consent not provided"
    assert record["Company"] == org.company.name


def test_cfpb_narrative_goes_out_only_on_request_and_without_contact_details(cast, api_as, body, org):
    _us_case(body, org)
    content = _export(api_as(cast.auditor), include_narrative=True).decode("utf-8-sig")
    record = next(csv.DictReader(io.StringIO(content)))
    assert "charged me twice" in record["Consumer complaint narrative"]
    assert "555-123-4567" not in content and "jo@example.com" not in content


def test_cfpb_export_is_accepted_by_the_cfpb_importer(cast, api_as, body, org, tmp_path):
    _us_case(body, org)
    path = tmp_path / "cfpb.csv"
    path.write_bytes(_export(api_as(cast.auditor), include_narrative=True))
    out = io.StringIO()
    call_command(
        "import_complaints",
        str(path),
        "--format",
        "cfpb",
        "--dry-run",
        "--no-progress",
        stdout=out,
        stderr=io.StringIO(),
    )
    summary = json.loads(out.getvalue())
    assert summary["dry_run"] and summary["created"] == 1, summary
    assert summary["warnings"] == [] and summary["errors"] == 0, summary


def test_cfpb_export_keeps_to_the_users_cases(cast, api_as, body, org):
    _us_case(body, org)
    content = _export(api_as(cast.outsider)).decode("utf-8-sig")
    assert list(csv.DictReader(io.StringIO(content))) == []


def _record(content: bytes, complaint_id: str) -> dict[str, str]:
    rows = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
    return next(r for r in rows if r["Complaint ID"] == complaint_id)


def _remedy(complaint, user, **fields):  # type: ignore[no-untyped-def]
    from resolutions.models import Remedy

    return Remedy.objects.create(complaint=complaint, proposed_by=user, **fields)


def test_cfpb_relief_comes_from_paid_remedies_not_the_proposal(cast, api_as, body, org):
    proposed_only, paid_money, repaired = (_us_case(body, org) for _i in range(3))
    for c in (proposed_only, paid_money, repaired):
        set_fields(c, outcome="executed")
    set_fields(proposed_only, proposal_amount="300.00")  # offered, never paid
    _remedy(proposed_only, cast.supervisor, kind="compensation", amount="300.00", status="proposed")
    _remedy(paid_money, cast.supervisor, kind="return_refund", amount="120.00", status="paid")
    _remedy(repaired, cast.supervisor, kind="repair", status="paid")
    _remedy(repaired, cast.supervisor, kind="apology", status="paid")
    content = _export(api_as(cast.auditor))
    response = "Company response to consumer"
    assert _record(content, proposed_only.tracking_no)[response] == "Closed with explanation"
    assert _record(content, paid_money.tracking_no)[response] == "Closed with monetary relief"
    assert _record(content, repaired.tracking_no)[response] == "Closed with non-monetary relief"


def test_cfpb_export_of_imported_cases_keeps_their_response_sub_product_and_no_made_up_narrative(
    cast, api_as, org, tmp_path
):
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=cfpb.COLUMNS)
        writer.writeheader()
        base = dict.fromkeys(cfpb.COLUMNS, "") | {
            "Date received": "2026-10-08",
            "Product": "Checking or savings account",
            "Sub-product": "Checking account",
            "Issue": "Managing an account",
            "Sub-issue": "Deposits and withdrawals",
            "Company": "EXAMPLE BANK",
            "State": "CA",
            "ZIP code": "941XX",
            "Submitted via": "Web",
            "Date sent to company": "2026-10-09",
            "Timely response?": "Yes",
        }
        relief = "Closed with non-monetary relief"
        writer.writerow(base | {"Complaint ID": "9000001", "Company response to consumer": relief})
        writer.writerow(
            base
            | {
                "Complaint ID": "9000002",
                "Company response to consumer": "Closed with monetary relief",
                "Consumer complaint narrative": "The bank held my deposit for ten days.",
            }
        )
    call_command("import_complaints", str(path), "--format", "cfpb", "--no-progress", stdout=io.StringIO())
    content = _export(api_as(cast.auditor), include_narrative=True)
    summarised, narrated = _record(content, "9000001"), _record(content, "9000002")
    assert summarised["Company response to consumer"] == "Closed with non-monetary relief"
    assert narrated["Company response to consumer"] == "Closed with monetary relief"
    assert summarised["Consumer complaint narrative"] == ""  # the importer's summary is not a narrative
    assert summarised["Consumer consent provided?"] == "Consent not provided"
    assert narrated["Consumer complaint narrative"] == "The bank held my deposit for ten days."
    assert summarised["Sub-product"] == "Checking account"
    assert (summarised["Issue"], summarised["Sub-issue"]) == ("Managing an account", "Deposits and withdrawals")


def test_cfpb_narrative_is_recorded_as_a_personal_data_export_and_include_personal_alone_is_not(
    cast, api_as, body, org
):
    from ledger.models import LedgerEvent

    complaint = _us_case(body, org)
    _export(api_as(cast.auditor), include_personal=True)
    assert not LedgerEvent.objects.filter(complaint=complaint, action="export_personal").exists()
    _export(api_as(cast.auditor), include_narrative=True)
    event = LedgerEvent.objects.get(complaint=complaint, action="export_personal")
    assert event.data == {"how": "export_file", "export": "cfpb"}


def test_cfpb_export_leaves_out_merged_duplicates(cast, api_as, body, org):
    survivor, duplicate = _us_case(body, org), _us_case(body, org)
    set_fields(duplicate, status="merged", merged_into=survivor)
    content = _export(api_as(cast.auditor)).decode("utf-8-sig")
    assert [r["Complaint ID"] for r in csv.DictReader(io.StringIO(content))] == [survivor.tracking_no]
