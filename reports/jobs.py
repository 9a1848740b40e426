"""The periodic job: on the first working day after a month or quarter, each subscriber gets that
period's report by mail, once (SentReport records it; a missed day is caught up later). Periods that
ended before the subscription was made are not sent.

Per subscription: the SentReport row is taken and committed first (a second worker running the job
at the same time hits the unique constraint and skips), then the report is rendered and mailed
outside any transaction. If rendering or mailing fails, the row is removed again and the failure
logged, so that this subscription is tried next run and the others still get theirs; a crash between
the commit and the mail loses that one mail rather than sending it twice. At most
COMPLAINTDESK_REPORTS_SENDS_PER_RUN reports are rendered per run (the scheduler loop runs every job
in turn); the rest follow in the next runs, oldest subscription first."""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.calendar import is_working_day

from . import documents
from .access import may_read_reports
from .figures import Scope
from .inputs import Period, local_midnight, period_of
from .models import ReportSubscription, SentReport

log = logging.getLogger(__name__)


def first_working_day(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _claim(subscription: ReportSubscription, period: Period) -> SentReport | None:
    """The period's SentReport row for this subscription, or None when another run has it."""
    try:
        with transaction.atomic():
            return SentReport.objects.create(subscription=subscription, period=period.label)
    except IntegrityError:
        return None


def _mail(subscription: ReportSubscription, period: Period) -> None:
    scope = Scope(user=subscription.user, org_unit=subscription.org_unit, department=subscription.department)
    filename, content_type, content = documents.render(scope, period, subscription.format, subscription.language)
    with translation.override(subscription.language):
        message = EmailMessage(
            subject=documents.title(period),
            body=_("您订阅的投诉分析报告见附件。如不再需要，请在“报告”页面取消订阅。"),
            to=[subscription.user.email],
        )
    message.attach(filename, content, content_type)
    message.send()


def send_due_reports() -> int:
    today = timezone.localdate()
    limit = settings.COMPLAINTDESK_REPORTS_SENDS_PER_RUN
    sent = attempted = 0
    subscriptions = (
        ReportSubscription.objects.filter(active=True, user__is_active=True)
        .select_related("user", "org_unit", "department")
        .order_by("pk")
    )
    for subscription in subscriptions:
        if attempted >= limit:
            break
        period = period_of(subscription.kind, today).previous()
        if today < first_working_day(period.end) or not subscription.user.email:
            continue
        if subscription.created_at >= local_midnight(period.end):
            continue  # subscribed after the period: the first report is the next one
        if SentReport.objects.filter(subscription=subscription, period=period.label).exists():
            continue
        if not may_read_reports(subscription.user):
            continue  # the role was taken away: no more reports (they resume if it is given back)
        claim = _claim(subscription, period)
        if claim is None:
            continue  # another worker has it
        attempted += 1
        try:
            _mail(subscription, period)
        except Exception:  # one subscriber's failure must not hold up the others
            log.exception("report %s for subscription %s not sent", period.label, subscription.pk)
            SentReport.objects.filter(pk=claim.pk).delete()  # tried again next run
            continue
        sent += 1
    return sent


JOBS = [("reports_send_due", send_due_reports)]
