"""Retention (`complaintdesk retention`, the daily job privacy_retention): on a frozen clock, with
real cases handled on real dates."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.forms.models import model_to_dict
from django.test import Client

from analytics.models import CaseFact, DailyRollup
from analytics.rollups import backfill, catch_up
from complaints.ledgering import Actor
from complaints.models import Complaint, ComplaintMessage
from customers.models import Customer, Order
from evidence.actions import set_legal_hold
from ledger.crypto import SHREDDED, decrypt
from ledger.models import LedgerEvent, SubjectKey
from ledger.verify import verify
from privacy import retention
from privacy.jobs import retention_daily
from privacy.models import PrivacyRequest, RetentionRun

from .conftest import at, close_case, events, fresh, logged_in, new_case

pytestmark = pytest.mark.django_db

NOW = at(2025, 6, 1, 10)
DAYS = 3 * 365
# 3 years (1,095 days) and a day before NOW: 2022 to 2025 holds a 29 February.
OLD = NOW - timedelta(days=DAYS + 1)


@pytest.fixture(autouse=True)
def _retention(settings):  # type: ignore[no-untyped-def]
    settings.COMPLAINTDESK_PERSONAL_DATA_RETENTION_DAYS = DAYS
    settings.COMPLAINTDESK_RETENTION_AUTORUN = False


def closed_at(moment, cast, body, **fields):  # type: ignore[no-untyped-def]
    """A case received the day before `moment` and closed at `moment`."""
    with time_machine.travel(moment - timedelta(days=1), tick=False):
        complaint = new_case(body, **fields)
    with time_machine.travel(moment, tick=False):
        return close_case(complaint, cast)


@pytest.fixture
def world(cast, body):  # type: ignore[no-untyped-def]
    """张三: one case ended 3 years and a day ago (due, and so is he). 李四: a case closed yesterday.
    王五: an old case under a legal hold. 赵六: an old case still open. 钱七: an old case and a recent
    one (the old one goes on its own, he stays)."""
    old = closed_at(
        OLD,
        cast,
        body,
        description="水壶漏电，我是张三，电话 13800138000，邮箱 zs@example.com。",
    )
    yesterday = closed_at(
        NOW - timedelta(days=1),
        cast,
        body,
        complainant_name="李四",
        complainant_phone="13900000001",
        complainant_email="li.si@example.com",
    )
    held = closed_at(
        OLD, cast, body, complainant_name="王五", complainant_phone="13900000002", complainant_email="ww@example.com"
    )
    with time_machine.travel(OLD + timedelta(days=2), tick=False):
        set_legal_hold(fresh(held), actor=Actor.staff(cast.supervisor), on=True, reason="诉讼中")
    with time_machine.travel(OLD, tick=False):
        still_open = new_case(
            body, complainant_name="赵六", complainant_phone="13900000003", complainant_email="zl@example.com"
        )
    qian = {"complainant_name": "钱七", "complainant_phone": "13900000004", "complainant_email": "qq@example.com"}
    alone = closed_at(OLD, cast, body, description="钱七的旧投诉：电水壶外壳开裂。", **qian)
    recent = closed_at(NOW - timedelta(days=30), cast, body, **qian)
    assert alone.customer_id == recent.customer_id
    return {"old": old, "yesterday": yesterday, "held": held, "open": still_open, "alone": alone, "recent": recent}


def snapshot_rows() -> dict[str, list[dict]]:
    return {
        "complaints": [model_to_dict(c) for c in Complaint.objects.order_by("pk")],
        "customers": [model_to_dict(c) for c in Customer.objects.order_by("pk")],
        "messages": list(ComplaintMessage.objects.order_by("pk").values()),
        "keys": list(SubjectKey.objects.order_by("pk").values("pk", "shredded_at")),
    }


def dry_run(*args: str) -> dict:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("retention", "--dry-run", "--format", "json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_dry_run_lists_what_is_due_and_the_holds_and_changes_nothing(world):
    before, ledger = snapshot_rows(), LedgerEvent.objects.count()
    report = dry_run()
    assert report["dry_run"] is True and report["retention_days"] == DAYS
    assert [c["tracking_no"] for c in report["cases"]] == [world["old"].tracking_no, world["alone"].tracking_no]
    old = report["cases"][0]
    assert (old["ended_on"], old["retention_until"]) == ("2022-06-01", "2025-05-31")
    # 张三 goes as a whole; 钱七 stays (his recent case), 王五 is held, 赵六's case is open.
    assert [c["customer_id"] for c in report["customers"]] == [world["old"].customer_id]
    assert report["customers"][0]["last_activity_on"] == "2022-06-01"
    assert report["counts"] == {"customers": 1, "cases": 2, "held": 1}
    (held,) = report["held"]
    assert held["tracking_no"] == world["held"].tracking_no
    assert held["held_by"] == [{"hold": "legal_hold", "tracking_no": world["held"].tracking_no}]
    # nothing changed, nothing recorded
    assert snapshot_rows() == before
    assert LedgerEvent.objects.count() == ledger and not RetentionRun.objects.exists()


def test_the_text_dry_run_names_the_cases_and_the_holds(world):
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Dry run: nothing is changed" in text
    assert f"{world['old'].tracking_no} (closed, customer {world['old'].customer_id}): ended 2022-06-01" in text
    assert f"{world['held'].tracking_no} (closed): ended 2022-06-01; held by legal_hold" in text
    assert world["yesterday"].tracking_no not in text and world["open"].tracking_no not in text


def test_a_real_run_anonymises_what_is_due_keeps_the_rest_and_the_ledger_verifies(world):
    backfill()
    fact_before = model_to_dict(CaseFact.objects.get(pk=world["old"].pk))
    day = DailyRollup.objects.filter(date=fact_before["received_date"])
    day_totals = list(day.values_list("received", "closed", "resolved"))
    receive = events(world["old"], "receive")[0]
    ledger_before = LedgerEvent.objects.count()

    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("retention", "--format", "json", stdout=out)
    report = json.loads(out.getvalue())
    counts = report["counts"]
    assert (counts["customers"], counts["cases"], counts["held"]) == (1, 2, 1)
    assert counts["remaining"] == {"customers": 0, "cases": 0}

    old, alone = fresh(world["old"]), fresh(world["alone"])
    for case in (old, alone):
        assert (case.complainant_name, case.complainant_phone, case.complainant_email) == ("", "", "")
        (event,) = events(case, "erase_personal")
        assert event.data == {"retention_run": report["run"]} and event.actor == "system"
    assert "张三" not in old.description and "13800138000" not in old.description and "水壶" in old.description
    assert "zs@example.com" not in old.description and "钱七" not in alone.description
    # 张三 is erased as a whole: the profile blanked, his key destroyed, his history unreadable.
    zhang = Customer.objects.get(pk=old.customer_id)
    assert (zhang.name, zhang.phone, zhang.email) == ("", "", "")
    assert SubjectKey.objects.get(pk=zhang.subject_key_id).shredded_at is not None
    assert decrypt(receive.changes["complainant_name"][1]) is SHREDDED
    # 钱七 stays: his recent case, his profile and his key (shared with that case) are untouched.
    qian = Customer.objects.get(pk=alone.customer_id)
    assert qian.name == "钱七" and fresh(world["recent"]).complainant_name == "钱七"
    assert SubjectKey.objects.get(pk=qian.subject_key_id).shredded_at is None
    # kept: closed yesterday, under a legal hold, open
    assert fresh(world["yesterday"]).complainant_name == "李四"
    assert fresh(world["held"]).complainant_name == "王五"
    assert fresh(world["open"]).complainant_name == "赵六"
    for key in ("yesterday", "held", "open", "recent"):
        assert not events(world[key], "erase_personal")

    # two case events and no other, one run record; both chains verify
    assert LedgerEvent.objects.count() == ledger_before + 2
    run = RetentionRun.objects.get()
    assert str(run.id) == report["run"] and run.action == "retention_run" and run.trigger == "command"
    assert run.retention_days == DAYS and run.as_of == NOW and run.counts["cases"] == 2
    assert retention.erased_by_run(run).count() == run.counts["cases"]
    assert "张三" not in json.dumps(run.counts, ensure_ascii=False)
    ledger = verify()
    assert ledger.ok, ledger.problems
    assert retention.verify_runs() == []

    # the anonymised case still counts in analytics: the same fact, the same day's totals
    catch_up()
    fact_after = model_to_dict(CaseFact.objects.get(pk=world["old"].pk))
    # refreshed from the anonymised case (its erase_personal event), with the same figures
    assert fact_after.pop("last_seq") > fact_before.pop("last_seq")
    fact_after.pop("refreshed_at"), fact_before.pop("refreshed_at")
    assert fact_after == fact_before
    assert list(day.values_list("received", "closed", "resolved")) == day_totals

    # a second run finds nothing and changes nothing but its own record
    rows, ledger_count = snapshot_rows(), LedgerEvent.objects.count()
    assert dry_run()["counts"] == {"customers": 0, "cases": 0, "held": 1}
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        again = retention.run()
    assert (again.counts["customers"], again.counts["cases"], again.counts["keys_shredded"]) == (0, 0, 0)
    assert snapshot_rows() == rows and LedgerEvent.objects.count() == ledger_count
    assert RetentionRun.objects.count() == 2 and retention.verify_runs() == []


def test_a_legal_hold_on_one_case_keeps_the_persons_other_old_cases(cast, body):
    first = closed_at(OLD, cast, body)
    second = closed_at(OLD + timedelta(days=1), cast, body, complainant_phone="+86 138-0013-8000")
    with time_machine.travel(OLD + timedelta(days=5), tick=False):
        set_legal_hold(fresh(second), actor=Actor.staff(cast.supervisor), on=True, reason="诉讼中")
    report = dry_run()
    assert report["counts"] == {"customers": 0, "cases": 0, "held": 2}
    held = {row["tracking_no"]: row["held_by"] for row in report["held"]}
    assert held[first.tracking_no] == [{"hold": "person_legal_hold", "tracking_no": second.tracking_no}]
    with time_machine.travel(NOW, tick=False):
        assert retention.run().counts["cases"] == 0
    assert fresh(first).complainant_name == "张三"


def test_an_anonymised_case_is_never_due_again_unless_it_ends_again(cast, body):
    complaint = closed_at(OLD, cast, body, complainant_name="孙八", complainant_phone="13900000009")
    with time_machine.travel(NOW, tick=False):
        assert retention.run().counts["cases"] == 1
    for later in (NOW, NOW + timedelta(days=1), NOW + timedelta(days=DAYS * 2)):
        assert not retention.due_cases(later).exists() and not retention.due_customers(later).exists()
    # a case that ended again after it was anonymised (a new closing) is looked at again
    Complaint.objects.filter(pk=complaint.pk).update(closed_at=NOW + timedelta(days=1))
    assert not retention.due_cases(NOW + timedelta(days=DAYS)).exists()
    assert list(retention.due_cases(NOW + timedelta(days=DAYS + 2)).values_list("pk", flat=True)) == [complaint.pk]


def test_a_person_with_a_recent_order_keeps_the_profile_but_the_old_case_goes(cast, body):
    complaint = closed_at(OLD, cast, body)
    Order.objects.create(
        customer_id=complaint.customer_id,
        order_no="SO-1",
        ordered_at=NOW - timedelta(days=10),
        amount=Decimal("99.00"),
    )
    report = dry_run()
    assert report["counts"] == {"customers": 0, "cases": 1, "held": 0}
    with time_machine.travel(NOW, tick=False):
        retention.run()
    assert fresh(complaint).complainant_name == ""
    person = Customer.objects.get(pk=complaint.customer_id)
    assert person.name == "张三" and SubjectKey.objects.get(pk=person.subject_key_id).shredded_at is None


def test_a_case_without_a_customer_loses_its_own_key(cast, body):
    complaint = closed_at(
        OLD, cast, body, complainant_phone="", complainant_email="", complainant_address="深圳市南山区科技园路1号"
    )
    assert complaint.customer_id is None
    with time_machine.travel(NOW, tick=False):
        outcome = retention.run()
    assert (outcome.counts["cases"], outcome.counts["keys_shredded"]) == (1, 1)
    assert SubjectKey.objects.get(pk=fresh(complaint).subject_key_id).shredded_at is not None
    assert verify().ok


def test_the_limit_works_in_batches_and_a_rerun_continues(cast, body):
    phones = ["13900000011", "13900000012", "13900000013"]
    cases = [closed_at(OLD, cast, body, complainant_phone=p, complainant_email="") for p in phones]
    with time_machine.travel(NOW, tick=False):
        first = retention.run(limit=2)
        assert first.counts["customers"] == 2 and first.counts["remaining"] == {"customers": 1, "cases": 1}
        second = retention.run(limit=2)
        assert second.counts["customers"] == 1 and second.counts["remaining"] == {"customers": 0, "cases": 0}
    assert all(fresh(c).complainant_phone == "" for c in cases)
    assert [r.seq for r in RetentionRun.objects.order_by("seq")] == [1, 2] and retention.verify_runs() == []


def test_a_changed_run_record_breaks_the_run_chain(cast, body):
    closed_at(OLD, cast, body)
    with time_machine.travel(NOW, tick=False):
        retention.run()
        retention.run()
    assert verify().ok
    RetentionRun.objects.filter(seq=1).update(counts={"cases": 0})
    assert retention.verify_runs() == ["retention run 1: hash mismatch"]
    # verify_ledger checks the run chain beside the case chains.
    report = verify()
    assert not report.ok and report.first_broken == "retention run 1: hash mismatch"
    RetentionRun.objects.filter(seq=1).delete()
    assert verify().problems == ["retention run 2: missing run(s) 1–1"]


def test_the_digest_records_the_run_chain_head_so_a_deleted_latest_run_is_caught(cast, body, tmp_path):
    """Deleting the latest run leaves the chain before it intact: only the head kept outside the
    system, in the daily digest (ledger.digests), shows it is gone."""
    from ledger import digests

    closed_at(OLD, cast, body)
    with time_machine.travel(NOW, tick=False):
        retention.run()
        second = retention.run()
        digest = digests.take()
    assert digest["side_chains"] == {"retention_runs": {"seq": 2, "hash": second.run.hash}}
    path = tmp_path / "digest.json"
    path.write_text(digests.render(digest), encoding="utf-8")
    out = StringIO()
    call_command("verify_ledger", "--against", str(path), stdout=out)
    assert "Ledger intact" in out.getvalue()

    RetentionRun.objects.filter(seq=2).delete()
    assert verify().ok  # the chain alone: run 1 is intact and is its head now
    report = verify(digest=json.loads(path.read_text(encoding="utf-8")))
    assert report.problems == ["retention run 2: the exported digest recorded it, and it is gone"]
    out = StringIO()
    with pytest.raises(CommandError, match="does not verify"):
        call_command("verify_ledger", "--against", str(path), stdout=out)
    assert "First broken: retention run 2: the exported digest recorded it, and it is gone" in out.getvalue()

    # A later run at seq 2 again does not pass for the one recorded: its hash differs.
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        retention.run()
    assert verify(digest=digest).problems == [
        "retention run 2: its hash differs from the one the exported digest recorded"
    ]
    assert verify(digest={**digest, "side_chains": {"retention_runs": "x"}}).problems == [
        "retention runs: the digest's head of the run chain is not {seq, hash}"
    ]


def test_an_erasure_request_and_retention_share_the_machinery(cast, body, api_as):
    """Erased on request first: retention has nothing left to do for the person."""
    complaint = closed_at(OLD, cast, body)
    with time_machine.travel(NOW, tick=False):
        response = api_as(cast.legal).post(
            f"/privacy/customers/{complaint.customer_id}/erase", {"reason": "本人书面申请删除"}
        )
        assert response.status_code == 200, response.content
        assert retention.plan().counts == {"customers": 0, "cases": 0, "held": 0}
    (event,) = events(complaint, "erase_personal")
    assert event.data == {"request": PrivacyRequest.objects.get(status="done").pk}


def test_the_options_are_checked_and_errors_name_them(world):
    with time_machine.travel(NOW, tick=False):
        for args, option in [
            (["--format", "xml"], "--format"),
            (["--limit", "0"], "--limit"),
            (["--limit", "many"], "--limit"),
            (["--as-of", "2025-13-01"], "--as-of"),
            (["--as-of", "2025-06-02"], "--as-of"),  # a real run never looks ahead
        ]:
            with pytest.raises(CommandError) as error:
                call_command("retention", *args, stdout=StringIO())
            assert str(error.value).startswith(option), (args, str(error.value))
    assert not RetentionRun.objects.exists() and fresh(world["old"]).complainant_name == "张三"


def test_as_of_a_past_day_and_a_future_dry_run(world):
    # as of the start of 2025-05-31 the case ended on 2022-06-01 10:00 is not yet due
    earlier = dry_run("--as-of", "2025-05-31")
    assert earlier["counts"]["cases"] == 0
    # a dry run may look ahead: by then yesterday's case is due as well
    later = dry_run("--as-of", (NOW + timedelta(days=DAYS + 1)).date().isoformat(), "--limit", "1")
    assert later["counts"]["cases"] == 4 and len(later["cases"]) == 1


def test_the_daily_job_is_off_unless_enabled_and_runs_once_a_day(world, settings):
    assert retention_daily(NOW) == "off"
    settings.COMPLAINTDESK_RETENTION_AUTORUN = True
    settings.COMPLAINTDESK_RETENTION_BATCH = 500
    with time_machine.travel(NOW, tick=False):
        counts = retention_daily(NOW)
    assert counts["cases"] == 2 and RetentionRun.objects.get().trigger == "schedule"
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        assert retention_daily() == "done today"
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert retention_daily()["cases"] == 0
    assert RetentionRun.objects.count() == 2


def test_the_retention_page_shows_the_dry_run_to_legal_auditors_and_admins_only(world, cast):
    anonymous = Client().get("/staff/privacy/retention/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    for role in ("agent", "supervisor", "manager", "analyst", "handler", "outsider"):
        assert logged_in(getattr(cast, role)).get("/staff/privacy/retention/").status_code == 403, role
    before = LedgerEvent.objects.count()
    for role in ("legal", "auditor", "admin"):
        with time_machine.travel(NOW, tick=False):
            page = logged_in(getattr(cast, role)).get("/staff/privacy/retention/")
        assert page.status_code == 200, role
        html = page.content.decode()
        assert 'id="retention-cases"' in html and world["old"].tracking_no in html
        assert 'id="retention-held"' in html and world["held"].tracking_no in html
        assert world["yesterday"].tracking_no not in html and "张三" not in html and "13800138000" not in html
    assert LedgerEvent.objects.count() == before and fresh(world["old"]).complainant_name == "张三"
