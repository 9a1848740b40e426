"""Findings: a valid complaint takes effect at once; unfounded or malicious needs a justification,
evidence and a supervisor who is not the author; the consumer is told the outcome courteously."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from complaints.ledgering import Actor
from complaints.models import ComplaintMessage
from core.errors import ValidationError
from investigation import actions
from investigation.models import Finding
from ledger.models import LedgerEvent

from .conftest import evidence_on, file_case, fresh, work_on

JUSTIFICATION = "检测报告显示产品无漏电，监控录像显示投诉人自行拆改电源线，与所述情况不符。"
FORBIDDEN_WORDS = ("恶意", "不实", "malicious", "unfounded", "Malicious", "Unfounded")


def record(case, user, **overrides):  # type: ignore[no-untyped-def]
    values = {
        "facts": "经检测，电热水壶底座接线松动导致漏电，属产品制造缺陷。",
        "root_cause": "manufacturing",
        "responsibility": "ours",
        "nature": "valid",
        **overrides,
    }
    return actions.record_finding(fresh(case), actor=Actor.staff(user), **values)


def consumer_notes(case) -> list[str]:  # type: ignore[no-untyped-def]
    return list(ComplaintMessage.objects.filter(complaint=case, internal=False).values_list("body", flat=True))


def test_a_valid_finding_takes_effect_at_once_and_the_consumer_is_told(cast, filed, api_as):
    case, code = filed
    finding = record(case, cast.agent)
    assert finding.status == "effective" and fresh(case).nature == "valid"
    notes = consumer_notes(case)
    assert len(notes) == 1 and "属实" in notes[0] and case.tracking_no in notes[0]
    events = list(LedgerEvent.objects.filter(complaint=case).order_by("seq"))[-2:]
    assert [e.action for e in events] == ["record_finding", "add_note"]
    assert events[0].changes["nature"] == ["", "valid"] and events[0].data["root_cause"] == "manufacturing"
    assert "接线松动" not in str(events[0].data)  # the facts are encrypted
    # the status page shows it (API and HTML)
    view = api_as().get(f"/public/complaints/{case.tracking_no}", headers={"X-Access-Code": code}).json()
    assert any("属实" in (e["message"] or "") for e in view["timeline"])
    page = Client().post("/status/", {"tracking_no": case.tracking_no, "access_code": code}).content.decode()
    assert "确认您反映的问题属实" in page


def test_unfounded_needs_a_justification_and_evidence(cast, case, body):
    version = fresh(case).version
    with pytest.raises(ValidationError) as refused:
        record(case, cast.agent, nature="unfounded", justification="不符", root_cause="nonsense", responsibility="x")
    assert set(refused.value.errors) == {"justification", "evidence", "root_cause", "responsibility"}
    with pytest.raises(ValidationError) as refused:
        record(case, cast.agent, facts="短", nature="whatever")
    assert set(refused.value.errors) == {"facts", "nature"}
    other, _ = file_case(body, description="另一件投诉：空调安装后漏水，要求上门维修。")
    foreign = evidence_on(work_on(cast, other), cast.agent)
    with pytest.raises(ValidationError) as refused:
        record(case, cast.agent, nature="malicious", justification=JUSTIFICATION, evidence=[foreign.pk])
    assert set(refused.value.errors) == {"evidence"}
    assert Finding.objects.count() == 0 and fresh(case).version == version and fresh(case).nature == ""


def test_unfounded_waits_for_a_supervisor_who_is_not_the_author(cast, case, org):
    report = evidence_on(case, cast.agent)
    finding = record(
        case,
        cast.agent,
        facts="检测报告显示产品合格，无漏电现象。",
        root_cause="consumer_misuse",
        responsibility="consumer",
        nature="malicious",
        justification=JUSTIFICATION,
        evidence=[report.pk],
    )
    assert finding.status == "pending" and fresh(case).nature == "" and consumer_notes(case) == []
    # the agent cannot confirm, nor can the supervisor of another department
    with pytest.raises(PermissionDenied):
        actions.confirm_finding(finding, actor=Actor.staff(cast.agent2))
    with pytest.raises(PermissionDenied):
        actions.confirm_finding(finding, actor=Actor.staff(cast.quality_supervisor))
    # a second finding waits until this one is decided
    with pytest.raises(ValidationError) as refused:
        record(case, cast.agent2)
    assert "nature" in refused.value.errors
    confirmed = actions.confirm_finding(finding, actor=Actor.staff(cast.supervisor), comment="证据充分。")
    assert confirmed.status == "effective" and confirmed.confirmed_by == cast.supervisor
    assert fresh(case).nature == "malicious"
    notes = consumer_notes(case)
    assert len(notes) == 1 and "感谢您的理解" in notes[0]
    assert not any(word in notes[0] for word in FORBIDDEN_WORDS)
    actions_seen = list(LedgerEvent.objects.filter(complaint=case).order_by("seq").values_list("action", flat=True))
    assert actions_seen[-3:] == ["record_finding", "confirm_finding", "add_note"]
    with pytest.raises(ValidationError) as again:
        actions.confirm_finding(confirmed, actor=Actor.staff(cast.manager))
    assert "finding" in again.value.errors


def test_the_author_cannot_confirm_even_as_supervisor(cast, case):
    report = evidence_on(case, cast.supervisor)
    finding = record(case, cast.supervisor, nature="unfounded", justification=JUSTIFICATION, evidence=[report])
    with pytest.raises(PermissionDenied, match="自己"):
        actions.confirm_finding(finding, actor=Actor.staff(cast.supervisor))
    # a manager above the case's org unit may
    actions.confirm_finding(finding, actor=Actor.staff(cast.manager))
    assert fresh(case).nature == "unfounded"


def test_a_rejected_finding_changes_nothing_and_needs_a_comment(cast, case):
    report = evidence_on(case, cast.agent)
    finding = record(case, cast.agent, nature="unfounded", justification=JUSTIFICATION, evidence=[report.pk])
    with pytest.raises(ValidationError) as refused:
        actions.reject_finding(finding, actor=Actor.staff(cast.supervisor), comment="")
    assert "comment" in refused.value.errors
    rejected = actions.reject_finding(finding, actor=Actor.staff(cast.supervisor), comment="证据不足，请补充检测。")
    assert rejected.status == "rejected" and fresh(case).nature == "" and consumer_notes(case) == []
    # a later valid finding is possible again
    assert record(case, cast.agent).status == "effective"


def test_a_later_finding_supersedes_the_earlier(cast, case):
    first = record(case, cast.agent)
    report = evidence_on(case, cast.agent)
    second = record(case, cast.agent, nature="unfounded", justification=JUSTIFICATION, evidence=[report.pk])
    actions.confirm_finding(second, actor=Actor.staff(cast.supervisor))
    assert Finding.objects.get(pk=first.pk).status == "superseded" and fresh(case).nature == "unfounded"


def test_an_english_case_is_told_in_english(cast, body, org):
    complaint, _ = file_case(body, org_unit=org.store_sz.pk, language="en")
    case = work_on(cast, complaint)
    report = evidence_on(case, cast.agent)
    finding = record(case, cast.agent, nature="malicious", justification=JUSTIFICATION, evidence=[report.pk])
    actions.confirm_finding(finding, actor=Actor.staff(cast.supervisor))
    (note,) = consumer_notes(case)
    assert note.startswith("Hello") and "Thank you for your understanding" in note
    assert not any(word in note for word in FORBIDDEN_WORDS)


def test_findings_over_the_api(cast, case, api_as):
    report = evidence_on(case, cast.agent)
    agent, supervisor = api_as(cast.agent), api_as(cast.supervisor)
    url = f"/complaints/{case.tracking_no}/findings"
    bad = agent.post(
        url,
        {
            "facts": "实验室检测合格，未发现漏电现象。",
            "root_cause": "design",
            "responsibility": "consumer",
            "nature": "unfounded",
        },
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"justification", "evidence"}
    made = agent.post(
        url,
        {
            "facts": "实验室检测合格，未发现漏电现象。",
            "root_cause": "consumer_misuse",
            "responsibility": "consumer",
            "nature": "unfounded",
            "justification": JUSTIFICATION,
            "evidence": [report.pk],
        },
    )
    assert made.status_code == 201 and made.json()["status"] == "pending"
    fid = made.json()["id"]
    assert agent.post(f"{url}/{fid}/confirm", {}).status_code == 403
    assert api_as(cast.outsider).post(f"{url}/{fid}/confirm", {}).status_code == 404
    assert api_as().post(f"{url}/{fid}/confirm", {}).status_code == 401
    assert api_as(cast.auditor).post(f"{url}/{fid}/confirm", {}).status_code == 403
    done = supervisor.post(f"{url}/{fid}/confirm", {"comment": "同意"})
    assert done.status_code == 200 and done.json()["status"] == "effective"
    assert api_as(cast.analyst).get(url).json()[0]["facts"] == "***"
    assert [r["code"] for r in agent.get("/root-causes").json()][:3] == ["design", "manufacturing", "material"]
