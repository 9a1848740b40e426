"""Mail to the consumer that carries a secret (the access code, a one-time code).

Sent from the request right after commit, not through a task: secrets never go into task arguments
or the task table. A failed send is logged and never undoes or blocks the complaint."""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from complaints.models import Complaint
from core import mailref

log = logging.getLogger("complaintdesk.mail")


def _send(to: str, subject: str, body: str, tracking_no: str = "") -> None:
    # Marked as automatic (RFC 3834), so that auto-responders do not answer it, and carrying the
    # tracking number in a header that mail intake reads, so that a reply finds its case.
    headers = {"Auto-Submitted": "auto-replied"}
    if tracking_no:
        headers["X-ComplaintDesk-Tracking"] = tracking_no
        # Mail programs copy the Message-ID into a reply's In-Reply-To, where intake finds the number.
        headers["Message-ID"] = mailref.message_id(tracking_no, to)
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to], headers=headers).send(fail_silently=False)
    except Exception:  # the case stands whatever the mail server does
        log.exception("mail to the complainant failed")


@sensitive_variables("access_code", "body")
def send_receipt_after_commit(complaint: Complaint, access_code: str) -> None:
    if not complaint.complainant_email:
        return
    subject = _("投诉已收到：%(no)s") % {"no": complaint.tracking_no}
    body = _(
        "您好，我们已收到您的投诉。\n\n投诉编号：%(no)s\n查询码：%(code)s\n\n"
        "请凭投诉编号和查询码查询进度。我们会在 24 小时内告知是否受理。"
    ) % {"no": complaint.tracking_no, "code": access_code}
    to, tracking_no = complaint.complainant_email, complaint.tracking_no
    transaction.on_commit(lambda: _send(to, subject, body, tracking_no))


@sensitive_variables("code", "body")
def send_recovery_code(complaint: Complaint, code: str) -> None:
    subject = _("查询码找回：%(no)s") % {"no": complaint.tracking_no}
    body = _("您的一次性验证码是 %(code)s，15 分钟内有效。如非本人操作，请忽略此邮件。") % {"code": code}
    _send(complaint.complainant_email, subject, body, complaint.tracking_no)
