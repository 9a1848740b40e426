"""The review's fixes: erasure order, no reason in the ledger, inbound mail, managers' reach,
masked search results."""

import json
from email.message import EmailMessage

import time_machine
from django.apps import apps

from evidence import store
from evidence.models import Evidence
from intake.inbound_mail import receive
from intake.models import InboundMail, InboundMailStatus
from privacy.models import PrivacyRequest

from .conftest import at, close_case, events, fresh, logged_in, new_case


def _mail(text: str, subject: str, sender: str = "张三 <Zhang.San@Example.com>") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "complaints@example.com"
    message["Subject"] = subject
    message.set_content(text)
    return bytes(message)


def _erase(api, customer, reason="本人要求删除个人信息"):  # type: ignore[no-untyped-def]
    return api.post(f"/privacy/customers/{customer.pk}/erase", {"reason": reason})


# --- A: the other apps erase first, while the complaints and the customer still show the person


def test_every_apps_erasure_hook_still_sees_the_persons_complaints_and_record(cast, body, api_as, monkeypatch):
    with time_machine.travel(at(2021, 1, 4, 10), tick=False):
        case = close_case(new_case(body, complainant_email="zs.case@example.com"), cast)
    seen: dict[str, tuple[list[str], str]] = {}
    from complaints.models import Complaint

    for config in apps.get_app_configs():
        hook = getattr(config, "erase_personal", None)
        if config.label == "privacy" or not callable(hook):
            continue

        def spy(customer, _hook=hook, _label=config.label):  # type: ignore[no-untyped-def]
            emails = list(Complaint.objects.filter(customer=customer).values_list("complainant_email", flat=True))
            seen[_label] = (emails, type(customer).objects.get(pk=customer.pk).phone)
            _hook(customer)

        monkeypatch.setattr(config, "erase_personal", spy)
    with time_machine.travel(at(2024, 6, 1, 10), tick=False):
        assert _erase(api_as(cast.legal), case.customer).status_code == 200
    assert seen, "no app with an erasure hook"
    for label, (emails, phone) in seen.items():
        assert emails == ["zs.case@example.com"], label
        assert phone == "+8613800138000", label
    assert fresh(case).complainant_email == ""


# --- B: the erase reason is never in the ledger


def test_the_erase_reason_stays_in_the_request_log_and_never_reaches_the_ledger(cast, body, api_as):
    with time_machine.travel(at(2021, 1, 4, 10), tick=False):
        case = close_case(new_case(body), cast)
    with time_machine.travel(at(2024, 6, 1, 10), tick=False):
        response = _erase(api_as(cast.legal), case.customer, reason="张三本人来电要求删除")
    assert response.status_code == 200
    request = PrivacyRequest.objects.get(status="done")
    assert request.reason == "张三本人来电要求删除"
    (event,) = events(case, "erase_personal")
    assert event.data == {"request": request.pk}
    ledger = json.dumps([(e.data, e.changes) for e in events(case, "erase_personal")], ensure_ascii=False)
    assert "来电要求删除" not in ledger


# --- C: inbound mail is exported and erased


def test_the_export_lists_the_mail_received_from_the_person(cast, person, api_as):
    customer, _first, _second = person
    failed = receive(_mail("短", "我的投诉"))  # too short to become a case: waits for an agent
    assert failed.status == InboundMailStatus.FAILED and failed.complaint_id is None
    stranger = receive(_mail("别人的来信，与张三无关。", "其他", sender="li.si@example.com"))
    document = api_as(cast.legal).post(f"/privacy/customers/{customer.pk}/export?format=json").json()
    mails = document["inbound_mail"]
    assert [(m["from"], m["subject"], m["tracking_no"], m["status"]) for m in mails] == [
        ("Zhang.San@Example.com", "我的投诉", None, "failed")
    ]
    assert mails[0]["received_at"].startswith(str(failed.received_at.date()))
    assert stranger.from_address not in json.dumps(document)


def test_erasure_blanks_the_mail_and_deletes_the_raw_message_unless_it_is_live_evidence(
    cast, body, api_as, django_capture_on_commit_callbacks
):
    with time_machine.travel(at(2021, 1, 4, 10), tick=False):
        registered = receive(_mail("购买的电热水壶使用三天后漏电，要求退款。", "投诉：电热水壶漏电"))
        failed = receive(_mail("短", "张三的来信"))
        case = fresh(registered.complaint)
        assert case.customer_id is not None
        close_case(case, cast)
    assert failed.complaint_id is None and store.exists(failed.raw_sha256)
    assert Evidence.objects.filter(sha256=registered.raw_sha256, deleted_at__isnull=True).exists()
    with time_machine.travel(at(2024, 6, 1, 10), tick=False), django_capture_on_commit_callbacks(execute=True):
        response = _erase(api_as(cast.legal), case.customer)
    assert response.status_code == 200, response.content
    for mail in InboundMail.objects.all():
        assert (mail.from_address, mail.subject, mail.envelope_from, mail.message_id) == ("", "", "", "")
        assert "张三" not in mail.error + mail.handled_note
    # the mail that never became a case is gone, and no longer waits for an agent
    failed.refresh_from_db()
    assert failed.status == InboundMailStatus.HANDLED and failed.handled_by == cast.legal
    assert not store.exists(failed.raw_sha256)
    # the raw message of the case is that case's evidence: it follows evidence retention
    assert store.exists(registered.raw_sha256)
    assert PrivacyRequest.objects.get(status="done").detail["records"]["inbound_mail"] == 2


# --- D: a manager reaches only the people with a case in their scope; legal/PR reach everyone


def test_a_manager_cannot_reach_a_person_without_a_case_in_their_scope(cast, body, org, api_as):
    outside = new_case(body, org_unit=org.store_bj.pk)  # the north region: not the manager's
    customer = outside.customer
    client, api = logged_in(cast.manager), api_as(cast.manager)
    assert client.get(f"/staff/privacy/customers/{customer.pk}/").status_code == 404
    for action in ("export", "correct", "erase"):
        response = client.post(f"/staff/privacy/customers/{customer.pk}/{action}/", {"format": "json", "reason": "x"})
        assert response.status_code == 404, action
    assert api.post(f"/privacy/customers/{customer.pk}/export?format=json").status_code == 404
    assert api.post(f"/privacy/customers/{customer.pk}/correct", {"name": "李四", "reason": "更正"}).status_code == 404
    assert api.post(f"/privacy/customers/{customer.pk}/erase", {"reason": "删除"}).status_code == 404
    # the same answer as for an id that does not exist: ids cannot be enumerated
    assert client.get("/staff/privacy/customers/999999/").status_code == 404
    found = client.get("/staff/privacy/", {"q": "张三"}).content.decode()
    assert f'href="/staff/privacy/customers/{customer.pk}/"' not in found
    assert not PrivacyRequest.objects.exists() and not events(outside, "view_personal")
    # legal/PR answer for the whole organisation
    assert logged_in(cast.legal).get(f"/staff/privacy/customers/{customer.pk}/").status_code == 200
    assert api_as(cast.legal).post(f"/privacy/customers/{customer.pk}/export?format=json").status_code == 200
    # ... and the manager does not read the log rows about people out of reach
    assert api.get("/privacy/requests").json() == []
    assert len(api_as(cast.auditor).get("/privacy/requests").json()) == 1


def test_a_manager_reaches_a_person_through_one_case_in_their_region(cast, person):
    customer, _first, second = person  # the first case is at the Shenzhen store, the second is not
    client = logged_in(cast.manager)
    assert client.get(f"/staff/privacy/customers/{customer.pk}/").status_code == 200
    assert [e.data["how"] for e in events(second, "view_personal")] == ["profile"]


# --- F: search results are masked; the person's page is the recorded view


def test_search_results_show_people_masked_and_write_no_view_event(cast, person):
    customer, first, _second = person
    html = logged_in(cast.legal).get("/staff/privacy/", {"q": "张三"}).content.decode()
    assert f'href="/staff/privacy/customers/{customer.pk}/"' in html
    assert "张*" in html and "+86138****8000" in html and "z***@example.com" in html
    assert "+8613800138000" not in html and "zhang.san@example.com" not in html and ">张三<" not in html
    assert events(first, "view_personal") == []
