"""The data of a person held by the apps no other app speaks for: the customer record, their
complaints (complainant fields, what they wrote, amounts, dates, states), the contact log with them
and the written replies (casework), the metadata of the evidence of their cases, and the mail they
sent to the intake channel (intake.InboundMail: metadata in the export, blanked at erasure).

Investigation findings are left out on purpose: they are the organisation's assessment of a case,
not data about the person (docs/privacy.md). The ledger's history of personal fields is not in the
export either: the current values are, and the history only repeats earlier versions of them."""

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from casework.models import Contact, Reply
from complaints.models import Complaint, ComplaintMessage
from complaints.selectors import _CONTACT_IN_TEXT
from customers.models import Customer
from customers.normalise import normalise_email
from evidence import store
from evidence.models import Evidence
from intake.models import InboundMail, InboundMailStatus

# The Customer fields that are the person's contact details (id_number once the customers app has it).
CUSTOMER_CONTACT_FIELDS = ("name", "phone", "email", "address", "id_number")

# The complaint fields exported, in this order (stable keys; docs/privacy.md lists them).
COMPLAINT_FIELDS = (
    "tracking_no",
    "channel",
    "received_at",
    "status",
    "anonymous",
    "complainant_name",
    "complainant_phone",
    "complainant_email",
    "complainant_address",
    "preferred_contact",
    "product_name",
    "product_sku",
    "product_model",
    "product_batch",
    "order_no",
    "purchase_date",
    "amount_paid",
    "title",
    "description",
    "occurred_at",
    "country",
    "province_code",
    "city_code",
    "district_code",
    "postal_code",
    "remedies_requested",
    "amount_claimed",
    "severity",
    "priority",
    "reject_reason",
    "appeal_reason",
    "proposal_text",
    "proposal_amount",
    "refusal_reason",
    "outcome",
    "outcome_note",
    "withdrawn_reason",
    "reply_text",
    "resolved_at",
    "closed_at",
    "archived_at",
)

# Free text of a case that is redacted (contact details and the person's name) at erasure.
COMPLAINT_FREE_TEXT = (
    "title",
    "description",
    "reject_reason",
    "appeal_reason",
    "proposal_text",
    "refusal_reason",
    "outcome_note",
    "withdrawn_reason",
    "reply_text",
)
# Fields blanked at erasure: the complainant's own details and what ties a case to their purchase.
COMPLAINT_BLANKED = ("complainant_name", "complainant_phone", "complainant_email", "complainant_address", "order_no")


def plain(value: Any) -> Any:
    """A JSON value: instants as ISO 8601, amounts as strings (exactly as stored), the rest as is."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def complaints_of(customer: Customer) -> QuerySet[Complaint]:
    return Complaint.objects.filter(customer=customer).select_related("category", "subcategory").order_by("id")


def customer_record(customer: Customer) -> dict[str, Any]:
    record: dict[str, Any] = {"id": customer.pk, "customer_no": customer.customer_no}
    for field in CUSTOMER_CONTACT_FIELDS:
        if field == "id_number" and not hasattr(customer, "id_number"):
            continue
        record[field] = getattr(customer, field)
    record["created_at"] = plain(customer.created_at)
    return record


def complaint_record(c: Complaint, messages: Iterable[ComplaintMessage]) -> dict[str, Any]:
    record = {field: plain(getattr(c, field)) for field in COMPLAINT_FIELDS}
    record["category"] = c.category.code if c.category_id else None
    record["subcategory"] = c.subcategory.code if c.subcategory_id else None
    # What the person added to the case and what was said to them; internal staff notes are the
    # organisation's working notes and stay out (docs/privacy.md).
    record["messages"] = [
        {"author": m.author_kind, "created_at": plain(m.created_at), "body": m.body}
        for m in messages
        if m.author_kind == ComplaintMessage.Author.CONSUMER or not m.internal
    ]
    return record


def mail_addresses(customer: Customer, cases: Iterable[Complaint]) -> set[str]:
    """Every e-mail address the person is known by: the customer record's and each case's."""
    found = {normalise_email(a) for a in (customer.email, *(c.complainant_email for c in cases)) if a}
    return {a for a in found if a}


def inbound_mail_of(customer: Customer, cases: Iterable[Complaint]) -> QuerySet[InboundMail]:
    """The mail received from the person: linked to one of their cases, or sent from one of their
    addresses (a mail that never became a case: failed, an auto-reply, handled by an agent)."""
    cases = list(cases)
    query = Q(complaint_id__in=[c.pk for c in cases])
    for address in mail_addresses(customer, cases):
        query |= Q(from_address__iexact=address) | Q(envelope_from__iexact=address)
    return InboundMail.objects.filter(query).select_related("complaint").order_by("received_at", "id")


def core_sections(customer: Customer) -> dict[str, Any]:
    """The sections the privacy app itself speaks for, in a fixed order."""
    cases = list(complaints_of(customer))
    ids = [c.pk for c in cases]
    by_case: dict[int, list[ComplaintMessage]] = {pk: [] for pk in ids}
    for message in ComplaintMessage.objects.filter(complaint_id__in=ids).order_by("created_at", "id"):
        by_case[message.complaint_id].append(message)
    numbers = {c.pk: c.tracking_no for c in cases}
    contacts = Contact.objects.filter(complaint_id__in=ids, party="consumer").order_by(
        "complaint_id", "occurred_at", "id"
    )
    replies = Reply.objects.filter(complaint_id__in=ids).order_by("complaint_id", "sent_at", "id")
    evidence = Evidence.objects.filter(complaint_id__in=ids).order_by("complaint_id", "created_at", "id")
    return {
        "customer": customer_record(customer),
        "complaints": [complaint_record(c, by_case[c.pk]) for c in cases],
        "contacts": [
            {
                "tracking_no": numbers[k.complaint_id],
                "occurred_at": plain(k.occurred_at),
                "direction": k.direction,
                "channel": k.channel,
                "duration_seconds": k.duration_seconds,
                "summary": k.summary,
            }
            for k in contacts
        ],
        "replies": [
            {"tracking_no": numbers[r.complaint_id], "sent_at": plain(r.sent_at), "text": r.text} for r in replies
        ],
        "evidence": [
            {
                "tracking_no": numbers[e.complaint_id],
                "filename": e.filename,
                "kind": e.kind,
                "content_type": e.content_type,
                "sha256": e.sha256,
                "size": e.size,
                "uploaded_at": plain(e.created_at),
                "file_deleted_at": plain(e.deleted_at),
            }
            for e in evidence
        ],
        # Metadata only, as for evidence: the raw message of a mail that became a case is that
        # case's evidence; its text is in the complaint or its messages above.
        "inbound_mail": [
            {
                "received_at": plain(m.received_at),
                "from": m.from_address,
                "subject": m.subject,
                "tracking_no": m.complaint.tracking_no if m.complaint_id else None,
                "status": m.status,
            }
            for m in inbound_mail_of(customer, cases)
        ],
    }


# --- erasure ------------------------------------------------------------------------------------


def redactor(names: Iterable[str]) -> "re.Pattern[str] | None":
    """A pattern for the person's names as written in free text (two characters or more: a single
    character would blank half of any Chinese text)."""
    usable = sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in usable)) if usable else None


def redact(text: str, names: "re.Pattern[str] | None") -> str:
    """Free text without the contact details (phone numbers, e-mail addresses) and names in it."""
    if not text:
        return text
    text = _CONTACT_IN_TEXT.sub("***", text)
    return names.sub("***", text) if names is not None else text


def erase_case_records(complaint: Complaint, names: "re.Pattern[str] | None") -> dict[str, int]:
    """Redact what is written about the person around one case: their messages, the contact log
    summaries, the written replies, evidence descriptions and file names (the files themselves
    follow evidence retention). Returns counts, for the request log."""
    counts = {"messages": 0, "contacts": 0, "replies": 0, "evidence": 0}
    for message in ComplaintMessage.objects.filter(complaint=complaint):
        body = redact(message.body, names)
        if body != message.body:
            message.body = body
            message.save(update_fields=["body"])
            counts["messages"] += 1
    for contact in Contact.objects.filter(complaint=complaint):
        summary = redact(contact.summary, names) or "***"
        if summary != contact.summary:
            contact.summary = summary
            contact.save(update_fields=["summary"])
            counts["contacts"] += 1
    for reply in Reply.objects.filter(complaint=complaint):
        text = redact(reply.text, names)
        if text != reply.text:
            reply.text = text
            reply.save(update_fields=["text"])
            counts["replies"] += 1
    for item in Evidence.objects.filter(complaint=complaint):
        description, filename = redact(item.description, names), redact(item.filename, names)
        if (description, filename) != (item.description, item.filename):
            item.description, item.filename = description, filename
            item.save(update_fields=["description", "filename"])
            counts["evidence"] += 1
    return counts


def erase_inbound_mail(
    mails: Iterable[InboundMail], names: "re.Pattern[str] | None", *, actor_user: Any, note: str | None = None
) -> int:
    """Blank what a received mail says about its sender: the addresses, subject and Message-ID,
    the parser's and the agent's notes redacted. A mail still waiting for an agent is closed as
    handled (there is nothing left to handle). The raw message: while a live evidence item of a
    case holds the same bytes, it is that evidence and follows evidence retention
    (COMPLAINTDESK_EVIDENCE_RETENTION_DAYS, a supervisor's delete_evidence); otherwise (a mail that
    never became a case, or whose evidence file retention already deleted) it is deleted after
    commit: erasure has already been refused where a legal hold or retention duty applies.
    `note` says why on a mail closed as handled (by default: at the person's request).
    Returns how many mails were erased."""
    from django.utils import timezone
    from django.utils.translation import gettext as _

    count = 0
    for mail in mails:
        fields = {
            "from_address": "",
            "envelope_from": "<>" if mail.envelope_from == "<>" else "",
            "subject": "",
            "message_id": "",
            "error": redact(mail.error, names),
            "handled_note": redact(mail.handled_note, names),
        }
        if mail.status in (InboundMailStatus.NEW, InboundMailStatus.FAILED):
            fields.update(
                status=InboundMailStatus.HANDLED,
                handled_by=actor_user,
                handled_at=timezone.now(),
                handled_note=note or _("发件人的个人信息已依请求删除。"),
            )
        InboundMail.objects.filter(pk=mail.pk).update(**fields)
        if not Evidence.objects.filter(sha256=mail.raw_sha256, deleted_at__isnull=True).exists():
            sha256 = mail.raw_sha256
            transaction.on_commit(lambda sha256=sha256: store.delete(sha256))
        count += 1
    return count


def blank_customer(customer: Customer) -> None:
    """The customer record without contact details; the row stays (cases refer to it)."""
    fields = [f for f in CUSTOMER_CONTACT_FIELDS if hasattr(customer, f)] + ["customer_no"]
    for field in fields:
        setattr(customer, field, "")
    customer.save(update_fields=fields)
