"""Importing CFPB's published complaint data: no mapping file, idempotent, complete cases whose ledger
verifies, original dates and numbers, states from the company's response."""

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from complaints import actions
from complaints.choices import Channel, Outcome, Status
from complaints.ledgering import PERSONAL_FIELDS
from complaints.models import Complaint, TrackingSequence
from complaints.search import index_text
from imports.cfpb import COLUMNS
from ledger import chain
from ledger.crypto import decrypt
from ledger.models import LedgerEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")


def cfpb_file(tmp_path, rows: list[dict[str, str]], name: str = "cfpb.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" for c in COLUMNS} | row)
    return path


def record(**values: str) -> dict[str, str]:
    base = {
        "Complaint ID": "1000001",
        "Date received": "2019-09-24",
        "Product": "Debt collection",
        "Sub-product": "I do not know",
        "Issue": "Attempts to collect debt not owed",
        "Sub-issue": "Debt is not yours",
        "Company": "TRANSWORLD SYSTEMS INC",
        "State": "FL",
        "ZIP code": "335XX",
        "Submitted via": "Web",
        "Date sent to company": "2019-09-25",
        "Company response to consumer": "Closed with explanation",
        "Timely response?": "Yes",
        "Consumer disputed?": "",
    }
    return base | values


def verify() -> str:
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    return out.getvalue()


def test_a_slice_of_the_real_cfpb_file_imports_completely_and_the_ledger_verifies(org, cfpb_slice, run):
    first = run(cfpb_slice(400), "cfpb")
    s = first.summary
    assert s.rows == 400 and s.created + s.errors == 400 and s.created >= 395
    assert Complaint.objects.filter(external_source="cfpb").count() == s.created
    assert LedgerEvent.objects.filter(action="import", seq=1).count() == s.created
    # The file's provenance column is not CFPB's: named once as a warning, never an error.
    assert any("source" in w for w in s.warnings)
    assert "Ledger intact" in verify()

    again = run(cfpb_slice(400), "cfpb")
    assert again.summary.created == 0 and again.summary.skipped_existing == s.created
    assert Complaint.objects.count() == s.created


def test_every_imported_case_is_numbered_and_dated_by_its_cfpb_date(org, tmp_path, run):
    TrackingSequence.objects.create(day="2019-09-24", last=41)  # intake already numbered that day
    path = cfpb_file(
        tmp_path,
        [
            record(**{"Complaint ID": "1", "Date received": "2019-09-24"}),
            record(**{"Complaint ID": "2", "Date received": "09/24/2019"}),  # CFPB's older format
            record(**{"Complaint ID": "3", "Date received": "2015-01-31"}),
        ],
    )
    assert run(path, "cfpb").summary.created == 3
    cases = {c.external_id: c for c in Complaint.objects.all()}
    assert cases["1"].tracking_no == "TS20190924-000042"
    assert cases["2"].tracking_no == "TS20190924-000043"
    assert cases["3"].tracking_no == "TS20150131-000001"
    assert cases["3"].received_at == datetime(2015, 1, 31, tzinfo=SHANGHAI)


def test_states_follow_the_company_response(org, tmp_path, run):
    responses = {
        "a": "Closed with explanation",
        "b": "Closed with monetary relief",
        "c": "Closed without relief",
        "d": "Closed",
        "e": "In progress",
        "f": "Untimely response",
        "g": "",
    }
    path = cfpb_file(
        tmp_path,
        [record(**{"Complaint ID": k, "Company response to consumer": v}) for k, v in responses.items()],
    )
    assert run(path, "cfpb").summary.created == 7
    c = {x.external_id: x for x in Complaint.objects.all()}
    sent = datetime(2019, 9, 25, tzinfo=SHANGHAI)
    assert c["a"].status == Status.CLOSED and c["a"].outcome == Outcome.EXECUTED
    assert c["a"].accepted_at == c["a"].acknowledged_at == c["a"].resolved_at == c["a"].closed_at == sent
    assert c["a"].reply_text and c["a"].outcome_note == "Closed with explanation"
    assert c["b"].outcome == Outcome.EXECUTED
    for key in ("c", "d"):
        assert c[key].status == Status.CLOSED and c[key].outcome == Outcome.FINAL_DECISION
        assert c[key].open_routes == ["regulator"]
    assert c["e"].status == Status.IN_PROGRESS and c["e"].accepted_at == sent and c["e"].resolved_at is None
    assert c["f"].status == Status.ACCEPTED and c["f"].resolution_due_at is not None
    assert c["g"].status == Status.NEW and c["g"].accepted_at is None and c["g"].ack_due_at is not None
    # Clocks that ran out years ago are stamped at import: the queue shows them breached, and the
    # SLA tick neither notifies nor escalates history.
    assert c["e"].resolution_breached_at is not None and c["g"].ack_breached_at is not None
    counts = actions.sla_tick()
    assert counts["ack_breach"] == counts["resolution_breach"] == 0
    assert counts["ack_warning"] == counts["resolution_warning"] == 0
    assert not LedgerEvent.objects.filter(action__in=["sla_breach", "sla_warning"]).exists()
    # The tick archives the closed ones (closed more than 90 days ago), as for any case; still intact.
    assert counts["archived"] == 4
    assert "Ledger intact" in verify()


def test_columns_map_to_channel_region_category_and_text(org, tmp_path, run):
    path = cfpb_file(
        tmp_path,
        [
            record(**{"Complaint ID": "web"}),
            record(**{"Complaint ID": "ref", "Submitted via": "Referral", "Issue": "Billing disputes"}),
            record(**{"Complaint ID": "mail", "Submitted via": "Postal mail", "ZIP code": "2134.0"}),
            record(**{"Complaint ID": "fax", "Submitted via": "Fax", "Issue": "Incorrect information on your report"}),
            record(
                **{
                    "Complaint ID": "narr",
                    "Consumer complaint narrative": "They keep calling about a debt that is not mine.",
                    "Issue": "Communication tactics",
                    "Consumer disputed?": "Yes",
                    "Timely response?": "No",
                }
            ),
        ],
    )
    assert run(path, "cfpb").summary.created == 5
    c = {x.external_id: x for x in Complaint.objects.select_related("category", "subcategory")}
    web = c["web"]
    assert (web.channel, web.country, web.us_state, web.postal_code, web.language) == ("web", "US", "FL", "335XX", "en")
    assert web.product_name == "Debt collection"
    assert web.title == "Attempts to collect debt not owed / Debt is not yours"
    assert "TRANSWORLD SYSTEMS INC" in web.description  # composed: the consumer wrote no narrative
    assert web.category is None  # no category of ours plainly fits
    assert web.anonymous and web.customer_id is None and web.subject_key_id
    assert c["ref"].channel == Channel.REGULATOR_REFERRAL
    assert c["ref"].regulator_due_at == datetime(2019, 10, 10, tzinfo=SHANGHAI)  # sent + 15 days
    assert c["ref"].category.code == "billing_error"
    assert c["mail"].channel == Channel.LETTER and c["mail"].postal_code == "02134"
    assert c["fax"].channel == Channel.OTHER
    narr = c["narr"]
    assert narr.description == "They keep calling about a debt that is not mine."
    assert (narr.category.code, narr.subcategory.code) == ("service", "service-attitude")
    expected = index_text(
        narr.title, narr.description, narr.product_name, narr.product_model, narr.product_sku, narr.tracking_no,
        words=False,
    )  # fmt: skip
    assert narr.search_text == expected
    event = LedgerEvent.objects.get(complaint=narr)
    assert (event.seq, event.action, event.prev_hash, event.actor) == (1, "import", chain.GENESIS, "system")
    assert event.hash == chain.event_hash(event)
    assert set(event.changes) >= {"tracking_no", "received_at", "status", "description"}
    for name in PERSONAL_FIELDS:
        value = event.changes[name][1]
        assert value in ("", None) or set(value) == {"enc", "k"}
    assert decrypt(event.changes["description"][1]) == narr.description
    assert event.data["cfpb"]["company"] == "TRANSWORLD SYSTEMS INC"
    assert event.data["cfpb"]["consumer_disputed"] == "Yes"
    note = decrypt(event.data["note"])
    assert "Consumer disputed" in note and "Timely response" in note


def test_bad_cfpb_rows_are_reported_and_the_good_ones_land(org, tmp_path, run):
    path = cfpb_file(
        tmp_path,
        [
            record(**{"Complaint ID": "ok1"}),
            record(**{"Complaint ID": "baddate", "Date received": "24th of Sept"}),
            record(**{"Complaint ID": "", "Issue": "no id"}),
            record(**{"Complaint ID": "odd", "Company response to consumer": "Closed by magic"}),
            record(**{"Complaint ID": "future", "Date received": "2099-01-01"}),
            record(**{"Complaint ID": "ok2"}),
        ],
    )
    result = run(path, "cfpb")
    assert result.summary.created == 2 and result.summary.errors == 4
    by_row = {int(e["row"]): e for e in result.errors}
    assert by_row[2]["field"] == "Date received" and "24th of Sept" in by_row[2]["reason"]
    assert by_row[3]["field"] == "Complaint ID"
    assert by_row[4]["field"] == "Company response to consumer" and by_row[4]["source_id"] == "odd"
    assert by_row[5]["field"] == "Date received"
    assert set(Complaint.objects.values_list("external_id", flat=True)) == {"ok1", "ok2"}


def test_a_file_without_cfpb_columns_is_refused_before_anything_is_written(org, tmp_path, run):
    from imports.service import ImportFailed

    path = tmp_path / "other.csv"
    path.write_text("id,description\n1,hello there\n", "utf-8")
    with pytest.raises(ImportFailed, match="Complaint ID"):
        run(path, "cfpb")
    assert not Complaint.objects.exists()
