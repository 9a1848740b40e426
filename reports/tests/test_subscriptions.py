import io

import pytest
import time_machine
from pypdf import PdfReader

from reports.jobs import send_due_reports
from reports.models import ReportSubscription, SentReport

from .conftest import at, filed, logged_in


def _subscribe(user, **extra):  # type: ignore[no-untyped-def]
    user.email = f"{user.username}@example.com"
    user.save(update_fields=["email"])
    extra.setdefault("created_at", at(2026, 10, 15, 9))
    return ReportSubscription.objects.create(user=user, kind="monthly", **extra)


def test_monthly_report_is_mailed_on_the_first_working_day_once(cast, body, org, smtp_server):
    filed(body, at(2026, 10, 5, 10), org_unit=org.store_sz.pk)
    _subscribe(cast.manager)
    with time_machine.travel("2026-10-31 10:00 +0800", tick=False):  # October not over; September
        assert send_due_reports() == 0  # ended before the subscription
    with time_machine.travel("2026-11-01 10:00 +0800", tick=False):  # Sunday
        assert send_due_reports() == 0
    with time_machine.travel("2026-11-02 10:00 +0800", tick=False):  # Monday
        assert send_due_reports() == 1
        assert send_due_reports() == 0
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "manager@example.com"
    assert "2026-10 月度投诉分析报告" in message["Subject"]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "report-2026-10.pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(attachment.get_content())).pages)
    assert "本期共收到投诉 1 件" in text
    assert SentReport.objects.get().period == "2026-10"


def test_a_missed_day_is_caught_up_and_excel_can_be_chosen(cast, body, org, smtp_server):
    _subscribe(cast.analyst, format="xlsx", language="en")
    with time_machine.travel("2026-11-05 10:00 +0800", tick=False):
        assert send_due_reports() == 1
    (attachment,) = list(smtp_server.messages[0].iter_attachments())
    assert attachment.get_filename() == "report-2026-10.xlsx"


def test_a_new_subscriber_gets_the_next_period_not_the_last_one(cast, smtp_server, org):
    _subscribe(cast.manager, created_at=at(2026, 11, 3, 9))
    with time_machine.travel("2026-11-04 10:00 +0800", tick=False):
        assert send_due_reports() == 0
    with time_machine.travel("2026-12-01 10:00 +0800", tick=False):
        assert send_due_reports() == 1
    assert "2026-11" in smtp_server.messages[0]["Subject"]


def test_cancelled_subscriptions_get_no_mail(cast, smtp_server, org):
    subscription = _subscribe(cast.auditor)
    client = logged_in(cast.auditor)
    assert client.post(f"/staff/reports/subscriptions/{subscription.pk}/cancel/").status_code == 302
    with time_machine.travel("2026-11-02 10:00 +0800", tick=False):
        assert send_due_reports() == 0
    assert smtp_server.messages == []


def test_subscribing_from_the_page_by_role(client, cast, org):
    assert client.post("/staff/reports/subscriptions/", {"kind": "monthly"}).status_code == 302
    assert logged_in(cast.agent).post("/staff/reports/subscriptions/", {"kind": "monthly"}).status_code == 403
    supervisor = logged_in(cast.supervisor)
    assert supervisor.post("/staff/reports/subscriptions/", {"kind": "fortnightly"}).status_code == 400
    assert supervisor.post("/staff/reports/subscriptions/", {"kind": "quarterly", "format": "xlsx"}).status_code == 302
    assert list(ReportSubscription.objects.values_list("user__username", "kind", "format")) == [
        ("supervisor", "quarterly", "xlsx")
    ]


def test_another_users_subscription_cannot_be_cancelled(cast, org):
    subscription = _subscribe(cast.manager)
    logged_in(cast.auditor).post(f"/staff/reports/subscriptions/{subscription.pk}/cancel/")
    subscription.refresh_from_db()
    assert subscription.active


class _Bouncing:
    """An SMTP server that refuses one address (a full mailbox) and accepts the others."""

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self.messages: list = []  # type: ignore[type-arg]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address == self.refused:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        import email
        from email import policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def bouncing_smtp(settings):  # type: ignore[no-untyped-def]
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = _Bouncing("manager@example.com")
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


def test_a_refused_mail_does_not_hold_up_later_subscribers_and_is_tried_again(cast, org, bouncing_smtp, caplog):
    first = _subscribe(cast.manager)  # its mailbox refuses the mail
    _subscribe(cast.auditor)
    with time_machine.travel("2026-11-02 10:00 +0800", tick=False):
        assert send_due_reports() == 1
    assert [m["To"] for m in bouncing_smtp.messages] == ["auditor@example.com"]
    assert "not sent" in caplog.text
    # Not recorded as sent: the next run tries again (and the auditor gets no second copy).
    assert not SentReport.objects.filter(subscription=first).exists()
    bouncing_smtp.refused = "nobody@example.com"
    with time_machine.travel("2026-11-02 11:00 +0800", tick=False):
        assert send_due_reports() == 1
    assert [m["To"] for m in bouncing_smtp.messages] == ["auditor@example.com", "manager@example.com"]


def test_at_most_the_configured_number_of_reports_per_run_oldest_subscription_first(cast, org, smtp_server, settings):
    settings.COMPLAINTDESK_REPORTS_SENDS_PER_RUN = 1
    later = _subscribe(cast.auditor)
    earlier = _subscribe(cast.analyst)
    ReportSubscription.objects.filter(pk=earlier.pk).update(id=later.pk - 1)  # the lower id
    with time_machine.travel("2026-11-02 10:00 +0800", tick=False):
        assert send_due_reports() == 1
        assert [m["To"] for m in smtp_server.messages] == ["analyst@example.com"]
        assert send_due_reports() == 1
        assert send_due_reports() == 0
    assert [m["To"] for m in smtp_server.messages] == ["analyst@example.com", "auditor@example.com"]


def test_a_subscriber_who_lost_the_report_role_gets_no_more_reports(cast, org, smtp_server):
    from accounts.models import Membership

    _subscribe(cast.manager)
    Membership.objects.filter(user=cast.manager).delete()
    with time_machine.travel("2026-11-02 10:00 +0800", tick=False):
        assert send_due_reports() == 0
    assert smtp_server.messages == [] and not SentReport.objects.exists()


def test_a_report_already_taken_by_another_worker_is_not_sent_again(cast, org, smtp_server):
    subscription = _subscribe(cast.auditor)
    SentReport.objects.create(subscription=subscription, period="2026-10")
    with time_machine.travel("2026-11-02 10:00 +0800", tick=False):
        assert send_due_reports() == 0
    assert smtp_server.messages == []


def test_subscribing_twice_keeps_one_subscription_and_says_so(cast, org):
    client = logged_in(cast.supervisor)
    order = {"kind": "monthly", "format": "pdf", "language": "zh-hans"}
    assert client.post("/staff/reports/subscriptions/", order).status_code == 302
    page = client.post("/staff/reports/subscriptions/", order, follow=True)
    assert page.status_code == 200
    assert "您已订阅过相同的报告" in page.content.decode()
    assert ReportSubscription.objects.filter(user=cast.supervisor, active=True).count() == 1
    # Another scope or format is another subscription; a cancelled one can be taken out again.
    assert client.post("/staff/reports/subscriptions/", {**order, "department": "service"}).status_code == 302
    assert ReportSubscription.objects.filter(user=cast.supervisor, active=True).count() == 2
    first = ReportSubscription.objects.filter(user=cast.supervisor, department=None).get()
    client.post(f"/staff/reports/subscriptions/{first.pk}/cancel/")
    client.post("/staff/reports/subscriptions/", order)
    assert ReportSubscription.objects.filter(user=cast.supervisor, department=None, active=True).count() == 1
