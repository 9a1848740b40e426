"""The negotiation on the pages: the staff case page's thread (make an offer, withdraw, regenerate the
agreement) and the consumer's status page (the thread, accept / refuse / counter-offer, download)."""

import io
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from complaints.ledgering import Actor
from complaints.models import Complaint
from ledger.models import LedgerEvent
from ledger.verify import verify
from resolutions import actions
from resolutions.models import Offer
from resolutions.tests.test_negotiation import negotiable, open_case, state  # noqa: F401 (fixture)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def status_page(client: Client, complaint: Complaint, code: str, **post: str):  # type: ignore[no-untyped-def]
    data = {"tracking_no": complaint.tracking_no, "access_code": code, **post}
    return client.post("/status/action/" if "action" in post else "/status/", data)


def test_the_whole_negotiation_on_the_pages(cast, negotiable, django_capture_on_commit_callbacks):  # noqa: F811
    complaint, code = negotiable
    tn = complaint.tracking_no
    agent = logged_in(cast.agent)
    page = agent.get(f"/staff/cases/{tn}/").content.decode()
    assert 'id="negotiation"' in page and 'id="form-make-offer"' in page
    auditor = logged_in(cast.auditor).get(f"/staff/cases/{tn}/").content.decode()
    assert 'id="negotiation"' in auditor and 'id="form-make-offer"' not in auditor

    bad = agent.post(f"/staff/remedies/{tn}/offers/", {"text": "赔偿若干。", "amount": "-3"})
    assert bad.status_code == 422 and 'id="offer-error-amount"' in bad.content.decode()
    made = agent.post(f"/staff/remedies/{tn}/offers/", {"text": "退款 300 元。", "amount": "300", "valid_days": "5"})
    assert made.status_code == 302 and made["Location"].endswith("#negotiation")
    first = Offer.objects.get()
    assert first.expires_at - first.made_at == timedelta(days=5)

    consumer = Client()
    html = status_page(consumer, complaint, code).content.decode()
    assert 'id="offer-thread"' in html and "300.00 CNY" in html and 'id="accept-proposal"' in html
    assert 'id="form-counter-offer"' in html and code in html  # the code stays in the page's forms only
    refused = status_page(consumer, complaint, code, action="counter_offer", text="我要 800 元", amount="八百")
    assert refused.status_code == 422 and "金额" in refused.content.decode()
    countered = status_page(
        consumer, complaint, code, action="counter_offer", text="我要 800 元", amount="800", offer_id=str(first.pk)
    )
    assert countered.status_code == 200, countered.content.decode()
    html = countered.content.decode()
    assert "已还价" in html and "800.00 CNY" in html and 'id="accept-proposal"' not in html

    page = agent.get(f"/staff/cases/{tn}/").content.decode()
    assert "答复投诉人的还价" in page and 'name="reply_to"' in page
    counter = Offer.objects.get(side="consumer")
    agent.post(
        f"/staff/remedies/{tn}/offers/",
        {"text": "退款并补偿，合计 600 元。", "amount": "600", "reply_to": str(counter.pk)},
    )
    second = Offer.objects.filter(side="organisation").last()
    assert second.reply_to_id == counter.pk and second.status == "open"

    with django_capture_on_commit_callbacks(execute=True):
        accepted = status_page(consumer, complaint, code, action="accept_proposal", offer_id=str(second.pk))
    assert accepted.status_code == 200
    html = status_page(consumer, complaint, code).content.decode()
    assert "已解决" in html or "resolved" in html
    assert 'id="download-agreement"' in html and f"{tn}-HJ01" in html
    pdf = consumer.post("/status/agreement/", {"tracking_no": tn, "access_code": code})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(b"".join(pdf.streaming_content))).pages)
    assert "和解协议" in text and "张三" in text and "600.00 CNY" in text and "投诉进度页面" in text
    assert consumer.post("/status/agreement/", {"tracking_no": tn, "access_code": "nope"}).status_code == 404

    page = agent.get(f"/staff/cases/{tn}/").content.decode()
    assert f'id="agreement-{second.pk}"' in page and 'id="do-settle"' not in page
    assert LedgerEvent.objects.filter(complaint=complaint, action="settlement_agreement").exists()
    assert verify().ok


def test_an_expired_offer_has_no_accept_button(cast, negotiable):  # noqa: F811
    complaint, code = negotiable
    offer = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="退款 100 元。", amount="100")
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    consumer = Client()
    html = status_page(consumer, complaint, code).content.decode()
    assert 'id="accept-proposal"' not in html and 'id="offer-not-acceptable"' in html and "已过期" in html
    before = state(complaint)
    forced = status_page(consumer, complaint, code, action="accept_proposal", offer_id=str(offer.pk))
    assert forced.status_code == 422 and "过期" in forced.content.decode()
    assert state(complaint) == before


def test_withdraw_and_regenerate_on_the_case_page(cast, negotiable, monkeypatch):  # noqa: F811
    from resolutions import agreement

    complaint, code = negotiable
    tn = complaint.tracking_no
    offer = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="退款 100 元。", amount="100")
    agent = logged_in(cast.agent)
    assert f'id="withdraw-offer-{offer.pk}"' in agent.get(f"/staff/cases/{tn}/").content.decode()
    assert f'id="withdraw-offer-{offer.pk}"' not in logged_in(cast.agent2).get(f"/staff/cases/{tn}/").content.decode()
    agent.post(f"/staff/remedies/{tn}/offers/{offer.pk}/withdraw/", {"reason": "金额有误"})
    offer.refresh_from_db()
    assert offer.status == "withdrawn" and Complaint.objects.get(pk=complaint.pk).status == "in_progress"
    html = status_page(Client(), complaint, code).content.decode()
    assert "已撤回" in html and 'id="accept-proposal"' not in html and "金额有误" not in html

    new = actions.make_offer(complaint, actor=Actor.staff(cast.agent), text="退款 120 元。", amount="120")
    monkeypatch.setattr(agreement, "build", lambda *a, **k: (_ for _ in ()).throw(OSError("no font")))
    from complaints import actions as case_actions

    case_actions.accept_proposal(complaint, actor=Actor.staff(cast.agent), note="电话中投诉人同意", offer_id=new.pk)
    actions.settle_automatically(complaint.pk, new.pk)  # what the task does: the failure is logged
    page = agent.get(f"/staff/cases/{tn}/").content.decode()
    assert 'id="do-settle"' in page and f'id="agreement-missing-{new.pk}"' in page
    assert 'id="agreement-pending"' in status_page(Client(), complaint, code).content.decode()
    monkeypatch.undo()
    assert agent.post(f"/staff/remedies/{tn}/agreement/").status_code == 302
    new.refresh_from_db()
    assert new.agreement is not None and new.agreement.shown_to_consumer
    assert logged_in(cast.outsider).post(f"/staff/remedies/{tn}/agreement/").status_code == 404


def test_demo_threads_end_in_an_agreement(cast, body, org):
    import random

    import time_machine
    from django.utils import timezone

    from resolutions import demo

    # Demo threads are told between a case's last event and now: the cases are a few days old.
    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False):
        cases = [open_case(cast, body, org_unit=org.store_sz.pk)[0] for _ in range(2)]
        cases.append(open_case(cast, body, language="en", complainant_name="Ann Lee")[0])
    demo.seed(cases, random.Random(7))
    for complaint in cases:
        sides = list(Offer.objects.filter(complaint=complaint).values_list("side", "status"))
        assert sides == [("organisation", "countered"), ("consumer", "countered"), ("organisation", "accepted")]
        final = Offer.objects.get(complaint=complaint, status="accepted")
        assert final.agreement is not None and Complaint.objects.get(pk=complaint.pk).status == "resolved"
    assert verify().ok
