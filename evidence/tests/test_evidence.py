"""Evidence end to end: upload from the API, the public form, the status page and the case page;
content-addressed storage; chain of custody in the ledger; deletion only after retention and never
under legal hold."""

import hashlib
import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from evidence import store
from evidence.actions import add_evidence
from evidence.models import Evidence
from intake.tests.test_public_pages import form, receipt_of
from ledger.models import LedgerEvent
from ledger.verify import verify

from . import samples


@pytest.fixture
def received(cast, body):
    complaint, code = actions.submit(check_intake(IntakeData(**body()), staff=False), actor=Actor.consumer())
    return complaint, code


@pytest.fixture
def accepted(received, cast):
    complaint, code = received
    complaint = actions.accept(complaint, actor=Actor.staff(cast.supervisor))
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=Actor.staff(cast.supervisor), owner=cast.agent)
    return complaint, code


def upload(api, tracking_no, data, name, kind="complaint_material", **extra):
    return api.client.post(
        f"/api/v1/complaints/{tracking_no}/evidence",
        {"file": SimpleUploadedFile(name, data), "kind": kind, **extra},
        headers=api.headers,
    )


def events(complaint, action):
    return list(LedgerEvent.objects.filter(complaint=complaint, action=action).order_by("seq"))


def test_staff_upload_is_stored_by_its_hash_and_starts_the_chain_of_custody(accepted, cast, api_as):
    complaint, _code = accepted
    agent = api_as(cast.agent)
    data = samples.png()
    response = upload(agent, complaint.tracking_no, data, "张三的发票.jpg", kind="third_party_proof")
    assert response.status_code == 201, response.content
    item = response.json()
    digest = hashlib.sha256(data).hexdigest()
    assert item["sha256"] == digest and item["content_type"] == "image/png" and item["size"] == len(data)
    assert store.exists(digest) and store.verify(digest)
    [event] = events(complaint, "add_evidence")
    assert event.data["sha256"] == digest and event.data["evidence_id"] == item["id"]
    # The file name may name a person: it is in the ledger only encrypted.
    assert "张三" not in json.dumps(event.data, ensure_ascii=False) and "enc" in event.data["filename"]
    # The same content again is stored once, as a second item.
    again = upload(agent, complaint.tracking_no, data, "copy.png")
    assert again.status_code == 201 and again.json()["sha256"] == digest
    assert Evidence.objects.filter(sha256=digest).count() == 2
    assert verify().ok


def test_every_view_and_download_is_a_ledger_event(accepted, cast, api_as):
    complaint, _code = accepted
    agent = api_as(cast.agent)
    item = upload(agent, complaint.tracking_no, samples.png(), "现场.png").json()
    base = f"/complaints/{complaint.tracking_no}/evidence/{item['id']}"
    download = agent.get(base + "/content")
    assert download.status_code == 200 and b"".join(download.streaming_content) == samples.png()
    assert "attachment" in download["Content-Disposition"] and download["X-Content-Type-Options"] == "nosniff"
    view = agent.get(base + "/view")
    assert view.status_code == 200 and "inline" in view["Content-Disposition"]
    assert "sandbox" in view["Content-Security-Policy"]
    assert [e.actor for e in events(complaint, "download_evidence")] == [f"staff:{cast.agent.pk}"]
    assert len(events(complaint, "view_evidence")) == 1
    # the case page links do the same
    client = Client()
    client.force_login(cast.agent)
    page = client.get(f"/staff/cases/{complaint.tracking_no}/evidence/{item['id']}/download/")
    assert page.status_code == 200 and len(events(complaint, "download_evidence")) == 2
    assert verify().ok


def test_who_may_see_and_fetch_evidence(accepted, cast, api_as):
    complaint, _code = accepted
    item = upload(api_as(cast.agent), complaint.tracking_no, samples.png(), "p.png").json()
    path = f"/complaints/{complaint.tracking_no}/evidence"
    assert api_as(None).get(path).status_code == 401
    assert api_as(cast.outsider).get(path).status_code == 404
    assert upload(api_as(cast.outsider), complaint.tracking_no, samples.png(), "p.png").status_code == 404
    listed = api_as(cast.analyst).get(path)
    assert listed.status_code == 200 and listed.json()[0]["filename"] == "***"
    assert api_as(cast.analyst).get(f"{path}/{item['id']}/content").status_code == 403
    assert upload(api_as(cast.analyst), complaint.tracking_no, samples.png(), "p.png").status_code == 403
    assert api_as(cast.auditor).get(f"{path}/{item['id']}/content").status_code == 200


def test_refused_upload_names_the_reason_and_stores_nothing(accepted, cast, api_as):
    complaint, _code = accepted
    response = upload(api_as(cast.agent), complaint.tracking_no, samples.exe(), "invoice.pdf")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "file" and "可执行文件" in error["message"]
    assert not Evidence.objects.exists() and not events(complaint, "add_evidence")
    assert not store.exists(hashlib.sha256(samples.exe()).hexdigest())
    wrong_kind = upload(api_as(cast.agent), complaint.tracking_no, samples.png(), "p.png", kind="weapon")
    assert wrong_kind.status_code == 422 and wrong_kind.json()["errors"][0]["field"] == "kind"


def test_consumer_sends_evidence_with_the_access_code_while_new_or_asked(received, cast, api_as):
    complaint, code = received
    anonymous = api_as(None)

    def send(access_code):
        return anonymous.client.post(
            f"/api/v1/public/complaints/{complaint.tracking_no}/evidence",
            {"file": SimpleUploadedFile("photo.png", samples.png())},
            headers={"X-Access-Code": access_code},
        )

    assert send("WRONG-CODE").status_code == 404
    assert send(code).status_code == 201
    listed = anonymous.get(f"/public/complaints/{complaint.tracking_no}/evidence", headers={"X-Access-Code": code})
    assert [i["filename"] for i in listed.json()] == ["photo.png"]
    complaint = actions.accept(complaint, actor=Actor.staff(cast.supervisor))
    assert send(code).status_code == 409  # accepted: not asked for anything
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=Actor.staff(cast.supervisor), owner=cast.agent)
    complaint = actions.start_work(complaint, actor=Actor.staff(cast.agent))
    actions.wait_for_consumer(complaint, actor=Actor.staff(cast.agent), message="请补充购买凭证")
    assert send(code).status_code == 201
    [first, second] = events(complaint, "add_evidence")
    assert first.actor == second.actor == "consumer"


def test_public_form_attachments_land_with_the_complaint(cast):
    client = Client()
    response = client.post(
        "/",
        {
            **form(),
            "attachments": [
                SimpleUploadedFile("漏水照片.png", samples.png()),
                SimpleUploadedFile("发票.pdf", samples.pdf()),
            ],
        },
    )
    assert response.status_code == 201, response.content.decode()[:800]
    tracking_no, code = receipt_of(response)
    complaint = Complaint.objects.get(tracking_no=tracking_no)
    assert sorted(complaint.evidence.values_list("filename", flat=True)) == ["发票.pdf", "漏水照片.png"]
    assert all(e.via == "web" and e.shown_to_consumer for e in complaint.evidence.all())
    # a second click answers with the same receipt and attaches nothing more
    again = client.post("/", {**form(), "attachments": [SimpleUploadedFile("漏水照片.png", samples.png())]})
    assert receipt_of(again) == (tracking_no, code) and complaint.evidence.count() == 2
    status = client.post("/status/", {"tracking_no": tracking_no, "access_code": code})
    assert "漏水照片.png" in status.content.decode()


def test_a_refused_attachment_keeps_the_form_and_creates_nothing(cast):
    response = Client().post(
        "/",
        {
            **form(form_token="tok-bad"),
            "attachments": [
                SimpleUploadedFile("照片.png", samples.png()),
                SimpleUploadedFile("说明.pdf.exe", samples.exe()),
            ],
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "说明.pdf.exe" in html and "可执行文件" in html and "请重新选择" in html
    assert "在门店买的洗衣机漏水" in html  # what was typed stays
    assert not Complaint.objects.exists() and not Evidence.objects.exists()


def test_too_many_attachments_are_refused(cast, settings):
    settings.COMPLAINTDESK_ATTACHMENTS_MAX = 1
    files = [SimpleUploadedFile(f"{i}.png", samples.png(i + 1)) for i in range(2)]
    response = Client().post("/", {**form(form_token="tok-many"), "attachments": files})
    assert response.status_code == 422 and "附件过多" in response.content.decode()


def test_status_page_takes_evidence_when_the_consumer_is_asked(accepted, cast):
    complaint, code = accepted
    complaint = actions.start_work(complaint, actor=Actor.staff(cast.agent))
    client = Client()
    page = client.post("/status/", {"tracking_no": complaint.tracking_no, "access_code": code})
    assert 'id="form-evidence"' not in page.content.decode()
    actions.wait_for_consumer(complaint, actor=Actor.staff(cast.agent), message="请补充购买凭证")
    page = client.post("/status/", {"tracking_no": complaint.tracking_no, "access_code": code})
    assert 'id="form-evidence"' in page.content.decode()
    sent = client.post(
        "/status/evidence/",
        {
            "tracking_no": complaint.tracking_no,
            "access_code": code,
            "attachments": [SimpleUploadedFile("凭证.pdf", samples.pdf())],
        },
    )
    assert sent.status_code == 200 and "凭证.pdf" in sent.content.decode()
    bad = client.post(
        "/status/evidence/",
        {"tracking_no": complaint.tracking_no, "access_code": code, "attachments": [SimpleUploadedFile("x.js", b"1")]},
    )
    assert bad.status_code == 422 and "脚本" in bad.content.decode()
    wrong = client.post("/status/evidence/", {"tracking_no": complaint.tracking_no, "access_code": "nope"})
    assert wrong.status_code == 404
    assert complaint.evidence.count() == 1


def test_agent_uploads_on_the_case_page_and_sees_the_list(accepted, cast):
    complaint, _code = accepted
    client = Client()
    client.force_login(cast.agent)
    url = f"/staff/cases/{complaint.tracking_no}/evidence/"
    refused = client.post(url, {"kind": "service_record", "file": SimpleUploadedFile("run.sh", b"#!/bin/sh\n")})
    assert refused.status_code == 422 and "脚本" in refused.content.decode()
    done = client.post(
        url,
        {"kind": "service_record", "description": "维修单", "file": SimpleUploadedFile("维修单.pdf", samples.pdf())},
    )
    assert done.status_code == 302
    page = client.get(f"/staff/cases/{complaint.tracking_no}/").content.decode()
    assert "维修单.pdf" in page and "服务记录" in page and "上传证据" in page
    item = complaint.evidence.get()
    assert item.via == "staff" and item.added_by_user == cast.agent and not item.shown_to_consumer


def _close(complaint, cast):
    agent = Actor.staff(cast.agent)
    complaint = actions.start_work(complaint, actor=agent)
    complaint = actions.resolve(complaint, actor=agent, outcome="executed", note="已更换新品")
    return actions.close(complaint, actor=agent, reply_text="已书面答复", evidence_complete=True)


def test_evidence_is_kept_while_open_within_retention_and_under_legal_hold(
    accepted, cast, api_as, settings, django_capture_on_commit_callbacks
):
    complaint, _code = accepted
    item = upload(api_as(cast.agent), complaint.tracking_no, samples.png(), "p.png").json()
    supervisor = api_as(cast.supervisor)
    path = f"/complaints/{complaint.tracking_no}/evidence/{item['id']}/delete"
    open_case = supervisor.post(path, {"reason": "到期清理"})
    assert open_case.status_code == 422 and "尚未办结" in open_case.json()["errors"][0]["message"]
    complaint = _close(complaint, cast)
    within = supervisor.post(path, {"reason": "到期清理"})
    assert within.status_code == 422 and "期满前" in within.json()["errors"][0]["message"]
    # legal/PR put the case on hold; time passes beyond retention
    held = api_as(cast.legal).post(
        f"/complaints/{complaint.tracking_no}/legal-hold",
        {"on": True, "reason": "诉讼中", "version": complaint.version},
    )
    assert held.status_code in (200, 404)  # legal sees level-3 / flagged / shared cases only
    if held.status_code == 404:
        complaint = actions.share(complaint, actor=Actor.staff(cast.supervisor), user=cast.legal)
        held = api_as(cast.legal).post(
            f"/complaints/{complaint.tracking_no}/legal-hold",
            {"on": True, "reason": "诉讼中", "version": complaint.version},
        )
    assert held.status_code == 200, held.content
    later = time_machine.travel(timezone.now() + timedelta(days=settings.COMPLAINTDESK_EVIDENCE_RETENTION_DAYS + 1))
    later.start()
    on_hold = supervisor.post(path, {"reason": "到期清理"})
    assert on_hold.status_code == 422 and "法律保全" in on_hold.json()["errors"][0]["message"]
    complaint.refresh_from_db()
    lifted = supervisor.post(
        f"/complaints/{complaint.tracking_no}/legal-hold",
        {"on": False, "reason": "诉讼结束", "version": complaint.version},
    )
    assert lifted.status_code == 200
    assert api_as(cast.agent).post(path, {"reason": "到期清理"}).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        deleted = supervisor.post(path, {"reason": "到期清理"})
    assert deleted.status_code == 200 and deleted.json()["deleted_at"]
    assert not store.exists(item["sha256"])
    assert Evidence.objects.filter(pk=item["id"]).exists()  # the row and its trail stay
    gone = api_as(cast.agent).get(f"/complaints/{complaint.tracking_no}/evidence/{item['id']}/content")
    assert gone.status_code == 410
    later.stop()
    assert len(events(complaint, "delete_evidence")) == 1 and len(events(complaint, "set_legal_hold")) == 2
    assert verify().ok


def test_only_legal_and_supervisors_set_a_legal_hold(accepted, cast, api_as):
    complaint, _code = accepted
    path = f"/complaints/{complaint.tracking_no}/legal-hold"
    agent = api_as(cast.agent).post(path, {"on": True, "reason": "怕丢", "version": complaint.version})
    assert agent.status_code == 403
    missing = api_as(cast.supervisor).post(path, {"on": True, "reason": "", "version": complaint.version})
    assert missing.status_code == 422
    done = api_as(cast.supervisor).post(path, {"on": True, "reason": "消费者已起诉", "version": complaint.version})
    assert done.status_code == 200 and Complaint.objects.get(pk=complaint.pk).legal_hold


def test_shared_content_is_stored_once_and_survives_deleting_one_item(
    accepted, cast, api_as, settings, body, django_capture_on_commit_callbacks
):
    complaint, _code = accepted
    other, _ = actions.submit(
        check_intake(IntakeData(**body(complainant_phone="13700137000", complainant_email="")), staff=False),
        actor=Actor.consumer(),
    )
    data = samples.pdf()
    first = upload(api_as(cast.agent), complaint.tracking_no, data, "a.pdf").json()
    add_evidence(other, content=data, filename="b.pdf", kind="complaint_material", actor=Actor.consumer(), via="api")
    complaint = _close(complaint, cast)
    path = f"/complaints/{complaint.tracking_no}/evidence/{first['id']}/delete"
    later = timezone.now() + timedelta(days=settings.COMPLAINTDESK_EVIDENCE_RETENTION_DAYS + 1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert api_as(cast.supervisor).post(path, {"reason": "到期清理"}).status_code == 200
    assert callbacks == []  # no blob deletion was even scheduled
    assert store.exists(first["sha256"])  # still the other case's evidence


def test_filenames_are_cleaned_of_paths_and_control_characters(accepted, cast, api_as):
    complaint, _code = accepted
    response = upload(api_as(cast.agent), complaint.tracking_no, samples.png(), "../../etc/\x07pass.png")
    assert response.status_code == 201 and response.json()["filename"] == "pass.png"
    assert re.fullmatch(r"[0-9a-f]{64}", response.json()["sha256"])


def test_the_public_side_can_send_only_so_much_to_one_case(received, settings, api_as):
    complaint, code = received
    settings.COMPLAINTDESK_CONSUMER_EVIDENCE_FILES = 2
    settings.COMPLAINTDESK_CONSUMER_EVIDENCE_BYTES = 10_000

    def send(data, name):
        return api_as(None).client.post(
            f"/api/v1/public/complaints/{complaint.tracking_no}/evidence",
            {"file": SimpleUploadedFile(name, data)},
            headers={"X-Access-Code": code},
        )

    assert send(samples.png(1), "1.png").status_code == 201
    too_big = send(b"x" * 9_990, "big.txt")
    assert too_big.status_code == 422 and "合计" in too_big.json()["errors"][0]["message"]
    assert send(samples.png(2), "2.png").status_code == 201
    too_many = send(samples.png(3), "3.png")
    assert too_many.status_code == 422 and "最多可提交 2 个" in too_many.json()["errors"][0]["message"]
    assert complaint.evidence.count() == 2
