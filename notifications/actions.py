"""Staff writes: retry a message now."""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.errors import ValidationError

from .choices import DeliveryStatus
from .models import Delivery


def retryable(now: datetime) -> Q:
    """Failed, or queued and due. A queued row whose next attempt lies ahead is waiting for its retry
    or is being sent right now (an attempt's claim moves next_attempt_at forward by the lease):
    sending it again could deliver it twice."""
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return Q(status=DeliveryStatus.FAILED) | (Q(status=DeliveryStatus.QUEUED) & due)


def check_retry(delivery: Delivery, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if delivery.status == DeliveryStatus.FAILED:
        return
    if delivery.status == DeliveryStatus.QUEUED:
        if delivery.next_attempt_at is None or delivery.next_attempt_at <= now:
            return
        raise ValidationError(
            "delivery",
            _("该消息正在发送或已安排在 %(at)s 重试，请稍后再试。")
            % {"at": formats.date_format(timezone.localtime(delivery.next_attempt_at), "SHORT_DATETIME_FORMAT")},
        )
    raise ValidationError(
        "delivery", _("只能重试发送失败或待发送的消息（当前状态：%(s)s）。") % {"s": delivery.get_status_display()}
    )


def retry(delivery: Delivery, *, user) -> Delivery:  # type: ignore[no-untyped-def]
    """Send a failed (or due) message again now, with a fresh retry schedule. The caller has checked
    that the user may write the case.

    A compare-and-set UPDATE, not a check on a row read earlier: of two clicks, or a click and the
    retry job, only one finds the row retryable once an attempt has claimed it; the attempt itself
    claims the row the same way (notifications.sending._claim), so one message goes out once."""
    from complaints.actions import enqueue_after_commit

    from .tasks import send_delivery

    now = timezone.now()
    with transaction.atomic():
        taken = Delivery.objects.filter(retryable(now), pk=delivery.pk).update(
            status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=now, retried_by=user, retried_at=now
        )
        current = Delivery.objects.get(pk=delivery.pk)
        if not taken:
            check_retry(current, now)  # raises, naming the state that refused it
            raise ValidationError("delivery", _("该消息刚被其他人或任务处理，请刷新后再试。"))
        _record_resend(current, user)
        enqueue_after_commit(send_delivery, current.pk)
    return current


def _record_resend(delivery: Delivery, user) -> None:  # type: ignore[no-untyped-def]
    """The staff retry in the case's chain (issue 9: every write is an event): `resend_notification`,
    which changes nothing on the case (ledger.chain.NEUTRAL_PREFIXES), naming the message, not its text."""
    from complaints.ledgering import Actor, record, snapshot
    from complaints.models import Complaint

    complaint = Complaint.objects.select_for_update(of=("self",)).get(pk=delivery.complaint_id)
    record(
        complaint,
        action="resend_notification",
        actor=Actor.staff(user),
        before=snapshot(complaint),
        data={"delivery": delivery.pk, "event": delivery.event, "channel": delivery.channel},
    )
