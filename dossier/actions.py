"""Writes of this app. Each runs through complaints.actions._run (lock, state and role check, change,
one ledger event) or, for the system's crisis escalation, complaints.actions._system_event (as the
SLA events do). Opening and closing an external proceeding are complaints.actions.route_external and
record_external_outcome (see dossier.proceedings)."""

from datetime import date, datetime, timedelta
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from complaints.actions import _lock, _notify, _run, _system_event, check_may, check_version
from complaints.choices import OPEN_STATES, EscalationLevel
from complaints.ledgering import Actor, record, snapshot
from complaints.models import Complaint
from core.errors import ValidationError
from evidence.choices import EvidenceKind, Via

from . import crisis
from .choices import DocumentDirection
from .models import CrisisChecklist, ExternalDocument, ExternalProceeding, MediaContact


def _text(value: str | None, field: str, maximum: int, minimum: int = 0) -> str:
    text = (value or "").strip()
    if len(text) < minimum:
        raise ValidationError(field, _("必填，至少 %(n)d 个字。") % {"n": minimum})
    if len(text) > maximum:
        raise ValidationError(field, _("内容过长（最多 %(n)d 字）。") % {"n": maximum})
    return text


# --- documents of an external procedure ----------------------------------------------------------


def check_document(direction: str, exchanged_on: date | None, description: str, kind: str) -> tuple[str, date, str]:
    errors: dict[str, str] = {}
    if direction not in DocumentDirection.values:
        errors["direction"] = _("请选择文书方向（我方发出或收到）。")
    if exchanged_on is None:
        errors["exchanged_on"] = _("请填写文书的发出或收到日期。")
    elif exchanged_on > timezone.localdate() + timedelta(days=1):
        errors["exchanged_on"] = _("日期不能晚于今天。")
    if kind not in EvidenceKind.values:
        errors["kind"] = _("未知的证据类型：%(kind)s") % {"kind": kind}
    try:
        description = _text(description, "description", 500, minimum=2)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    return direction, exchanged_on, description  # type: ignore[return-value]


def add_external_document(
    proceeding: ExternalProceeding,
    *,
    actor: Actor,
    direction: str,
    exchanged_on: date | None,
    description: str,
    content: bytes | BinaryIO | File,
    filename: str,
    kind: str = EvidenceKind.THIRD_PARTY_PROOF,
    expected_version: int | None = None,
) -> ExternalDocument:
    """A document sent or received in an external procedure: the file becomes an evidence item of the
    case (its own add_evidence event, content-addressed) and is linked to the proceeding by a second
    event, both in one transaction."""
    from evidence.actions import add_evidence, check_evidence

    direction, day, description = check_document(direction, exchanged_on, description, kind)
    complaint = proceeding.complaint
    check_may(complaint, actor, "add_external_document")  # before anything is stored
    check_evidence(content, filename, kind)
    created: list[ExternalDocument] = []
    with transaction.atomic():
        check_version(_lock(complaint.pk), expected_version)
        item = add_evidence(
            complaint,
            content=content,
            filename=filename,
            kind=kind,
            actor=actor,
            via=Via.STAFF,
            description=description,
            shown_to_consumer=False,
        )

        def change(c: Complaint, now: datetime) -> dict[str, Any]:
            p = ExternalProceeding.objects.filter(pk=proceeding.pk, complaint_id=c.pk).first()
            if p is None:
                raise ValidationError("proceeding", _("该外部程序不属于此投诉。"))
            document = ExternalDocument.objects.create(
                proceeding=p,
                evidence=item,
                direction=direction,
                exchanged_on=day,
                description=description,
                added_by=actor.user if actor.kind == "staff" else None,
                added_at=now,
            )
            created.append(document)
            facts = {
                "proceeding_id": p.pk,
                "document_id": document.pk,
                "evidence_id": item.pk,
                "sha256": item.sha256,
                "direction": direction,
                "exchanged_on": day.isoformat(),
            }
            return {"_data": facts, "note": description}

        _run(complaint, actor, "add_external_document", change)
    return created[0]


# --- the crisis checklist ------------------------------------------------------------------------


def _legal_team() -> list[User]:
    return list(User.objects.filter(is_active=True, memberships__role=Role.LEGAL_PR).distinct().order_by("pk"))


def escalate_to_crisis(complaint: Complaint, now: datetime | None = None) -> bool:
    """The system raises the case to level 3 and opens its crisis checklist (skipped if the case is no
    longer open or a checklist is already open once the row is locked); the legal/PR team is told
    in-app and the crisis team's mailbox after commit."""

    def change(c: Complaint, at: datetime) -> dict[str, Any] | None:
        if c.status not in OPEN_STATES or crisis.open_checklist(c) is not None:
            return None
        from_level = c.escalation_level
        c.escalation_level = EscalationLevel.CRISIS
        checklist = open_crisis_checklist(c, at)
        return {"checklist_id": checklist.pk, "from_level": from_level, "flags": checklist.flags}

    return _system_event(complaint, "crisis_escalation", change, now or timezone.now())


def open_crisis_checklist(c: Complaint, at: datetime) -> CrisisChecklist:
    """Inside the action that takes the locked case to level 3 (the system's crisis escalation, or a
    person's `escalate`): the checklist exists from that moment, so the case cannot be taken below
    level 3 before the worker has caught up. Legal/PR are told in-app, the crisis team by mail."""
    flags = crisis.crisis_flags(c)
    checklist = CrisisChecklist.objects.create(complaint=c, opened_at=at, flags=flags)
    _notify(
        _legal_team(),
        c,
        "crisis",
        _("投诉 %(no)s 已升级至 L3 危机处理，请完成危机处理清单。") % {"no": c.tracking_no},
    )
    crisis.mail_crisis_team_after_commit(
        c.tracking_no,
        flags,
        c.category.name if c.category_id else "",
        c.department.name if c.department_id else "",
    )
    return checklist


def _checklist(c: Complaint) -> CrisisChecklist:
    checklist = crisis.open_checklist(c)
    if checklist is None:  # the guard said so already; a race may still get here
        raise ValidationError("checklist", _("本投诉没有进行中的危机处理清单。"))
    return checklist


def _complete_if_done(checklist: CrisisChecklist, now: datetime) -> bool:
    if checklist.missing:
        return False
    checklist.completed_at = now
    checklist.save(update_fields=["completed_at"])
    return True


def _facts(checklist: CrisisChecklist, completed: bool, **extra: Any) -> dict[str, Any]:
    return {"checklist_id": checklist.pk, "completed": completed, **extra}


def verify_crisis_facts(
    complaint: Complaint, *, actor: Actor, note: str, expected_version: int | None = None
) -> CrisisChecklist:
    """The facts of the case are verified (what happened, what is known, what is not)."""
    note = _text(note, "note", 5000, minimum=4)
    result: list[CrisisChecklist] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        checklist = _checklist(c)
        checklist.facts_verified_by = actor.user
        checklist.facts_verified_at = now
        checklist.facts_note = note
        checklist.save(update_fields=["facts_verified_by", "facts_verified_at", "facts_note"])
        result.append(checklist)
        return {"_data": _facts(checklist, _complete_if_done(checklist, now)), "note": note}

    _run(complaint, actor, "verify_crisis_facts", change, expected_version=expected_version)
    return result[0]


def draft_crisis_statement(
    complaint: Complaint, *, actor: Actor, text: str, expected_version: int | None = None
) -> CrisisChecklist:
    """Draft (or redraft) the public statement; a new draft needs a new approval."""
    text = _text(text, "statement", 5000, minimum=10)
    result: list[CrisisChecklist] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        checklist = _checklist(c)
        redraft = checklist.statement_approved_at is not None
        checklist.statement_text = text
        checklist.statement_drafted_by = actor.user
        checklist.statement_drafted_at = now
        checklist.statement_approved_by = None
        checklist.statement_approved_at = None
        checklist.save(
            update_fields=[
                "statement_text",
                "statement_drafted_by",
                "statement_drafted_at",
                "statement_approved_by",
                "statement_approved_at",
            ]
        )
        result.append(checklist)
        return {"_data": _facts(checklist, False, approval_withdrawn=redraft), "note": text}

    _run(complaint, actor, "draft_crisis_statement", change, expected_version=expected_version)
    return result[0]


def approve_crisis_statement(
    complaint: Complaint, *, actor: Actor, note: str = "", expected_version: int | None = None
) -> CrisisChecklist:
    """Legal/PR approve the drafted statement; never the person who drafted it (four eyes)."""
    note = _text(note, "note", 2000)
    result: list[CrisisChecklist] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        checklist = _checklist(c)
        if not checklist.statement_text:
            raise ValidationError("statement", _("尚无待批准的对外声明，请先起草。"))
        if checklist.statement_approved_at is not None:
            raise ValidationError("statement", _("该声明已批准。"))
        if actor.kind == "staff" and checklist.statement_drafted_by_id == actor.user.pk:
            raise PermissionDenied(_("对外声明不能由起草人本人批准，请由另一位法务/公关人员批准。"))
        checklist.statement_approved_by = actor.user
        checklist.statement_approved_at = now
        checklist.save(update_fields=["statement_approved_by", "statement_approved_at"])
        result.append(checklist)
        return {"_data": _facts(checklist, _complete_if_done(checklist, now)), "note": note}

    _run(complaint, actor, "approve_crisis_statement", change, expected_version=expected_version)
    return result[0]


def check_media_contact(
    outlet: str, person: str, contacted_at: datetime | None, summary: str
) -> tuple[str, str, datetime, str]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, value, maximum, minimum in (
        ("outlet", outlet, 200, 2),
        ("person", person, 100, 0),
        ("summary", summary, 2000, 4),
    ):
        try:
            values[name] = _text(value, name, maximum, minimum)
        except ValidationError as exc:
            errors.update(exc.errors)
    if contacted_at is None:
        errors["contacted_at"] = _("请填写联系时间。")
    elif contacted_at > timezone.now() + timedelta(minutes=5):
        errors["contacted_at"] = _("联系时间不能晚于现在。")
    if errors:
        raise ValidationError(errors)
    return values["outlet"], values["person"], contacted_at, values["summary"]  # type: ignore[return-value]


def log_media_contact(
    complaint: Complaint,
    *,
    actor: Actor,
    outlet: str,
    person: str = "",
    contacted_at: datetime | None,
    summary: str,
    expected_version: int | None = None,
) -> MediaContact:
    outlet, person, at, summary = check_media_contact(outlet, person, contacted_at, summary)
    result: list[MediaContact] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        checklist = _checklist(c)
        contact = MediaContact.objects.create(
            checklist=checklist,
            outlet=outlet,
            person=person,
            contacted_at=at,
            summary=summary,
            logged_by=actor.user if actor.kind == "staff" else None,
            logged_at=now,
        )
        result.append(contact)
        # The outlet is public; the journalist's name and what was said are kept encrypted.
        facts = _facts(checklist, False, media_contact_id=contact.pk, outlet=outlet, contacted_at=at.isoformat())
        return {"_data": facts, "person": person, "note": summary}

    _run(complaint, actor, "log_media_contact", change, expected_version=expected_version)
    return result[0]


def confirm_media_contacts(
    complaint: Complaint, *, actor: Actor, note: str = "", expected_version: int | None = None
) -> CrisisChecklist:
    """Every contact with the press so far is in the log (there may have been none)."""
    note = _text(note, "note", 2000)
    result: list[CrisisChecklist] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        checklist = _checklist(c)
        checklist.media_confirmed_by = actor.user
        checklist.media_confirmed_at = now
        checklist.save(update_fields=["media_confirmed_by", "media_confirmed_at"])
        result.append(checklist)
        count = checklist.media_contacts.count()
        return {"_data": _facts(checklist, _complete_if_done(checklist, now), media_contacts=count), "note": note}

    _run(complaint, actor, "confirm_media_contacts", change, expected_version=expected_version)
    return result[0]


# --- the dossier export (a read: in the chain, the version does not move) ------------------------


def record_export(complaint: Complaint, *, actor: Actor, facts: dict[str, Any]) -> None:
    """The export of the case dossier, with the manifest's hash: personal data left the system, and
    the ledger says which dossier it was (ledger.chain.is_read: export_ does not bump the version)."""
    with transaction.atomic():
        locked = _lock(complaint.pk)
        check_may(locked, actor, "export_dossier")
        record(locked, action="export_dossier", actor=actor, before=snapshot(locked), data=facts)
