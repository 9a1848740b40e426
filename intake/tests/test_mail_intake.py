"""Mail in: real mail through SMTP on loopback to the intake listener, the way a relay sends it."""

import base64
import re
import smtplib
import socket
from email import policy
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client

from accounts.models import Notification
from complaints.models import Complaint, ComplaintMessage
from evidence import store
from evidence.models import Evidence
from intake.inbound_mail import receive
from intake.management.commands.mail_intake import smtp_controller
from intake.models import InboundMail
from ledger.models import LedgerEvent
from ledger.verify import verify

DOMAIN = "complaints.example.com"
TO = f"tousu@{DOMAIN}"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def listener(settings):  # type: ignore[no-untyped-def]
    """The intake listener on a free loopback port, in this process (as `mail_intake` runs it)."""
    controller = smtp_controller("127.0.0.1", free_port(), max_bytes=300_000, domains=[DOMAIN])
    controller.start()
    yield controller.port
    controller.stop()
    controller.handler.close()


def send(port: int, raw: bytes, sender: str = "zhang.san@example.com", to: str = TO) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.sendmail(sender, [to], raw)


def encoded_word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def gb2312_mail(
    body: str, subject: str = "电热水壶漏电", name: str = "张三", sender: str = "zhang.san@example.com"
) -> bytes:
    headers = (
        f"From: {encoded_word(name, 'gb2312')} <{sender}>\r\n"
        f"To: {TO}\r\n"
        f"Subject: {encoded_word(subject, 'gb2312')}\r\n"
        "Message-ID: <m1.%d@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=gb2312\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ) % abs(hash(body))
    return headers.encode() + base64.encodebytes(body.encode("gb2312")).replace(b"\n", b"\r\n")


def mail(
    text: str = "购买的电热水壶使用三天后漏电，要求退款并赔偿。",
    subject: str = "投诉：电热水壶",
    sender: str = "Li Si <li.si@example.com>",
    html: str | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
    **headers: str,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = TO
    message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if text:
        message.set_content(text)
    if html is not None:
        if text:
            message.add_alternative(html, subtype="html")
        else:
            message.set_content(html, subtype="html")
    for filename, content, content_type in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=policy.SMTP)


def tracking_no_in(message: Any) -> str:
    return re.search(r"TS\d{8}-\d{6,}", message["Subject"]).group(0)


@pytest.mark.django_db(transaction=True)
def test_a_gb2312_mail_becomes_a_complaint_and_the_sender_gets_the_receipt(cast, listener, smtp_server):
    raw = gb2312_mail("购买的电热水壶使用三天后漏电，要求退款并赔偿。")
    send(listener, raw)
    complaint = Complaint.objects.get()
    assert complaint.channel == "email" and complaint.preferred_contact == "email"
    assert complaint.complainant_email == "zhang.san@example.com" and complaint.complainant_name == "张三"
    assert complaint.title == "电热水壶漏电"
    assert complaint.description == "购买的电热水壶使用三天后漏电，要求退款并赔偿。"
    [receipt] = smtp_server.messages
    assert receipt["To"] == "zhang.san@example.com" and tracking_no_in(receipt) == complaint.tracking_no
    inbound = InboundMail.objects.get()
    assert (inbound.status, inbound.complaint, inbound.via) == ("parsed", complaint, "smtp")
    assert inbound.from_address == "zhang.san@example.com" and inbound.subject == "电热水壶漏电"
    [kept] = Evidence.objects.filter(complaint=complaint)
    assert (kept.kind, kept.content_type, kept.via) == ("communication", "message/rfc822", "mail")
    with store.open(kept.sha256) as stored:
        assert stored.read() == raw  # the mail exactly as received
    assert LedgerEvent.objects.get(complaint=complaint, seq=1).actor_label == "mail"
    assert verify().ok


@pytest.mark.django_db(transaction=True)
def test_an_html_only_mail_is_read_as_text(cast, listener):
    html = (
        "<html><head><style>p {color: red}</style><script>alert('x')</script></head>"
        "<body><p>我购买的手机屏幕有坏点，</p><p>要求<b>换货</b>。</p></body></html>"
    )
    send(listener, mail(text="", html=html), sender="li.si@example.com")
    complaint = Complaint.objects.get()
    assert "我购买的手机屏幕有坏点" in complaint.description and "换货" in complaint.description
    assert "<" not in complaint.description and "alert" not in complaint.description
    assert "color" not in complaint.description


@pytest.mark.django_db(transaction=True)
def test_a_pdf_attachment_becomes_complaint_material(cast, listener):
    send(listener, mail(attachments=[("发票.pdf", PDF, "application/pdf")]), sender="li.si@example.com")
    complaint = Complaint.objects.get()
    material = Evidence.objects.get(complaint=complaint, kind="complaint_material")
    assert (material.filename, material.content_type) == ("发票.pdf", "application/pdf")
    with store.open(material.sha256) as stored:
        assert stored.read() == PDF
    assert Evidence.objects.filter(complaint=complaint, kind="communication").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_refused_attachment_is_noted_and_the_complaint_still_made(cast, listener):
    attachments = [("setup.exe", EXE, "application/octet-stream"), ("照片.pdf", PDF, "application/pdf")]
    send(listener, mail(attachments=attachments), sender="li.si@example.com")
    complaint = Complaint.objects.get()
    names = set(Evidence.objects.filter(complaint=complaint).values_list("filename", flat=True))
    assert "setup.exe" not in names and "照片.pdf" in names
    note = ComplaintMessage.objects.get(complaint=complaint, internal=True)
    assert "setup.exe" in note.body and "原始邮件" in note.body
    assert "setup.exe" in InboundMail.objects.get().error


@pytest.mark.django_db(transaction=True)
def test_a_reply_with_the_tracking_number_goes_into_the_contact_log(cast, listener, smtp_server):
    send(listener, gb2312_mail("购买的电热水壶使用三天后漏电，要求退款并赔偿。"))
    receipt = smtp_server.messages[0]
    tracking_no = tracking_no_in(receipt)
    access_code = re.search(r"[:：]\s*([2-9A-HJ-NP-Z]{12})", receipt.get_content()).group(1)
    quoted = "\n".join("> " + line for line in receipt.get_content().splitlines())
    reply = mail(
        text=f"补充：漏电时家里的空气开关跳闸了，照片见附件。\n\n在 2026年5月1日，客服写道：\n{quoted}",
        subject=f"Re: {receipt['Subject']}",
        sender="张三 <Zhang.San@Example.com>",
        attachments=[("跳闸.pdf", PDF, "application/pdf")],
        In_Reply_To=receipt["Message-ID"],
        References=f"<first.{tracking_no}@example.com> {receipt['Message-ID']}",
    )
    send(listener, reply)
    complaint = Complaint.objects.get()  # no second case
    [message] = ComplaintMessage.objects.filter(complaint=complaint, author_kind="consumer")
    assert message.internal is False and message.body == "补充：漏电时家里的空气开关跳闸了，照片见附件。"
    assert access_code not in message.body
    assert InboundMail.objects.filter(status="reply", complaint=complaint).count() == 1
    assert Evidence.objects.filter(complaint=complaint, kind="communication").count() == 2
    assert Evidence.objects.filter(complaint=complaint, filename="跳闸.pdf").exists()
    assert complaint.tracking_no == tracking_no and complaint.status == "new"  # mail never moves the case
    assert Notification.objects.filter(recipient=cast.supervisor, kind="consumer_mail").exists()
    assert len(smtp_server.messages) == 1  # a reply gets no second receipt


@pytest.mark.django_db(transaction=True)
def test_a_tracking_number_from_another_sender_makes_a_new_case(cast, listener, smtp_server):
    send(listener, gb2312_mail("购买的电热水壶使用三天后漏电，要求退款并赔偿。"))
    tracking_no = tracking_no_in(smtp_server.messages[0])
    send(
        listener,
        mail(text="我也买了同款热水壶，也出现了漏电的问题。", subject=f"Re: {tracking_no}"),
        sender="someone.else@example.com",
    )
    assert Complaint.objects.count() == 2
    other = Complaint.objects.exclude(tracking_no=tracking_no).get()
    assert other.complainant_email == "li.si@example.com"
    assert not ComplaintMessage.objects.filter(complaint__tracking_no=tracking_no).exists()
    assert tracking_no in ComplaintMessage.objects.get(complaint=other, internal=True).body


@pytest.mark.django_db(transaction=True)
def test_malformed_mime_fails_visibly_and_the_raw_mail_is_kept_for_download(cast, listener, smtp_server):
    raw = (
        b"From: Wang Wu <wang.wu@example.com>\r\nTo: " + TO.encode() + b"\r\nSubject: broken\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
        b"--nowhere\r\nContent-Type: text/plain\r\n\r\nthe text the parser cannot find\r\n"
    )
    send(listener, raw, sender="wang.wu@example.com")
    assert Complaint.objects.count() == 0
    inbound = InboundMail.objects.get()
    assert inbound.status == "failed" and "MIME" in inbound.error
    client = Client()
    client.force_login(cast.agent)
    listing = client.get("/staff/mail/")
    assert listing.status_code == 200 and "broken" in listing.content.decode()
    download = client.get(f"/staff/mail/{inbound.pk}/raw/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == raw
    assert "attachment" in download["Content-Disposition"]
    # Once the file is gone (the sender's data erased, privacy), the download is a 404, not a 500.
    from evidence import store

    store._storage().delete(store.path_of(inbound.raw_sha256))
    assert client.get(f"/staff/mail/{inbound.pk}/raw/").status_code == 404
    assert Notification.objects.filter(recipient=cast.agent, kind="inbound_mail_failed").exists()
    [notice] = smtp_server.messages  # the person is told; the notice is marked as automatic
    assert notice["To"] == "wang.wu@example.com" and notice["Auto-Submitted"] == "auto-replied"


@pytest.mark.django_db(transaction=True)
def test_an_empty_body_fails_with_a_clear_reason(cast, listener):
    send(listener, mail(text=""), sender="li.si@example.com")
    inbound = InboundMail.objects.get()
    assert inbound.status == "failed" and "没有正文" in inbound.error
    assert Complaint.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_auto_replies_are_stored_as_handled_and_never_answered(cast, listener, smtp_server):
    send(listener, mail(text="I am out of the office until Monday.", Auto_Submitted="auto-replied"))
    send(listener, mail(text="Weekly newsletter with offers", Precedence="bulk"), sender="news@example.com")
    send(listener, mail(text="Delivery failed permanently", sender="MAILER-DAEMON@example.com"), sender="")
    assert Complaint.objects.count() == 0 and smtp_server.messages == []
    assert list(InboundMail.objects.values_list("status", flat=True)) == ["handled"] * 3


@pytest.mark.django_db(transaction=True)
def test_too_large_a_mail_is_refused_with_552_and_nothing_is_stored(cast, listener):
    big = mail(attachments=[("big.pdf", PDF + b"0" * 400_000, "application/pdf")])
    with pytest.raises(smtplib.SMTPSenderRefused) as announced:  # the SIZE the client announced
        send(listener, big)
    assert announced.value.smtp_code == 552
    with smtplib.SMTP("127.0.0.1", listener, timeout=30) as client:  # a client that does not announce it
        client.ehlo()
        client.mail("zhang.san@example.com")
        client.rcpt(TO)
        code, _text = client.data(big)
    assert code == 552
    assert InboundMail.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_recipients_outside_the_configured_domains_are_refused(cast, listener):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(listener, mail(), to="someone@elsewhere.example.org")
    assert refused.value.recipients["someone@elsewhere.example.org"][0] == 550


@pytest.mark.django_db(transaction=True)
def test_a_mail_delivered_twice_is_kept_once(cast, listener):
    raw = mail()
    send(listener, raw)
    send(listener, raw)
    assert InboundMail.objects.count() == 1 and Complaint.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_when_the_mail_cannot_be_stored_the_relay_is_told_to_retry(cast, listener, monkeypatch):
    def broken_storage(content: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr("intake.inbound_mail.store.put", broken_storage)
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(listener, mail())
    assert refused.value.smtp_code == 451
    assert InboundMail.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_crash_on_one_mail_loses_neither_it_nor_the_next(cast, listener, monkeypatch):
    from complaints import actions

    real_submit = actions.submit
    calls = []

    def submit_failing_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(actions, "submit", submit_failing_once)
    first = mail(text="第一封：洗衣机脱水时剧烈晃动。")
    send(listener, first)
    send(listener, mail(text="第二封：冰箱不制冷，已报修两次。"))
    failed = InboundMail.objects.get(status="failed")
    assert "RuntimeError" in failed.error and Evidence.objects.count() == 1  # only the second case's mail
    with store.open(failed.raw_sha256) as stored:
        assert stored.read() == first
    assert Complaint.objects.get().description == "第二封：冰箱不制冷，已报修两次。"


# --- parsing details, without the listener ---------------------------------------------------------


def test_an_unknown_charset_is_detected_and_noted(cast):
    body = "你好，我要投诉产品质量问题，电饭煲内胆涂层脱落。".encode("gbk")
    raw = (
        b"From: li.si@example.com\r\nSubject: =?big5?B?"
        + base64.b64encode("電飯煲".encode("big5"))
        + b"?=\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\n"
        + body
        + b"\r\n"
    )
    inbound = receive(raw)
    complaint = inbound.complaint
    assert complaint.description == "你好，我要投诉产品质量问题，电饭煲内胆涂层脱落。"
    assert complaint.title == "電飯煲"
    assert "x-unknown-charset" in inbound.error
    assert "x-unknown-charset" in ComplaintMessage.objects.get(complaint=complaint, internal=True).body


def test_a_mail_naming_a_case_from_its_complainant_without_the_reply_token_waits_for_an_agent(cast):
    """A From address is easily forged, and so are our tracking header and the number in a subject:
    without the token of one of our Message-IDs nothing goes on the case until an agent confirms it."""
    from casework.models import Contact
    from complaints.ledgering import Actor
    from core import mailref

    first = receive(mail(text="空调外机噪音很大，影响休息。", sender="li.si@example.com")).complaint
    guessed = f"<1.2.3.{first.tracking_no}.{'0' * mailref.TOKEN_LENGTH}@example.com>"
    for headers in (
        {"X_ComplaintDesk_Tracking": first.tracking_no},
        {"subject": f"Re: 投诉已收到：{first.tracking_no}"},
        {"In_Reply_To": f"<{first.tracking_no}@example.com>"},
        {"References": guessed},
    ):
        forged = receive(mail(text="我撤回投诉，不需要任何赔偿了。", **{"subject": "空调", **headers}))
        assert forged.status == "failed" and forged.complaint is None, headers
        assert first.tracking_no in forged.error and "核实" in forged.error
    assert Complaint.objects.count() == 1
    assert not ComplaintMessage.objects.filter(complaint=first, author_kind="consumer").exists()
    assert not Contact.objects.filter(complaint=first).exists()
    assert (
        not Evidence.objects.filter(complaint=first, kind="communication")
        .exclude(sha256=InboundMail.objects.get(complaint=first).raw_sha256)
        .exists()
    )
    assert Notification.objects.filter(kind="inbound_mail_failed").exists()

    # The agent checks (a call back, say) that the complainant wrote it, and files it on the case.
    waiting = InboundMail.objects.filter(status="failed").order_by("pk").first()
    client = as_user(cast.agent)
    missing = client.post(f"/staff/mail/{waiting.pk}/handle/", {"as_reply": "on"}, follow=True)
    assert "作为投诉人来信归入时必须填写" in missing.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == "failed"
    done = client.post(
        f"/staff/mail/{waiting.pk}/handle/",
        {"tracking_no": first.tracking_no, "as_reply": "on", "note": "已电话核实"},
        follow=True,
    )
    assert first.tracking_no in done.content.decode()
    waiting.refresh_from_db()
    assert (waiting.status, waiting.complaint, waiting.handled_by) == ("reply", first, cast.agent)
    assert "核实" in waiting.error  # why it waited stays on the mail
    note = ComplaintMessage.objects.get(complaint=first, internal=True, body__contains="工作人员核实")
    assert "li.si@example.com" in note.body
    [message] = ComplaintMessage.objects.filter(complaint=first, author_kind="consumer")
    assert message.body == "我撤回投诉，不需要任何赔偿了。" and message.internal is False
    [contact] = Contact.objects.filter(complaint=first)
    assert (contact.direction, contact.party, contact.channel) == ("inbound", "consumer", "email")
    assert contact.evidence.sha256 == waiting.raw_sha256, (contact.evidence.sha256, waiting.raw_sha256)
    assert contact.recorded_via == Actor.staff(cast.agent).label  # recorded by the agent who confirmed it
    event = LedgerEvent.objects.filter(complaint=first, action="add_note").last()
    assert event.actor == f"staff:{cast.agent.pk}"
    assert verify().ok


def test_an_agent_cannot_file_a_mail_on_a_case_that_takes_no_mail(cast):
    first = receive(mail(text="空调外机噪音很大，影响休息。", sender="li.si@example.com")).complaint
    waiting = receive(mail(text="还是很响。", subject=f"Re: {first.tracking_no}"))
    Complaint.objects.filter(pk=first.pk).update(status="archived")
    page = as_user(cast.agent).post(
        f"/staff/mail/{waiting.pk}/handle/", {"tracking_no": first.tracking_no, "as_reply": "on"}, follow=True
    )
    assert "不能归入来信" in page.content.decode()
    waiting.refresh_from_db()
    assert (waiting.status, waiting.handled_by) == ("failed", None)  # nothing half done
    assert not ComplaintMessage.objects.filter(complaint=first, author_kind="consumer").exists()


def test_a_reply_carrying_our_token_from_another_address_is_not_the_complainants(cast):
    from core import mailref

    first = receive(mail(text="空调外机噪音很大，影响休息。", sender="li.si@example.com")).complaint
    forwarded = receive(
        mail(
            text="转发给你看看，我家的空调也这样。",
            sender="friend@example.com",
            In_Reply_To=mailref.message_id(first.tracking_no, "li.si@example.com"),
        )
    )
    assert forwarded.complaint != first and forwarded.status == "parsed"
    assert not ComplaintMessage.objects.filter(complaint=first, author_kind="consumer").exists()


def test_a_body_over_the_limit_is_cut_and_the_cut_noted(cast):
    inbound = receive(mail(text="很长的投诉。" * 3000))
    assert len(inbound.complaint.description) == 10_000
    assert "截断" in inbound.error


def test_raw_8bit_headers_without_encoding_are_read(cast):
    raw = "From: 王五 <wang.wu@example.com>\r\nSubject: 快递丢件\r\n\r\n快递显示已签收，但我没有收到包裹。\r\n".encode(
        "gbk"
    )
    inbound = receive(raw)
    assert inbound.complaint.title == "快递丢件" and inbound.complaint.complainant_name == "王五"


def test_something_that_is_not_a_mail_fails(cast):
    inbound = receive(b"just some bytes, no headers at all")
    assert inbound.status == "failed" and inbound.from_address == ""
    assert receive(b"\r\n\r\n").status == "failed"


def test_a_reply_to_an_archived_case_waits_for_an_agent(cast):
    first = receive(mail(text="空调外机噪音很大，影响休息。", sender="li.si@example.com")).complaint
    Complaint.objects.filter(pk=first.pk).update(status="archived")
    from core import mailref

    reply = receive(
        mail(
            text="还是很响。",
            subject=f"Re: {first.tracking_no}",
            In_Reply_To=mailref.message_id(first.tracking_no, "li.si@example.com"),
        )
    )
    assert reply.status == "failed" and first.tracking_no in reply.error and "状态" in reply.error


# --- the staff page for mail that needs an agent ---------------------------------------------------


def failed_mail() -> InboundMail:
    inbound = receive(mail(text="", subject="只有主题没有正文", sender="Wang Wu <wang.wu@example.com>"))
    assert inbound.status == "failed"
    return inbound


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_only_the_desk_of_the_default_department_sees_pending_mail(cast):
    inbound = failed_mail()
    assert Client().get("/staff/mail/").status_code == 302  # to the login page
    for outsider in (cast.outsider, cast.analyst, cast.quality_supervisor, cast.admin):
        assert as_user(outsider).get("/staff/mail/").status_code == 403
        assert as_user(outsider).get(f"/staff/mail/{inbound.pk}/raw/").status_code == 403
    for member in (cast.agent, cast.supervisor):
        page = as_user(member).get("/staff/mail/")
        assert page.status_code == 200 and "只有主题没有正文" in page.content.decode()
    detail = as_user(cast.agent).get(f"/staff/mail/{inbound.pk}/")
    assert detail.status_code == 200 and "没有正文" in detail.content.decode()


def test_the_registration_form_comes_filled_in_from_the_mail(cast):
    inbound = receive(mail(text="太短", subject="洗碗机漏水", sender="Wang Wu <wang.wu@example.com>"))
    assert inbound.status == "failed" and "过短" in inbound.error
    page = as_user(cast.agent).get(f"/staff/mail/{inbound.pk}/register/").content.decode()
    assert 'value="wang.wu@example.com"' in page and "洗碗机漏水" in page and "太短" in page
    assert 'action="/staff/register/"' in page


def test_an_agent_marks_a_mail_handled_and_links_the_case_it_became(cast):
    from complaints import actions
    from complaints.intake import IntakeData, check_intake
    from complaints.ledgering import Actor
    from conftest import complaint_body

    inbound = failed_mail()
    case, _code = actions.submit(
        check_intake(IntakeData(**complaint_body(channel="email")), staff=True), actor=Actor.staff(cast.agent)
    )
    client = as_user(cast.agent)
    unknown = client.post(f"/staff/mail/{inbound.pk}/handle/", {"tracking_no": "TS20000101-000001"}, follow=True)
    assert "找不到您可处理的投诉" in unknown.content.decode()
    inbound.refresh_from_db()
    assert inbound.status == "failed"
    done = client.post(f"/staff/mail/{inbound.pk}/handle/", {"tracking_no": case.tracking_no, "note": "已电话联系登记"})
    assert done.status_code == 302
    inbound.refresh_from_db()
    assert (inbound.status, inbound.complaint, inbound.handled_by) == ("handled", case, cast.agent)
    assert inbound.handled_note == "已电话联系登记"
    kept = Evidence.objects.get(complaint=case, kind="communication")
    assert kept.sha256 == inbound.raw_sha256 and kept.added_by_user == cast.agent
    again = client.post(f"/staff/mail/{inbound.pk}/handle/", {"note": "again"}, follow=True)
    assert "已处理" in again.content.decode()
    assert "只有主题没有正文" not in client.get("/staff/mail/").content.decode()


def test_a_mail_of_a_case_the_user_cannot_see_stays_hidden(cast, org):
    inbound = receive(mail(text="空调外机噪音很大，影响休息。"))
    Complaint.objects.filter(pk=inbound.complaint_id).update(department=org.logistics)
    assert as_user(cast.agent).get(f"/staff/mail/{inbound.pk}/").status_code == 404
    assert as_user(cast.agent).get(f"/staff/mail/{inbound.pk}/raw/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_receipt_is_marked_automatic_and_a_reply_by_in_reply_to_alone_finds_the_case(cast, listener, smtp_server):
    send(listener, gb2312_mail("购买的电热水壶使用三天后漏电，要求退款并赔偿。"))
    receipt = smtp_server.messages[0]
    tracking_no = tracking_no_in(receipt)
    assert receipt["Auto-Submitted"] == "auto-replied" and receipt["X-ComplaintDesk-Tracking"] == tracking_no
    assert tracking_no in receipt["Message-ID"]
    # A mail program that rewrote the subject still sends In-Reply-To.
    reply = mail(
        text="我想补充一下购买渠道：线上旗舰店。",
        subject="补充材料",
        sender="张三 <zhang.san@example.com>",
        In_Reply_To=receipt["Message-ID"],
    )
    send(listener, reply)
    complaint = Complaint.objects.get()
    assert complaint.tracking_no == tracking_no
    assert ComplaintMessage.objects.filter(complaint=complaint, author_kind="consumer").count() == 1
