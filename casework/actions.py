"""Casework writes: contacts (沟通记录) and written replies (反馈). Each runs through
complaints.actions._run: the case row is locked, its state and the actor's role are checked
(transitions.FROM_STATES, permissions.staff_may), and one event is appended to the case's ledger
chain — facts in clear, what people said encrypted with the complainant's key. The reply mail goes
out after commit; a failed mail is recorded on the Reply and never undoes it."""

from datetime import datetime, timedelta
from typing import Any, BinaryIO

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.actions import _lock, _run, check_may, check_version
from complaints.choices import PreferredContact
from complaints.ledgering import Actor
from complaints.models import Complaint
from core.errors import ValidationError
from core.validation import CONTROL
from evidence.choices import EvidenceKind, Via
from evidence.models import Evidence

from .choices import ContactChannel, Delivery, Direction, Party, ThirdPartyKind
from .models import Contact, Reply, ReplyTemplate

SUMMARY_MAX = 5000
REPLY_MAX = 20_000
DURATION_MAX = 24 * 3600
# Clocks of phones and PCs drift: a contact a minute "in the future" is still now.
_FUTURE_SLACK = timedelta(minutes=2)
# A contact may come just before the case was registered (the call that registered it).
_BEFORE_RECEIPT = timedelta(days=1)


def _text(value: str | None, field: str, maximum: int, minimum: int = 0) -> str:
    text = (value or "").strip()
    if CONTROL.search(text):
        raise ValidationError(field, _("含有不允许的控制字符。"))
    if len(text) < minimum:
        raise ValidationError(field, _("必填，至少 %(n)d 个字。") % {"n": minimum})
    if len(text) > maximum:
        raise ValidationError(field, _("内容过长（最多 %(n)d 字）。") % {"n": maximum})
    return text


def _choice(value: str | None, field: str, choices: Any) -> str:
    if value not in choices.values:
        offered = "、".join(f"{code}（{label}）" for code, label in choices.choices)
        raise ValidationError(field, _("取值无效，可选：%(values)s。") % {"values": offered})
    return str(value)


def check_contact(
    complaint: Complaint,
    *,
    direction: str,
    party: str,
    channel: str,
    occurred_at: datetime | None,
    summary: str,
    third_party_kind: str = "",
    third_party_name: str = "",
    duration_seconds: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Validate a contact before anything is locked or stored; returns the cleaned fields."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name, value, choices in (
        ("direction", direction, Direction),
        ("party", party, Party),
        ("channel", channel, ContactChannel),
    ):
        try:
            cleaned[name] = _choice(value, name, choices)
        except ValidationError as exc:
            errors.update(exc.errors)
    cleaned["third_party_kind"], cleaned["third_party_name"] = "", ""
    if party == Party.THIRD_PARTY:
        try:
            cleaned["third_party_kind"] = _choice(third_party_kind, "third_party_kind", ThirdPartyKind)
        except ValidationError as exc:
            errors.update(exc.errors)
        try:
            cleaned["third_party_name"] = _text(third_party_name, "third_party_name", 100, minimum=2)
        except ValidationError as exc:
            errors.update(exc.errors)
    if occurred_at is None:
        errors["occurred_at"] = _("请填写沟通时间。")
    else:
        if timezone.is_naive(occurred_at):
            occurred_at = timezone.make_aware(occurred_at, timezone.get_default_timezone())
        if occurred_at > now + _FUTURE_SLACK:
            errors["occurred_at"] = _("沟通时间不能晚于当前时间。")
        elif occurred_at < complaint.received_at - _BEFORE_RECEIPT:
            errors["occurred_at"] = _("沟通时间不能早于投诉登记时间。")
        cleaned["occurred_at"] = occurred_at
    if duration_seconds is not None and not (0 <= duration_seconds <= DURATION_MAX):
        errors["duration_seconds"] = _("时长应在 0 到 24 小时之间。")
    cleaned["duration_seconds"] = duration_seconds
    try:
        cleaned["summary"] = _text(summary, "summary", SUMMARY_MAX, minimum=2)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    return cleaned


def add_contact(
    complaint: Complaint,
    *,
    actor: Actor,
    direction: str,
    party: str,
    channel: str,
    occurred_at: datetime | None,
    summary: str,
    third_party_kind: str = "",
    third_party_name: str = "",
    duration_seconds: int | None = None,
    file: bytes | BinaryIO | File | None = None,
    filename: str = "",
    evidence: Evidence | None = None,
    via: str = Via.STAFF,
    expected_version: int | None = None,
) -> Contact:
    """Log a contact. A recording or message uploaded with it (`file`) is stored as communication
    evidence first (its own ledger event) and linked; or link an item of the case (`evidence`)."""
    cleaned = check_contact(
        complaint,
        direction=direction,
        party=party,
        channel=channel,
        occurred_at=occurred_at,
        summary=summary,
        third_party_kind=third_party_kind,
        third_party_name=third_party_name,
        duration_seconds=duration_seconds,
    )
    check_may(complaint, actor, "add_contact")  # before a file is stored
    created: list[Contact] = []
    with transaction.atomic():
        if file is not None:
            check_version(_lock(complaint.pk), expected_version)
            expected_version = None  # the evidence event moves the version; the row stays locked
            from evidence.actions import add_evidence

            evidence = add_evidence(
                complaint,
                content=file,
                filename=filename or "contact",
                kind=EvidenceKind.COMMUNICATION,
                actor=actor,
                via=via,
                description=_("沟通记录附件"),
            )

        def change(c: Complaint, now: datetime) -> dict[str, Any]:
            if evidence is not None and evidence.complaint_id != c.pk:
                raise ValidationError("evidence_id", _("该证据不属于此投诉。"))
            contact = Contact.objects.create(
                complaint=c,
                evidence=evidence,
                recorded_by=actor.user if actor.kind == "staff" else None,
                recorded_via=actor.label[:40],
                created_at=now,
                **cleaned,
            )
            created.append(contact)
            data = {
                "contact_id": contact.pk,
                "direction": contact.direction,
                "party": contact.party,
                "third_party_kind": contact.third_party_kind,
                "channel": contact.channel,
                "occurred_at": contact.occurred_at.isoformat(),
                "duration_seconds": contact.duration_seconds,
                "evidence_id": evidence.pk if evidence is not None else None,
            }
            # A third party's name may be a person's: private, like the summary.
            return {"_data": data, "note": contact.summary, "third_party_name": contact.third_party_name}

        _run(complaint, actor, "add_contact", change, expected_version=expected_version)
    return created[0]


def check_reply(text: str, template: ReplyTemplate | None = None) -> str:
    text = _text(text, "text", REPLY_MAX, minimum=4)
    if template is not None and not template.active:
        raise ValidationError("template", _("该模板已停用。"))
    return text


def why_not_mailed(c: Complaint) -> str:
    if c.is_demo:
        return _("演示数据，不发邮件。")
    if not c.complainant_email:
        return _("投诉人未留电子邮箱。")
    if c.preferred_contact == PreferredContact.NONE:
        return _("投诉人选择不需联系。")
    return ""


def do_send_reply(c: Complaint, *, actor: Actor, text: str, template: ReplyTemplate | None, now: datetime) -> Reply:
    """The reply inside an action that holds the case lock (send_reply, and close with a reply)."""
    not_mailed = why_not_mailed(c)
    reply = Reply.objects.create(
        complaint=c,
        text=text,
        template=template,
        sent_by=actor.user if actor.kind == "staff" else None,
        sent_at=now,
        delivery=Delivery.NOT_MAILED if not_mailed else Delivery.PENDING,
        delivery_note=not_mailed,
    )
    c.reply_text = text  # shown on the consumer's status page
    if not not_mailed:
        _mail_after_commit(reply.pk)
    return reply


def _mail_after_commit(reply_id: int) -> None:
    from complaints.actions import enqueue_after_commit

    from .tasks import mail_reply

    enqueue_after_commit(mail_reply, reply_id)


def send_reply(
    complaint: Complaint,
    *,
    actor: Actor,
    text: str,
    template: ReplyTemplate | None = None,
    expected_version: int | None = None,
) -> Reply:
    """A written reply to the consumer (usually a template, edited): on the status page at once, and
    mailed after commit to the complainant's e-mail if there is one."""
    text = check_reply(text, template)
    sent: list[Reply] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        reply = do_send_reply(c, actor=actor, text=text, template=template, now=now)
        sent.append(reply)
        data = {
            "reply_id": reply.pk,
            "template_id": template.pk if template is not None else None,
            "delivery": reply.delivery,
        }
        return {"_data": data, "note": text}

    _run(complaint, actor, "send_reply", change, expected_version=expected_version)
    return sent[0]
