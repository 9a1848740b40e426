"""The reply mail, sent by the worker after commit. The task carries the reply's id only; the text is
read from the database. A failed send is recorded on the Reply (delivery `failed`) and never retried
blindly: the agent sees it on the case page and may reach the consumer another way."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from core import mailref

log = logging.getLogger("complaintdesk.mail")


@task()
def mail_reply(reply_id: int) -> str:
    from .choices import Delivery
    from .models import Reply

    # Claim the reply first: of two workers running the same task, one mails and the other finds nothing.
    if not Reply.objects.filter(pk=reply_id, delivery=Delivery.PENDING).update(delivery=Delivery.SENDING):
        return "gone"  # sent (or being sent) already, or rolled back
    reply = Reply.objects.select_related("complaint").get(pk=reply_id)
    c = reply.complaint
    if not c.complainant_email:
        Reply.objects.filter(pk=reply.pk).update(delivery=Delivery.NOT_MAILED, delivery_note=_("投诉人未留电子邮箱。"))
        return Delivery.NOT_MAILED
    with translation.override(c.language if c.language in ("zh-hans", "en") else "zh-hans"):
        subject = _("关于您的投诉 %(no)s 的书面答复") % {"no": c.tracking_no}
        footer = _("您也可以凭投诉编号和查询码在投诉查询页面查看本答复和处理进度。")
    headers = {
        # A reply to this mail carries the tracking number back (In-Reply-To), so intake files it on the case.
        "X-ComplaintDesk-Tracking": c.tracking_no,
        "Message-ID": mailref.message_id(c.tracking_no, c.complainant_email),
    }
    body = f"{reply.text}\n\n--\n{footer}\n"
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [c.complainant_email], headers=headers).send(
            fail_silently=False
        )
    except Exception as exc:  # the reply stands whatever the mail server does
        log.warning("reply %s: mail failed: %s", reply.pk, type(exc).__name__)
        Reply.objects.filter(pk=reply.pk).update(
            delivery=Delivery.FAILED, delivery_note=f"{type(exc).__name__}: {exc}"[:300]
        )
        return Delivery.FAILED
    Reply.objects.filter(pk=reply.pk).update(delivery=Delivery.SENT, delivered_at=timezone.now(), delivery_note="")
    return Delivery.SENT
