"""Ledger completeness (DESIGN.md §6): every write to a case through the API is an event in the case's
chain, and so is every evidence operation.

The walk takes the write operations (POST, PUT, PATCH, DELETE) from the API's own OpenAPI schema, so
that a new endpoint fails `test_every_write_operation_of_the_api_is_walked` until it is walked here.
Each group below drives its operations with real requests, as the personas would, and checks after
each one that the events it names were appended: not merely "something happened", but the action
of that operation. Setup between the calls goes through the actions directly."""

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Max, Model
from django.test import Client
from django.utils import timezone

from accounts.choices import Role
from accounts.models import Department
from complaints import actions
from complaints.duplicates import find_duplicates
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint, DuplicateLink
from config.api import api
from conftest import Api, make_user
from evidence import demo_files, store
from evidence.actions import set_legal_hold
from evidence.models import Evidence
from feedback.choices import SurveyStatus
from feedback.models import Callback, CallbackRule, Survey
from feedback.tokens import make_token
from improvement.models import PlanEvent
from intake.models import WebhookSource
from intake.webhooks import encrypt_secret, signature
from investigation import actions as investigation
from ledger.models import LedgerEvent
from ledger.verify import verify
from notifications.models import Delivery
from resolutions import actions as remedies
from resolutions.models import Offer, Remedy

pytestmark = pytest.mark.django_db

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# Writes that are not about a case, each with where it is recorded instead.
NOT_CASE_RELATED = {
    # Marks an alert about a product or category seen; the alert row keeps who and when.
    "intelligence_api_trends_acknowledge_spike": "SpikeAlert.acknowledged_by / acknowledged_at",
    # Marks a risk alert about a product, unit or department seen; the alert row keeps who, when, the note.
    "risk_api_acknowledge_alert": "RiskAlert.acknowledged_by / acknowledged_at / note",
}

# Writes that append no event of their own. The walk asserts that this is still so, so that an entry
# is removed here when its gap is closed. (The notification retry was one: it is now resend_notification.)
KNOWN_GAPS: dict[str, set[str]] = {}


def write_operations() -> dict[str, tuple[str, str]]:
    """operationId -> (method, path under /api/v1) for every write of the API."""
    schema = api.get_openapi_schema()
    found = {}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method.upper() in WRITE_METHODS:
                found[operation["operationId"]] = (method.upper(), path.removeprefix("/api/v1"))
    return found


OPERATIONS = write_operations()


class Walk:
    """Calls operations by their operationId and checks the trail each one leaves."""

    def __init__(self) -> None:
        self.walked: dict[str, list[str]] = {}

    def call(
        self,
        operation: str,
        client: Api,
        expect: set[str],
        *,
        path: dict[str, Any],
        body: Any = None,
        files: dict[str, Any] | None = None,
        query: str = "",
        raw: bytes | None = None,
        extra_headers: dict[str, str] | None = None,
        trail: type[Model] = LedgerEvent,
    ) -> Any:
        """Call the operation; it must succeed and append events with (at least) the actions in `expect`."""
        method, template = OPERATIONS[operation]
        url = "/api/v1" + template.format(**path) + (f"?{query}" if query else "")
        headers = {**client.headers, **(extra_headers or {})}
        tracking_no = path.get("tracking_no")
        if tracking_no and "Authorization" in headers:  # staff writes carry the case version they saw
            headers["If-Match"] = f'"{Complaint.objects.get(tracking_no=tracking_no).version}"'
        before = trail.objects.aggregate(top=Max("id"))["top"] or 0
        if files is not None:
            response = client.client.post(url, {**(body or {}), **files}, headers=headers)
        else:
            send = getattr(client.client, method.lower())
            content = raw if raw is not None else json.dumps(body if body is not None else {})
            response = send(url, content, content_type="application/json", headers=headers)
        assert response.status_code in (200, 201, 202), (operation, response.status_code, response.content[:600])
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)  # an export records as it streams
        appended = trail.objects.filter(id__gt=before).order_by("id")
        actions_seen = list(appended.values_list("action", flat=True))
        if operation in KNOWN_GAPS:
            assert set(actions_seen) == KNOWN_GAPS[operation], (operation, actions_seen)
        else:
            assert actions_seen, f"{operation}: no {trail.__name__} after {method} {url}"
            assert expect <= set(actions_seen), (operation, expect, actions_seen)
            if tracking_no:  # in the chain of the case the request was about
                assert appended.filter(complaint__tracking_no=tracking_no).exists(), (operation, actions_seen)
        self.walked[operation] = actions_seen
        return response


def case_operations(group: str) -> set[str]:
    return {operation for operation, owner in GROUPS.items() if owner == group}


@pytest.fixture
def walk() -> Walk:
    return Walk()


def fresh(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_related("org_unit", "owner", "department", "category").get(pk=complaint.pk)


def new_case(body: Callable[..., dict[str, Any]], **overrides: Any) -> Complaint:
    data = check_intake(IntakeData(**body(**overrides)), staff=False)
    return fresh(actions.submit(data, actor=Actor.consumer())[0])


def new_case_with_code(body: Callable[..., dict[str, Any]], **overrides: Any) -> tuple[Complaint, str]:
    data = check_intake(IntakeData(**body(**overrides)), staff=False)
    complaint, code = actions.submit(data, actor=Actor.consumer())
    return fresh(complaint), code


def in_progress(cast: Any, complaint: Complaint) -> Complaint:
    """Accepted by the supervisor, owned by the agent, started."""
    supervisor = Actor.staff(cast.supervisor)
    complaint = actions.accept(complaint, actor=supervisor)
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(fresh(complaint), actor=supervisor, owner=cast.agent)
    return fresh(actions.start_work(fresh(complaint), actor=Actor.staff(cast.agent)))


def resolved_and_closed(cast: Any, complaint: Complaint) -> Complaint:
    agent = Actor.staff(cast.agent)
    complaint = actions.resolve(fresh(complaint), actor=agent, outcome="executed", note="已为您更换新品。")
    return fresh(
        actions.close(fresh(complaint), actor=agent, reply_text="您好，已为您更换新品。", evidence_complete=True)
    )


def png(seed: int = 0) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"照片{seed}.png", demo_files.png(40, 30, shade=seed), content_type="image/png")


def consumer(code: str) -> Api:
    client = Api()
    client.headers["X-Access-Code"] = code
    return client


# Which group walks each operation. Every write operation of the API is here or in NOT_CASE_RELATED.
GROUPS = {
    "intake_api_file_complaint": "lifecycle",
    "complaints_api_classify": "lifecycle",
    "complaints_api_escalate": "lifecycle",
    "complaints_api_de_escalate": "lifecycle",
    "complaints_api_add_note": "lifecycle",
    "complaints_api_accept": "lifecycle",
    "complaints_api_assign": "lifecycle",
    "complaints_api_share": "lifecycle",
    "complaints_api_start": "lifecycle",
    "complaints_api_wait_for_consumer": "lifecycle",
    "intake_api_consumer_information": "lifecycle",
    "complaints_api_resume": "lifecycle",
    "complaints_api_propose": "lifecycle",
    "complaints_api_consumer_refused": "lifecycle",
    "complaints_api_consumer_accepted": "lifecycle",
    "complaints_api_close": "lifecycle",
    "complaints_api_reopen": "lifecycle",
    "complaints_api_resolve": "lifecycle",
    "complaints_api_archive": "lifecycle",
    "complaints_api_reject": "lifecycle",
    "intake_api_consumer_appeal": "lifecycle",
    "intake_api_consumer_withdraw": "lifecycle",
    "complaints_api_withdraw": "lifecycle",
    "complaints_api_external": "lifecycle",
    "complaints_api_external_outcome": "lifecycle",
    "complaints_api_duplicates_merge": "lifecycle",
    "complaints_api_duplicates_dismiss": "lifecycle",
    "intake_webhooks_receive": "lifecycle",
    "intake_api_consumer_refuse": "negotiation",
    "intake_api_consumer_counter": "negotiation",
    "intake_api_consumer_accept": "negotiation",
    "intake_api_consumer_reopen": "negotiation",
    "resolutions_api_settle": "negotiation",
    "resolutions_api_add_remedy": "negotiation",
    "resolutions_api_approve": "negotiation",
    "resolutions_api_reject": "negotiation",
    "resolutions_api_paid": "negotiation",
    "resolutions_api_cancel": "negotiation",
    "resolutions_api_make_offer": "negotiation",
    "resolutions_api_withdraw_offer": "negotiation",
    "evidence_api_upload_evidence": "evidence",
    "evidence_api_consumer_upload": "evidence",
    "evidence_api_delete_evidence": "evidence",
    "evidence_api_legal_hold": "evidence",
    "casework_api_add_contact": "investigation",
    "casework_api_send_reply": "investigation",
    "investigation_api_create_task": "investigation",
    "investigation_api_attach": "investigation",
    "investigation_api_complete": "investigation",
    "investigation_api_cancel": "investigation",
    "investigation_api_reassign": "investigation",
    "investigation_api_record_finding": "investigation",
    "investigation_api_confirm": "investigation",
    "investigation_api_reject": "investigation",
    "dossier_api_route": "dossier",
    "dossier_api_add_document": "dossier",
    "dossier_api_outcome": "dossier",
    "dossier_api_dossier": "dossier",
    "dossier_api_crisis_facts": "dossier",
    "dossier_api_crisis_statement": "dossier",
    "dossier_api_crisis_approve": "dossier",
    "dossier_api_crisis_media": "dossier",
    "dossier_api_crisis_confirm": "dossier",
    "notifications_api_retry_delivery": "aftercare",
    "feedback_api_post_survey": "aftercare",
    "feedback_api_record_outcome": "aftercare",
    "privacy_api_export": "aftercare",
    "privacy_api_correct": "aftercare",
    "privacy_api_erase": "aftercare",
    "reports_api_export_cases": "aftercare",
    "improvement_api_create_plan": "improvement",
    "improvement_api_patch_plan": "improvement",
    "improvement_api_complete_plan": "improvement",
}


def test_every_write_operation_of_the_api_is_walked():
    unknown = set(OPERATIONS) - set(GROUPS) - set(NOT_CASE_RELATED)
    assert not unknown, f"write operations no group walks (add them to GROUPS and walk them): {sorted(unknown)}"
    gone = (set(GROUPS) | set(NOT_CASE_RELATED)) - set(OPERATIONS)
    assert not gone, f"operations the API no longer has: {sorted(gone)}"


def test_lifecycle_writes_are_ledger_events(walk, cast, body, api_as):
    agent, supervisor = api_as(cast.agent), api_as(cast.supervisor)
    receipt = walk.call("intake_api_file_complaint", api_as(), {"receive"}, path={}, body=body()).json()
    no, code = receipt["tracking_no"], receipt["access_code"]
    case = {"tracking_no": no}
    walk.call("complaints_api_classify", agent, {"classify"}, path=case, body={"priority": "P2"})
    walk.call("complaints_api_escalate", agent, {"escalate"}, path=case, body={"reason": "投诉人情绪激动"})
    walk.call("complaints_api_de_escalate", supervisor, {"de_escalate"}, path=case, body={"reason": "已安抚"})
    walk.call("complaints_api_add_note", agent, {"add_note"}, path=case, body={"text": "已电话联系投诉人。"})
    walk.call("complaints_api_accept", agent, {"accept"}, path=case, body={"priority": "P2", "note": "已受理。"})
    # Routing made one of the two agents the owner: the supervisor hands the case to the other.
    complaint = Complaint.objects.get(tracking_no=no)
    owner = cast.agent2 if complaint.owner_id == cast.agent.pk else cast.agent
    walk.call("complaints_api_assign", supervisor, {"assign"}, path=case, body={"owner": owner.username})
    agent = api_as(owner)
    walk.call("complaints_api_share", supervisor, {"share"}, path=case, body={"user": "legal", "note": "请法务关注"})
    walk.call("complaints_api_start", agent, {"start_work"}, path=case)
    walk.call(
        "complaints_api_wait_for_consumer", agent, {"wait_for_consumer"}, path=case, body={"request": "请提供发票"}
    )
    walk.call(
        "intake_api_consumer_information", consumer(code), {"add_information"}, path=case, body={"text": "发票号 A123"}
    )
    actions.wait_for_consumer(fresh(complaint), actor=Actor.staff(owner), message="请提供照片")
    walk.call("complaints_api_resume", agent, {"resume"}, path=case, body={"note": "已电话补充"})
    walk.call(
        "complaints_api_propose",
        agent,
        {"propose_resolution"},
        path=case,
        body={"text": "全额退款。", "amount": "100.00"},
    )
    walk.call("complaints_api_consumer_refused", agent, {"refuse_proposal"}, path=case, body={"reason": "金额太少"})
    actions.propose_resolution(fresh(complaint), actor=Actor.staff(owner), text="退款并补偿。", amount=Decimal("200"))
    walk.call("complaints_api_consumer_accepted", agent, {"accept_proposal"}, path=case, body={"note": "电话中同意"})
    walk.call(
        "complaints_api_close",
        agent,
        {"send_reply", "close"},
        path=case,
        body={"reply_text": "您好，退款已处理。", "evidence_complete": True},
    )
    walk.call("complaints_api_reopen", supervisor, {"reopen"}, path=case, body={"reason": "退款未到账"})
    actions.start_work(fresh(complaint), actor=Actor.staff(owner))
    walk.call(
        "complaints_api_resolve", agent, {"resolve"}, path=case, body={"outcome": "executed", "note": "已再次退款"}
    )
    actions.close(fresh(complaint), actor=Actor.staff(owner), reply_text="已再次退款。", evidence_complete=True)
    walk.call("complaints_api_archive", supervisor, {"archive"}, path=case)
    agent = api_as(cast.agent)

    rejected, rejected_code = new_case_with_code(body, complainant_phone="13900000001")
    other = {"tracking_no": rejected.tracking_no}
    walk.call("complaints_api_reject", agent, {"reject"}, path=other, body={"reason": "不属于本公司经营范围。"})
    walk.call(
        "intake_api_consumer_appeal", consumer(rejected_code), {"appeal"}, path=other, body={"reason": "确在贵店购买"}
    )

    withdrawn, withdrawn_code = new_case_with_code(body, complainant_phone="13900000002")
    walk.call(
        "intake_api_consumer_withdraw",
        consumer(withdrawn_code),
        {"withdraw"},
        path={"tracking_no": withdrawn.tracking_no},
        body={"reason": "已自行解决"},
    )
    by_staff = new_case(body, complainant_phone="13900000003")
    walk.call(
        "complaints_api_withdraw",
        supervisor,
        {"withdraw"},
        path={"tracking_no": by_staff.tracking_no},
        body={"reason": "投诉人电话撤诉"},
    )

    routed = {"tracking_no": in_progress(cast, new_case(body, complainant_phone="13900000004")).tracking_no}
    walk.call("complaints_api_external", supervisor, {"route_external"}, path=routed, body={"route": "mediation"})
    walk.call(
        "complaints_api_external_outcome",
        supervisor,
        {"record_external_outcome"},
        path=routed,
        body={"resolved": True, "note": "调解达成协议"},
    )

    # The same person with the same text three times: possible duplicates of the first.
    first = new_case(body, complainant_phone="13900000005")
    second = new_case(body, complainant_phone="13900000005")
    third = new_case(body, complainant_phone="13900000005")
    find_duplicates(second.pk)
    find_duplicates(third.pk)
    link = DuplicateLink.objects.get(complaint=third, candidate=first)
    walk.call(
        "complaints_api_duplicates_dismiss",
        agent,
        {"dismiss_duplicate"},
        path={"tracking_no": third.tracking_no, "link_id": link.pk},
        body={"note": "不是同一件事"},
    )
    walk.call(
        "complaints_api_duplicates_merge",
        agent,
        {"merge", "absorb"},
        path={"tracking_no": second.tracking_no},
        body={"into": first.tracking_no},
    )

    # A platform pushes a complaint, signed with its shared secret.
    secret = "platform-shared-secret-0123456789abcdef"
    WebhookSource.objects.create(
        slug="shop",
        name="某电商平台",
        channel="ecommerce_platform",
        mapping={"complainant_name": "$.buyer", "complainant_phone": "$.phone", "description": "$.content"},
        event_id_path="$.id",
        secret_encrypted=encrypt_secret("shop", secret),
    )
    pushed = json.dumps({"id": "TM-1", "buyer": "赵六", "phone": "13800138001", "content": "退款迟迟不到账。"}).encode()
    walk.call(
        "intake_webhooks_receive",
        api_as(),
        {"receive"},
        path={"source": "shop"},
        raw=pushed,
        extra_headers={"X-Signature-256": signature(secret, pushed)},
    )

    assert set(walk.walked) == case_operations("lifecycle")
    assert verify().ok


def test_negotiation_and_remedy_writes_are_ledger_events(walk, cast, body, api_as):
    agent, supervisor = api_as(cast.agent), api_as(cast.supervisor)
    complaint, code = new_case_with_code(body)
    complaint = in_progress(cast, complaint)
    case = {"tracking_no": complaint.tracking_no}
    staff = Actor.staff(cast.agent)

    refund = walk.call(
        "resolutions_api_add_remedy", agent, {"add_remedy"}, path=case, body={"kind": "return_refund", "amount": "150"}
    ).json()
    over_limit = walk.call(
        "resolutions_api_add_remedy", agent, {"add_remedy"}, path=case, body={"kind": "compensation", "amount": "800"}
    ).json()
    walk.call(
        "resolutions_api_approve",
        supervisor,
        {"approve_remedy"},
        path={**case, "remedy_id": over_limit["id"]},
        body={"comment": "同意"},
    )
    walk.call(
        "resolutions_api_paid",
        agent,
        {"mark_remedy_paid"},
        path={**case, "remedy_id": over_limit["id"]},
        body={"reference": "退款单 77"},
    )
    to_reject = agent.post(
        f"/complaints/{complaint.tracking_no}/remedies", {"kind": "compensation", "amount": "900"}
    ).json()
    walk.call(
        "resolutions_api_reject",
        supervisor,
        {"reject_remedy"},
        path={**case, "remedy_id": to_reject["id"]},
        body={"comment": "金额过高"},
    )
    to_cancel = agent.post(
        f"/complaints/{complaint.tracking_no}/remedies", {"kind": "repair", "description": "上门维修温控器"}
    )
    assert to_cancel.status_code == 201, to_cancel.content
    to_cancel = to_cancel.json()
    walk.call(
        "resolutions_api_cancel",
        agent,
        {"cancel_remedy"},
        path={**case, "remedy_id": to_cancel["id"]},
        body={"reason": "无需维修"},
    )

    walk.call(
        "resolutions_api_make_offer",
        agent,
        {"propose_resolution"},
        path=case,
        body={"text": "退款 150 元。", "amount": "150"},
    )
    offer = Offer.objects.filter(complaint=complaint).latest("id")
    walk.call(
        "resolutions_api_withdraw_offer",
        agent,
        {"withdraw_offer"},
        path={**case, "offer_id": offer.pk},
        body={"reason": "金额有误"},
    )
    actions.propose_resolution(fresh(complaint), actor=staff, text="退款 150 元。", amount=Decimal("150"))
    walk.call("intake_api_consumer_refuse", consumer(code), {"refuse_proposal"}, path=case, body={"reason": "太少"})
    actions.propose_resolution(fresh(complaint), actor=staff, text="退款 200 元。", amount=Decimal("200"))
    walk.call(
        "intake_api_consumer_counter",
        consumer(code),
        {"counter_offer"},
        path=case,
        body={"text": "要求 300 元", "amount": "300"},
    )
    actions.propose_resolution(fresh(complaint), actor=staff, text="退款 300 元。", amount=Decimal("300"))
    walk.call("intake_api_consumer_accept", consumer(code), {"accept_proposal"}, path=case)
    walk.call("resolutions_api_settle", agent, {"add_evidence", "settlement_agreement"}, path=case)
    # The consumer downloads the agreement: a read of evidence, in the chain too.
    before = LedgerEvent.objects.aggregate(top=Max("id"))["top"] or 0
    download = consumer(code).get(
        f"/public/complaints/{complaint.tracking_no}/agreement", headers=consumer(code).headers
    )
    assert download.status_code == 200
    assert list(LedgerEvent.objects.filter(id__gt=before).values_list("action", flat=True)) == ["download_evidence"]

    remedies.mark_remedy_paid(Remedy.objects.get(pk=refund["id"]), actor=staff, reference="退款单 78")
    actions.close(fresh(complaint), actor=staff, reply_text="您好，已退款 300 元。", evidence_complete=True)
    walk.call("intake_api_consumer_reopen", consumer(code), {"reopen"}, path=case, body={"reason": "没有到账"})

    assert set(walk.walked) == case_operations("negotiation")
    assert verify().ok


def events_after(before: int) -> list[str]:
    return list(LedgerEvent.objects.filter(id__gt=before).order_by("id").values_list("action", flat=True))


def top() -> int:
    return LedgerEvent.objects.aggregate(top=Max("id"))["top"] or 0


def test_evidence_operations_are_ledger_events_and_a_refused_deletion_deletes_nothing(
    walk, cast, body, api_as, settings
):
    complaint, code = new_case_with_code(body)
    no = complaint.tracking_no
    case = {"tracking_no": no}
    # The consumer sends evidence with the complaint (or when asked for information).
    walk.call(
        "evidence_api_consumer_upload",
        consumer(code),
        {"add_evidence"},
        path=case,
        body={"description": "发票"},
        files={"file": png(2)},
    )
    complaint = in_progress(cast, complaint)
    agent, supervisor = api_as(cast.agent), api_as(cast.supervisor)
    uploaded = walk.call(
        "evidence_api_upload_evidence",
        agent,
        {"add_evidence"},
        path=case,
        body={"kind": "physical_item", "description": "水壶照片"},
        files={"file": png(1)},
    ).json()
    # The case page's upload form is the same action.
    page = Client()
    page.force_login(cast.agent)
    before = top()
    response = page.post(f"/staff/cases/{no}/evidence/", {"kind": "physical_item", "file": png(3)})
    assert response.status_code == 302, response.content[:300]
    assert events_after(before) == ["add_evidence"]

    # Every view and download of a file, by the API and by the case page, is an event (chain of custody).
    item = uploaded["id"]
    reads = [
        ("view_evidence", lambda: agent.get(f"/complaints/{no}/evidence/{item}/view")),
        ("download_evidence", lambda: agent.get(f"/complaints/{no}/evidence/{item}/content")),
        ("view_evidence", lambda: page.get(f"/staff/cases/{no}/evidence/{item}/view/")),
        ("download_evidence", lambda: page.get(f"/staff/cases/{no}/evidence/{item}/download/")),
    ]
    for action, read in reads:
        before = top()
        response = read()
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == demo_files.png(40, 30, shade=1)
        assert events_after(before) == [action]

    # Deletion is refused while the case is open, and under a legal hold: nothing is deleted, and
    # nothing is recorded as deleted.
    stored = Evidence.objects.get(pk=item)
    delete = f"/complaints/{no}/evidence/{item}/delete"
    before = top()
    refused = supervisor.post(delete, {"reason": "误传的文件"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "evidence"
    assert events_after(before) == []
    walk.call(
        "evidence_api_legal_hold", supervisor, {"set_legal_hold"}, path=case, body={"on": True, "reason": "诉讼中"}
    )
    resolved_and_closed(cast, complaint)
    settings.COMPLAINTDESK_EVIDENCE_RETENTION_DAYS = 0
    before = top()
    assert supervisor.post(delete, {"reason": "保存期满删除"}).status_code == 422
    assert events_after(before) == []
    stored.refresh_from_db()
    assert stored.deleted_at is None and store.exists(stored.sha256)

    set_legal_hold(fresh(complaint), actor=Actor.staff(cast.supervisor), on=False, reason="诉讼已结束")
    walk.call(
        "evidence_api_delete_evidence",
        supervisor,
        {"delete_evidence"},
        path={**case, "evidence_id": item},
        body={"reason": "保存期满删除"},
    )
    assert set(walk.walked) == case_operations("evidence")
    assert verify().ok


def test_investigation_and_casework_writes_are_ledger_events(walk, cast, body, api_as):
    complaint = in_progress(cast, new_case(body))
    no = complaint.tracking_no
    case = {"tracking_no": no}
    agent, supervisor, handler = api_as(cast.agent), api_as(cast.supervisor), api_as(cast.handler)
    contact = {
        "direction": "outbound",
        "channel": "phone",
        "occurred_at": timezone.now().isoformat(),
        "summary": "电话告知检测安排。",
    }
    walk.call("casework_api_add_contact", agent, {"add_contact"}, path=case, body=contact)
    walk.call("casework_api_send_reply", agent, {"send_reply"}, path=case, body={"text": "您好，检测安排已确定。"})

    task = {"kind": "quality_lab_test", "department": "quality", "request": "请检测该批次温控器。", "due_in_days": 3}
    created = walk.call("investigation_api_create_task", agent, {"create_task"}, path=case, body=task).json()
    report = walk.call(
        "investigation_api_attach",
        handler,
        {"add_evidence"},
        path={"task_id": created["id"]},
        body={"description": "检测报告"},
        files={"file": png(4)},
    )
    walk.call(
        "investigation_api_complete",
        handler,
        {"complete_task"},
        path={"task_id": created["id"]},
        body={"result": "温控器绝缘不良，批次 B7 不合格。"},
    )
    staff = Actor.staff(cast.agent)
    for operation, expect, request_body in [
        ("investigation_api_cancel", "cancel_task", {"reason": "投诉人已撤回检测要求"}),
        ("investigation_api_reassign", "reassign_task", {"department": "logistics", "note": "改由物流部核实"}),
    ]:
        other = investigation.create_task(
            fresh(complaint),
            actor=staff,
            kind="quality_lab_test",
            department=Department.objects.get(code="quality"),
            assignee=None,
            request="请复检。",
            due_in_days=3,
        )
        walk.call(operation, agent, {expect}, path={"task_id": other.pk}, body=request_body)

    finding = {
        "facts": "投诉人自行拆修后出现漏电。",
        "root_cause": "manufacturing",
        "responsibility": "consumer",
        "nature": "unfounded",
        "justification": "维修记录与拆机照片显示外壳曾被打开，温控器被更换为非原厂配件。",
        "evidence": [report.json()["id"]],
    }
    pending = walk.call("investigation_api_record_finding", agent, {"record_finding"}, path=case, body=finding).json()
    walk.call(
        "investigation_api_reject",
        supervisor,
        {"reject_finding"},
        path={**case, "finding_id": pending["id"]},
        body={"comment": "证据不足"},
    )
    again = investigation.record_finding(fresh(complaint), actor=staff, **{**finding, "root_cause": "manufacturing"})
    walk.call(
        "investigation_api_confirm",
        supervisor,
        {"confirm_finding"},
        path={**case, "finding_id": again.pk},
        body={"comment": "核实无误"},
    )
    assert set(walk.walked) == case_operations("investigation")
    assert verify().ok


def test_dossier_and_crisis_writes_are_ledger_events(walk, cast, body, api_as, django_capture_on_commit_callbacks):
    complaint = in_progress(cast, new_case(body))
    case = {"tracking_no": complaint.tracking_no}
    agent = api_as(cast.agent)
    routed = walk.call(
        "dossier_api_route", agent, {"route_external"}, path=case, body={"route": "mediation", "body": "消费者协会"}
    ).json()
    proceeding = routed["proceedings"][0]["id"]
    walk.call(
        "dossier_api_add_document",
        agent,
        {"add_evidence", "add_external_document"},
        path={**case, "proceeding_id": proceeding},
        body={"direction": "sent", "exchanged_on": timezone.localdate().isoformat(), "description": "我方书面答复"},
        files={"file": png(5)},
    )
    walk.call(
        "dossier_api_outcome",
        agent,
        {"record_external_outcome"},
        path=case,
        body={"resolved": False, "note": "调解未成"},
    )
    walk.call("dossier_api_dossier", agent, {"export_dossier"}, path=case)

    crisis = in_progress(cast, new_case(body, complainant_phone="13900000006"))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            crisis = actions.escalate(fresh(crisis), actor=Actor.staff(cast.supervisor), reason="媒体关注")
    legal, legal2 = api_as(cast.legal), api_as(make_user("legal2", (Role.LEGAL_PR, None)))
    crisis_case = {"tracking_no": crisis.tracking_no}
    walk.call(
        "dossier_api_crisis_facts", legal, {"verify_crisis_facts"}, path=crisis_case, body={"note": "事实已核实无误"}
    )
    walk.call(
        "dossier_api_crisis_statement",
        legal,
        {"draft_crisis_statement"},
        path=crisis_case,
        body={"text": "我们已关注到相关情况，正在全力调查。"},
    )
    walk.call(
        "dossier_api_crisis_approve", legal2, {"approve_crisis_statement"}, path=crisis_case, body={"note": "同意"}
    )
    walk.call(
        "dossier_api_crisis_media",
        legal,
        {"log_media_contact"},
        path=crisis_case,
        body={"outlet": "某某日报", "contacted_at": timezone.now().isoformat(), "summary": "记者来电询问"},
    )
    walk.call(
        "dossier_api_crisis_confirm", legal, {"confirm_media_contacts"}, path=crisis_case, body={"note": "已全部登记"}
    )
    assert set(walk.walked) == case_operations("dossier")
    assert verify().ok


def test_aftercare_privacy_and_export_writes_are_ledger_events(
    walk, cast, body, api_as, settings, django_capture_on_commit_callbacks
):
    agent = api_as(cast.agent)
    complaint = fresh(actions.accept(new_case(body), actor=Actor.staff(cast.supervisor)))
    delivery = Delivery.objects.create(
        complaint=complaint,
        event="acknowledged",
        channel="email",
        recipient="zhang.san@example.com",
        status="failed",
        attempts=5,
        last_error="SMTPRecipientsRefused",
    )
    walk.call(
        "notifications_api_retry_delivery",
        agent,
        {"resend_notification", "view_personal"},
        path={"tracking_no": complaint.tracking_no, "delivery_id": delivery.pk},
    )

    # A P1 case, closed: its survey and its call-back are planned after the commit.
    CallbackRule.objects.filter(kind="sample").update(percent=0)
    data = check_intake(IntakeData(**body(complainant_phone="13900000007", priority="P1")), staff=True)
    closed = in_progress(cast, fresh(actions.submit(data, actor=Actor.consumer())[0]))
    with django_capture_on_commit_callbacks(execute=True):
        closed = resolved_and_closed(cast, closed)
    survey = Survey.objects.get(complaint=closed)
    Survey.objects.filter(pk=survey.pk).update(
        status=SurveyStatus.SENT, sent_at=timezone.now(), expires_at=timezone.now() + timedelta(days=14)
    )
    token = make_token(survey.pk, survey.round)
    walk.call(
        "feedback_api_post_survey",
        api_as(),
        {"answer_survey"},
        path={"token": token},
        body={"outcome": 5, "handling": 4, "solved": "yes", "comment": "处理很及时。"},
    )
    callback = Callback.objects.get(complaint=closed)
    walk.call(
        "feedback_api_record_outcome",
        agent,
        {"record_callback"},
        path={"callback_id": callback.pk},
        body={"reached": True, "satisfied": True, "note": "客户满意"},
    )

    legal = api_as(cast.legal)
    person = {"customer_id": complaint.customer_id}
    walk.call("privacy_api_export", legal, {"export_personal"}, path=person, query="format=json")
    walk.call(
        "privacy_api_correct",
        legal,
        {"correct_personal"},
        path=person,
        body={"phone": "13700137000", "reason": "本人来电更正"},
    )
    walk.call(
        "reports_api_export_cases",
        api_as(cast.supervisor),
        {"export_personal"},
        path={},
        body={
            "include_personal": True,
            "received_from": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "received_to": timezone.localdate().isoformat(),
        },
    )

    settings.COMPLAINTDESK_PERSONAL_DATA_RETENTION_DAYS = 0
    erased = resolved_and_closed(
        cast,
        in_progress(
            cast,
            new_case(
                body, complainant_name="李四", complainant_phone="13900000008", complainant_email="li.si@example.com"
            ),
        ),
    )
    walk.call(
        "privacy_api_erase",
        legal,
        {"erase_personal"},
        path={"customer_id": erased.customer_id},
        body={"reason": "本人书面申请删除"},
    )
    assert set(walk.walked) == case_operations("aftercare")
    assert verify().ok


def test_improvement_plan_writes_are_audited(walk, cast, body, api_as, org):
    complaint = new_case(body, org_unit=org.store_sz.pk)
    supervisor = api_as(cast.supervisor)
    plan = {
        "title": "电热水壶漏电整改",
        "root_cause": "manufacturing",
        "action": "更换温控器供应商，出厂前全检绝缘。",
        "owner": "supervisor",
        "due_in_working_days": 10,
        "tracking_numbers": [complaint.tracking_no],
    }
    created = walk.call(
        "improvement_api_create_plan", supervisor, {"created"}, path={}, body=plan, trail=PlanEvent
    ).json()
    plan_id = {"plan_id": created["id"]}
    walk.call(
        "improvement_api_patch_plan",
        supervisor,
        {"updated"},
        path=plan_id,
        body={"status": "in_progress"},
        trail=PlanEvent,
    )
    walk.call(
        "improvement_api_complete_plan",
        supervisor,
        {"completed"},
        path=plan_id,
        body={"note": "供应商已更换"},
        trail=PlanEvent,
    )
    assert set(walk.walked) == case_operations("improvement")
