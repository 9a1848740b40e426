"""The negotiation thread through the API: staff offer → consumer counter-offer → new offer → accepted,
the consumer mailed (real SMTP on loopback), the settlement agreement generated as evidence with its
hash in the ledger; expired and withdrawn offers refused with the reason, nothing changed; bad amounts
refused naming the field; every endpoint as anonymous, wrong role, other department, wrong code."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Notification
from complaints import actions as case_actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from core.errors import TransitionNotAllowed
from evidence import store
from evidence.models import Evidence
from ledger.models import LedgerEvent
from ledger.verify import verify
from resolutions import actions
from resolutions.models import Offer


def open_case(cast, body, **overrides) -> tuple[Complaint, str]:
    """A case in progress owned by the agent, and the consumer's access code."""
    complaint, code = case_actions.submit(
        check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer()
    )
    sup = Actor.staff(cast.supervisor)
    complaint = case_actions.accept(complaint, actor=sup)
    if complaint.owner_id != cast.agent.pk:
        complaint = case_actions.assign(complaint, actor=sup, owner=cast.agent)
    complaint = case_actions.start_work(complaint, actor=Actor.staff(cast.agent))
    return Complaint.objects.select_related("org_unit").get(pk=complaint.pk), code


@pytest.fixture
def negotiable(cast, body, org):  # type: ignore[no-untyped-def]
    return open_case(cast, body, org_unit=org.store_sz.pk, complainant_name="张三")


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def state(complaint: Complaint) -> tuple:
    """Everything an answer may change: the case row, its offers, its ledger."""
    c = Complaint.objects.get(pk=complaint.pk)
    offers = list(Offer.objects.filter(complaint=c).values_list("pk", "status", "decided_at"))
    return c.status, c.version, offers, LedgerEvent.objects.filter(complaint=c).count()


def test_offer_counter_new_offer_and_acceptance_through_the_api(
    api_as, cast, negotiable, smtp_server, django_capture_on_commit_callbacks
):
    complaint, code = negotiable
    tn = complaint.tracking_no
    agent = api_as(cast.agent)
    public = api_as()
    headers = {"X-Access-Code": code}
    remedy = actions.add_remedy(
        complaint, actor=Actor.staff(cast.agent), kind="return_refund", amount="199", description="退货退款"
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = agent.post(
            f"/complaints/{tn}/offers",
            {"text": "退货退款 199 元，另赔偿 100 元。", "amount": "299", "remedies": [remedy.pk]},
        )
    assert first.status_code == 201, first.content
    [offer1] = first.json()["items"]
    assert (
        offer1["status"] == "open" and offer1["amount"] == "299.00" and offer1["remedies"][0]["kind"] == "return_refund"
    )
    assert first.json()["status"] == "resolution_proposed"
    # The consumer is mailed: the offer, its expiry and the status page; never the access code.
    [mail] = smtp_server.messages
    text = mail.get_content()
    assert mail["To"] == "zhang.san@example.com" and tn in mail["Subject"]
    assert "299.00 CNY" in text and "/status/" in text and "有效期至" in text and code not in text

    view = public.get(f"/public/complaints/{tn}", headers=headers).json()
    assert view["negotiation"]["open_offer"]["id"] == offer1["id"] and view["negotiation"]["may_accept"]
    assert "made_by" not in view["negotiation"]["offers"][0]  # no staff names for the consumer

    countered = public.post(
        f"/public/complaints/{tn}/counter-offer",
        {"text": "要求退款并赔偿 500 元。", "amount": "1000", "offer_id": offer1["id"]},
        headers=headers,
    )
    assert countered.status_code == 200, countered.content
    assert countered.json()["status"] == "in_progress"
    statuses = [(o["side"], o["status"]) for o in countered.json()["negotiation"]["offers"]]
    assert statuses == [("organisation", "countered"), ("consumer", "open")]
    assert Notification.objects.filter(recipient=cast.agent, kind="counter_offer").exists()
    counter_id = countered.json()["negotiation"]["offers"][1]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        second = agent.post(
            f"/complaints/{tn}/offers",
            {
                "text": "退货退款，并赔偿 801 元，合计 1,000 元。",
                "amount": 1000,
                "reply_to": counter_id,
                "remedies": [remedy.pk],
            },
        )
    assert second.status_code == 201, second.content
    items = second.json()["items"]
    assert [o["status"] for o in items] == ["countered", "countered", "open"] and items[2]["reply_to"] == counter_id
    assert len(smtp_server.messages) == 2

    with django_capture_on_commit_callbacks(execute=True):
        accepted = public.post(
            f"/public/complaints/{tn}/accept-proposal", {"offer_id": items[2]["id"]}, headers=headers
        )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "resolved" and accepted.json()["outcome"] == "accepted"
    # Generated after commit (here when the captured callbacks run, in production before the answer).
    agreement = public.get(f"/public/complaints/{tn}", headers=headers).json()["negotiation"]["agreement"]
    assert agreement is not None and agreement["agreement_no"] == f"{tn}-HJ01"

    # The agreement: evidence shown to the consumer, its hash in the evidence and settlement events.
    item = Evidence.objects.get(pk=agreement["evidence_id"])
    content = store.open(item.sha256).read()
    assert hashlib.sha256(content).hexdigest() == item.sha256 == agreement["sha256"]
    assert item.shown_to_consumer and item.content_type == "application/pdf"
    settled = LedgerEvent.objects.get(complaint=complaint, action="settlement_agreement")
    assert settled.data["sha256"] == item.sha256 and settled.data["evidence_id"] == item.pk
    added = LedgerEvent.objects.filter(complaint=complaint, action="add_evidence").last()
    assert added.data["sha256"] == item.sha256
    accept_event = LedgerEvent.objects.get(complaint=complaint, action="accept_proposal")
    assert accept_event.data["agreement_no"] == f"{tn}-HJ01" and accept_event.data["accepted_via"] == "api"
    text = pdf_text(content)
    for expected in ("和解协议", "张三", "1,000.00 CNY", "199.00 CNY", tn, "深圳南山店", "示例集团"):
        assert expected in text, expected
    assert "接口" in text  # accepted through the consumer API

    # The consumer downloads it with the code (recorded); staff through the evidence routes.
    download = public.client.get(f"/api/v1/public/complaints/{tn}/agreement", headers=headers)
    assert download.status_code == 200 and b"".join(download.streaming_content) == content
    assert LedgerEvent.objects.filter(complaint=complaint, action="download_evidence", actor="consumer").exists()
    staff_copy = agent.client.get(f"/api/v1/complaints/{tn}/evidence/{item.pk}/content", headers=agent.headers)
    assert staff_copy.status_code == 200
    thread = agent.get(f"/complaints/{tn}/offers").json()
    assert thread["items"][2]["agreement"]["sha256"] == item.sha256
    assert verify().ok


def test_the_agreement_is_the_same_document_when_generated_again(cast, negotiable):
    from resolutions import agreement

    complaint, _ = negotiable
    offer = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="全额退款 3,999 元。", amount="3999")
    case_actions.accept_proposal(complaint, actor=Actor.consumer(), offer_id=offer.pk)
    offer.refresh_from_db()
    complaint = Complaint.objects.select_related("org_unit").get(pk=complaint.pk)
    assert agreement.build(complaint, offer) == agreement.build(complaint, offer)


def test_an_english_case_gets_an_english_agreement(cast, body, org, django_capture_on_commit_callbacks):
    complaint, _ = open_case(cast, body, language="en", complainant_name="John Smith", org_unit=org.store_sz.pk)
    offer = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="Full refund.", amount="1234.5")
    with django_capture_on_commit_callbacks(execute=True):
        case_actions.accept_proposal(complaint, actor=Actor.staff(cast.agent), note="Accepted by phone on 5 May")
    offer.refresh_from_db()
    assert offer.agreement is not None and offer.agreement.filename.startswith("Settlement-Agreement")
    text = pdf_text(store.open(offer.agreement.sha256).read())
    for expected in ("Settlement Agreement", "John Smith", "1,234.50 CNY", "Accepted by phone on 5 May", "Party A"):
        assert expected in text, expected
    assert "和解协议" not in text


def test_an_expired_offer_cannot_be_accepted_and_nothing_changes(api_as, cast, negotiable):
    complaint, code = negotiable
    tn = complaint.tracking_no
    offer = actions.make_offer(
        complaint, actor=Actor.staff(cast.agent), text="退款 100 元。", amount="100", valid_days=3
    )
    assert offer.expires_at - offer.made_at == timedelta(days=3)
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    before = state(complaint)
    refused = api_as().post(f"/public/complaints/{tn}/accept-proposal", {}, headers={"X-Access-Code": code})
    assert refused.status_code == 409 and "过期" in refused.json()["message"]
    assert state(complaint) == before
    view = api_as().get(f"/public/complaints/{tn}", headers={"X-Access-Code": code}).json()
    assert view["negotiation"]["offers"][0]["status"] == "expired" and view["negotiation"]["may_accept"] is False
    # Staff recording an acceptance are refused too.
    with pytest.raises(TransitionNotAllowed, match="过期"):
        case_actions.accept_proposal(complaint, actor=Actor.staff(cast.agent), note="电话确认接受")
    # The sweep records the expiry; the case is back in progress and the owner is told.
    assert actions.expire_offers() == 1
    offer.refresh_from_db()
    assert offer.status == "expired" and Complaint.objects.get(pk=complaint.pk).status == "in_progress"
    assert actions.expire_offers() == 0
    again = api_as().post(f"/public/complaints/{tn}/accept-proposal", {}, headers={"X-Access-Code": code})
    assert again.status_code == 409 and "过期" in again.json()["message"]
    assert verify().ok


def test_a_withdrawn_offer_cannot_be_accepted(api_as, cast, negotiable):
    complaint, code = negotiable
    tn = complaint.tracking_no
    agent = api_as(cast.agent)
    old = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="退款 100 元。", amount="100")
    assert api_as(cast.agent2).post(f"/complaints/{tn}/offers/{old.pk}/withdraw", {"reason": "算错"}).status_code == 403
    withdrawn = agent.post(f"/complaints/{tn}/offers/{old.pk}/withdraw", {"reason": "金额算错了"})
    assert withdrawn.status_code == 200 and withdrawn.json()["items"][0]["status"] == "withdrawn"
    assert withdrawn.json()["status"] == "in_progress"
    before = state(complaint)
    refused = api_as().post(f"/public/complaints/{tn}/accept-proposal", {}, headers={"X-Access-Code": code})
    assert refused.status_code == 409 and "撤回" in refused.json()["message"]
    assert state(complaint) == before
    # A new offer is open; accepting the withdrawn one by its id is still refused, with the reason.
    new = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="退款 150 元。", amount="150")
    before = state(complaint)
    named = api_as().post(
        f"/public/complaints/{tn}/accept-proposal", {"offer_id": old.pk}, headers={"X-Access-Code": code}
    )
    assert named.status_code == 409 and "撤回" in named.json()["message"]
    assert state(complaint) == before
    # The consumer's view does not show why staff withdrew it (internal).
    offers = api_as().get(f"/public/complaints/{tn}", headers={"X-Access-Code": code}).json()["negotiation"]["offers"]
    assert offers[0]["reason"] == "" and offers[1]["id"] == new.pk
    withdraw_again = agent.post(f"/complaints/{tn}/offers/{old.pk}/withdraw", {"reason": "再撤一次"})
    assert withdraw_again.status_code == 422 and withdraw_again.json()["errors"][0]["field"] == "offer"


def test_bad_amounts_are_refused_naming_the_field(api_as, cast, negotiable):
    complaint, code = negotiable
    tn = complaint.tracking_no
    agent = api_as(cast.agent)
    for amount in ["-5", "十元", "1.234", 10_000_001]:
        response = agent.post(f"/complaints/{tn}/offers", {"text": "赔偿若干元。", "amount": amount})
        assert response.status_code == 422, amount
        assert response.json()["errors"][0]["field"] == "amount"
    bad_days = agent.post(f"/complaints/{tn}/offers", {"text": "赔偿若干元。", "valid_days": 400})
    assert bad_days.status_code == 422 and bad_days.json()["errors"][0]["field"] == "valid_days"
    assert not Offer.objects.exists() and Complaint.objects.get(pk=complaint.pk).status == "in_progress"
    actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="赔偿 100 元。", amount="100")
    before = state(complaint)
    for amount in ["-1", "abc", "99999999999"]:
        response = api_as().post(
            f"/public/complaints/{tn}/counter-offer",
            {"text": "我要更多", "amount": amount},
            headers={"X-Access-Code": code},
        )
        assert response.status_code == 422, amount
        assert response.json()["errors"][0]["field"] == "amount"
    assert state(complaint) == before


def test_an_offer_bundles_only_authorised_remedies(api_as, cast, negotiable):
    complaint, _ = negotiable
    pending = actions.add_remedy(complaint, actor=Actor.staff(cast.agent), kind="compensation", amount="5000")
    response = api_as(cast.agent).post(
        f"/complaints/{complaint.tracking_no}/offers", {"text": "赔偿 5000 元。", "remedies": [pending.pk]}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "remedies"
    assert "待审批" in response.json()["errors"][0]["message"]


def test_who_may_negotiate(api_as, cast, negotiable):
    complaint, code = negotiable
    tn = complaint.tracking_no
    offer_body = {"text": "退款 100 元。", "amount": "100"}
    assert api_as().get(f"/complaints/{tn}/offers").status_code == 401
    assert api_as().post(f"/complaints/{tn}/offers", offer_body).status_code == 401
    assert api_as(cast.outsider).get(f"/complaints/{tn}/offers").status_code == 404
    assert api_as(cast.outsider).post(f"/complaints/{tn}/offers", offer_body).status_code == 404
    assert api_as(cast.auditor).get(f"/complaints/{tn}/offers").status_code == 200
    assert api_as(cast.auditor).post(f"/complaints/{tn}/offers", offer_body).status_code == 403
    assert api_as(cast.agent2).post(f"/complaints/{tn}/offers", offer_body).status_code == 403  # not the owner
    assert not Offer.objects.exists()
    offer = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="退款 100 元。", amount="100")
    # A wrong code and another case's number answer alike: 404, nothing changed.
    before = state(complaint)
    for headers in ({"X-Access-Code": "WRONG-CODE"}, {}):
        public = api_as()
        assert public.get(f"/public/complaints/{tn}", headers=headers).status_code == 404
        assert public.post(f"/public/complaints/{tn}/accept-proposal", {}, headers=headers).status_code == 404
        counter = {"text": "200 元", "amount": "200"}
        assert public.post(f"/public/complaints/{tn}/counter-offer", counter, headers=headers).status_code == 404
        assert public.client.get(f"/api/v1/public/complaints/{tn}/agreement", headers=headers).status_code == 404
    assert state(complaint) == before
    # Staff cannot counter for the consumer; the consumer cannot withdraw or expire an offer.
    with pytest.raises(PermissionDenied):
        actions.counter_offer(complaint, actor=Actor.staff(cast.agent), text="我代投诉人还价", amount="1")
    with pytest.raises(PermissionDenied):
        actions.withdraw_offer(offer, actor=Actor.consumer(), reason="不要了")
    assert state(complaint) == before
    # No agreement before acceptance: the consumer gets 404, staff a reason.
    assert (
        api_as().client.get(f"/api/v1/public/complaints/{tn}/agreement", headers={"X-Access-Code": code}).status_code
        == 404
    )
    early = api_as(cast.agent).post(f"/complaints/{tn}/agreement")
    assert early.status_code == 409  # the case is not resolved yet


def test_a_failed_agreement_keeps_the_acceptance_and_staff_regenerate_it(
    api_as, cast, negotiable, monkeypatch, django_capture_on_commit_callbacks
):
    from resolutions import agreement

    complaint, code = negotiable
    tn = complaint.tracking_no
    offer = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="全额退款 500 元。", amount="500")

    def broken(*args, **kwargs):
        raise OSError("font missing")

    monkeypatch.setattr(agreement, "build", broken)
    with django_capture_on_commit_callbacks(execute=True):
        accepted = api_as().post(f"/public/complaints/{tn}/accept-proposal", {}, headers={"X-Access-Code": code})
    assert accepted.status_code == 200 and accepted.json()["status"] == "resolved"
    assert accepted.json()["negotiation"]["agreement"] is None and accepted.json()["negotiation"]["agreement_pending"]
    offer.refresh_from_db()
    assert offer.status == "accepted" and offer.agreement_id is None
    monkeypatch.undo()
    assert api_as(cast.agent2).post(f"/complaints/{tn}/agreement").status_code == 403
    made = api_as(cast.agent).post(f"/complaints/{tn}/agreement")
    assert made.status_code == 201, made.content
    assert made.json()["items"][0]["agreement"]["sha256"]
    again = api_as(cast.supervisor).post(f"/complaints/{tn}/agreement")
    assert again.status_code == 422 and "已生成" in again.json()["errors"][0]["message"]
    assert LedgerEvent.objects.filter(complaint=complaint, action="settlement_agreement").count() == 1
    assert verify().ok


def test_a_refusal_with_a_reason_closes_the_offer(api_as, cast, negotiable):
    complaint, code = negotiable
    offer = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="退款 100 元。", amount="100")
    refused = api_as().post(
        f"/public/complaints/{complaint.tracking_no}/refuse-proposal",
        {"reason": "金额太少", "offer_id": offer.pk},
        headers={"X-Access-Code": code},
    )
    assert refused.status_code == 200 and refused.json()["status"] == "in_progress"
    offer.refresh_from_db()
    assert offer.status == "refused" and offer.reason == "金额太少"
    assert refused.json()["negotiation"]["offers"][0]["reason"] == "金额太少"
    empty = api_as().post(
        f"/public/complaints/{complaint.tracking_no}/refuse-proposal", {"reason": ""}, headers={"X-Access-Code": code}
    )
    assert empty.status_code == 422


def test_an_acceptance_without_a_body_accepts_the_open_offer(api_as, cast, negotiable):
    from django.test import Client

    complaint, code = negotiable
    offer = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="退款 100 元。", amount="100")
    url = f"/api/v1/public/complaints/{complaint.tracking_no}/accept-proposal"
    bad = Client().post(url, {"offer_id": "x"}, content_type="application/json", headers={"X-Access-Code": code})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "offer_id"
    accepted = Client().post(url, headers={"X-Access-Code": code})
    assert accepted.status_code == 200 and accepted.json()["status"] == "resolved"
    offer.refresh_from_db()
    assert offer.status == "accepted" and offer.accepted_via == "api"
