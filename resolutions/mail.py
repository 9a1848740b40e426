"""The mail that tells the consumer an offer was made: what it says, until when, and where to answer.
It carries a link to the status page and never the access code (the consumer has it from the
receipt, or recovers it by mail)."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints.models import Complaint

from .models import Offer


def status_page_url() -> str:
    base = getattr(settings, "COMPLAINTDESK_PUBLIC_URL", "http://localhost:8000").rstrip("/")
    return base + reverse("intake:status")


def format_amount(amount, currency: str) -> str:  # type: ignore[no-untyped-def]
    return f"{amount:,.2f} {currency}"


def send_offer(complaint_id: int, offer_id: int) -> None:
    from intake.mail import _send

    complaint = Complaint.objects.filter(pk=complaint_id).first()
    offer = Offer.objects.filter(pk=offer_id, complaint_id=complaint_id).first()
    if complaint is None or offer is None:
        return
    from casework.actions import why_not_mailed

    if why_not_mailed(complaint):  # no address, "do not contact me", or demo data
        return
    with translation.override("en" if complaint.language == "en" else "zh-hans"):
        subject = _("投诉 %(no)s 的处理方案") % {"no": complaint.tracking_no}
        lines = [
            _("您好，我们就您的投诉（编号 %(no)s）提出了以下处理方案：") % {"no": complaint.tracking_no},
            "",
            offer.text,
            "",
        ]
        if offer.amount is not None:
            lines.append(_("金额：%(amount)s") % {"amount": format_amount(offer.amount, offer.currency)})
        if offer.expires_at is not None:
            until = timezone.localtime(offer.expires_at).strftime("%Y-%m-%d %H:%M")
            lines.append(_("有效期至：%(at)s") % {"at": until})
        lines += [
            "",
            _(
                "请在有效期内打开投诉进度页面，输入投诉编号和查询码后答复：接受方案、不接受（请说明理由）或提出您的方案。"
            ),
            status_page_url(),
            "",
            _("为保护您的信息，本邮件不包含查询码。如查询码遗失，可在该页面通过电子邮箱找回。"),
        ]
        _send(complaint.complainant_email, subject, "\n".join(lines), complaint.tracking_no)
