"""The case page's casework panel: the forms, their refusals re-rendered with the agent's text kept,
the closing checklist item by item, and the close form's refusals named."""

from django.utils import timezone

from casework.models import Contact, Reply
from complaints.ledgering import Actor
from evidence.tests import samples
from resolutions import actions as remedies

from .conftest import fresh, logged_in, page, resolve


def test_the_panel_shows_forms_to_writers_only(cast, case):
    html = page(cast.agent, case)
    assert 'id="contacts"' in html and 'id="form-add-contact"' in html and 'id="form-send-reply"' in html
    assert html.index('id="contacts"') < html.index("可执行的操作")
    auditor = page(cast.auditor, case)
    assert (
        'id="contacts"' in auditor and 'id="form-add-contact"' not in auditor and 'id="form-send-reply"' not in auditor
    )


def test_a_contact_with_a_recording_is_logged_on_the_page(cast, case):
    client = logged_in(cast.agent)
    upload = samples.png(7)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        f"/staff/casework/{case.tracking_no}/contacts/add/",
        {
            "version": fresh(case).version,
            "direction": "inbound",
            "party": "consumer",
            "channel": "phone",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "duration": "5:30",
            "summary": "投诉人来电催促处理进度。",
            "file": SimpleUploadedFile("录音截图.png", upload, content_type="image/png"),
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("#contacts")
    contact = Contact.objects.get()
    assert contact.duration_seconds == 330 and contact.evidence.kind == "communication"
    html = page(cast.agent, case)
    assert f'id="contact-{contact.pk}"' in html and "投诉人来电催促处理进度" in html and "录音截图.png" in html


def test_refusals_come_back_next_to_the_form_with_the_text_kept(cast, case):
    client = logged_in(cast.agent)
    response = client.post(
        f"/staff/casework/{case.tracking_no}/contacts/add/",
        {
            "direction": "outbound",
            "party": "third_party",
            "channel": "phone",
            "occurred_at": "2999-01-01T10:00",
            "duration": "abc",
            "summary": "与供应商核实批次质量问题，对方称需三天出具检测报告。",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    for field in ("duration",):
        assert f'id="contact-error-{field}"' in html
    assert "与供应商核实批次质量问题" in html  # the agent's text is not lost
    response = client.post(
        f"/staff/casework/{case.tracking_no}/contacts/add/",
        {
            "direction": "outbound",
            "party": "third_party",
            "channel": "phone",
            "occurred_at": "2999-01-01T10:00",
            "summary": "与供应商核实。",
        },
    )
    html = response.content.decode()
    for field in ("occurred_at", "third_party_kind", "third_party_name"):
        assert f'id="contact-error-{field}"' in html
    assert not Contact.objects.exists()
    reply = client.post(f"/staff/casework/{case.tracking_no}/reply/", {"text": "好", "template": ""})
    assert reply.status_code == 422 and 'id="reply-error-text"' in reply.content.decode()
    stale = client.post(f"/staff/casework/{case.tracking_no}/reply/", {"text": "您好，这是答复。", "version": "1"})
    assert stale.status_code == 422 and "已被他人修改" in stale.content.decode()
    assert not Reply.objects.exists()
    outsider = logged_in(cast.outsider).post(f"/staff/casework/{case.tracking_no}/reply/", {"text": "您好，这是答复。"})
    assert outsider.status_code == 404


def test_the_reply_is_sent_from_the_page(cast, resolved):
    client = logged_in(cast.agent)
    response = client.post(
        f"/staff/casework/{resolved.tracking_no}/reply/",
        {"version": resolved.version, "text": "您好，已为您更换新品。"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#reply")
    html = page(cast.agent, resolved)
    assert "已为您更换新品" in html and 'id="check-reply_sent" class="met"' in html


def test_the_checklist_is_shown_and_the_close_form_names_each_refused_item(cast, case):
    remedies.add_remedy(case, actor=Actor.staff(cast.agent), kind="repair", description="上门维修")
    resolved = fresh(resolve(fresh(case), cast.agent))
    html = page(cast.agent, resolved)
    assert 'id="check-reply_sent" class="unmet"' in html
    assert 'id="check-remedies_settled" class="unmet"' in html and "维修" in html
    assert 'id="check-evidence_complete" class="pending"' in html
    assert 'id="check-survey_scheduled" class="met"' in html
    assert 'id="close-evidence_complete"' in html  # the checkbox of the close form
    client = logged_in(cast.agent)
    refused = client.post(f"/staff/cases/{resolved.tracking_no}/close/", {"version": fresh(resolved).version})
    html = refused.content.decode()
    assert refused.status_code == 422
    for item in ("reply_sent", "remedies_settled", "evidence_complete"):
        assert f'id="close-error-{item}"' in html
    assert fresh(resolved).status == "resolved"
    remedy = resolved.remedies.get()
    remedies.mark_remedy_paid(remedy, actor=Actor.staff(cast.agent), reference="R-1")
    done = client.post(
        f"/staff/cases/{resolved.tracking_no}/close/",
        {"version": fresh(resolved).version, "reply_text": "您好，维修已完成。", "evidence_complete": "on"},
    )
    assert done.status_code == 302 and fresh(resolved).status == "closed"
    assert 'id="closing-recorded"' in page(cast.agent, resolved)
