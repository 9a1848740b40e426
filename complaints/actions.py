"""Every write to a case. Each action locks the row, checks state and role, saves the changed
fields, appends one ledger event, moves the SLA clocks, and schedules side effects after commit.
No other code assigns `complaint.status`."""

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from accounts.choices import Role
from accounts.models import Department, Membership, Notification, User
from core.errors import TransitionNotAllowed, ValidationError, VersionConflict
from core.outbox import enqueue_durably
from customers.actions import match_or_create_customer
from ledger.crypto import new_subject_key, usable

from . import routing, search, sla
from .choices import (
    OPEN_STATES,
    ComplainantType,
    EscalationLevel,
    ExternalRoute,
    Nature,
    Outcome,
    Priority,
    RiskFlag,
    Severity,
    Status,
)
from .intake import IntakeData
from .ledgering import Actor, record, snapshot
from .models import CaseShare, Category, Complaint, ComplaintMessage
from .tracking import hash_access_code, new_access_code, next_tracking_no
from .transitions import FROM_STATES, allowed_actions, guard, may

__all__ = ["Actor", "submit"]

_LEGAL_MEDIA_SAFETY = {RiskFlag.LEGAL, RiskFlag.MEDIA, RiskFlag.SAFETY}


def _now() -> datetime:
    return timezone.now()


def search_parts(complaint: Complaint) -> tuple[str, ...]:
    return (
        complaint.title,
        complaint.description,
        complaint.product_name,
        complaint.product_model,
        complaint.product_sku,
        complaint.tracking_no,
    )


def _set_flags(complaint: Complaint, flags: list[str]) -> None:
    complaint.risk_flags = sorted(set(flags))
    complaint.risk_legal_media_safety = bool(_LEGAL_MEDIA_SAFETY.intersection(flags))


# --- intake -------------------------------------------------------------------------------------


@sensitive_variables("access_code")
def submit(
    data: IntakeData,
    *,
    actor: Actor,
    received_at: datetime | None = None,
    is_demo: bool = False,
    also: Callable[[Complaint, str], None] | None = None,
) -> tuple[Complaint, str]:
    """Register a complaint (the receipt). Returns the case and its access code, shown only now."""
    received_at = received_at or _now()
    tracking_no = next_tracking_no(received_at)
    access_code = new_access_code()
    with transaction.atomic():
        customer = None
        if not data.anonymous and (data.complainant_phone or data.complainant_email):
            customer = match_or_create_customer(
                name=data.complainant_name,
                phone=data.complainant_phone,
                email=data.complainant_email,
                address=data.complainant_address,
            )
        complaint = Complaint(
            tracking_no=tracking_no,
            access_code_hash=hash_access_code(access_code),
            received_at=received_at,
            is_demo=is_demo,
            customer=customer,
            subject_key=customer.subject_key if customer else new_subject_key(),
            department=routing.default_department(),
            **data.model_fields_for_complaint(),
        )
        _set_flags(complaint, data.risk_flags)
        sla.set_ack_clock(complaint)
        complaint.search_text = search.index_text(*search_parts(complaint), words=False)
        complaint.save(force_insert=True)
        record(complaint, action="receive", actor=actor, before=None)
        if also is not None:
            also(complaint, access_code)  # in the same transaction (the idempotent receipt)
        _after_commit(complaint, "receive")
    return complaint, access_code


# --- the lifecycle ---------------------------------------------------------------------------


def _lock(pk: int) -> Complaint:
    return Complaint.objects.select_related("org_unit").select_for_update(of=("self",)).get(pk=pk)


def check_version(complaint: Complaint, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != complaint.version:
        raise VersionConflict(complaint.version, expected_version)


def check_may(complaint: Complaint, actor: Actor, action: str) -> None:
    if complaint.status not in FROM_STATES[action]:
        raise TransitionNotAllowed(action, complaint.status, allowed_actions(complaint, actor))
    reason = guard(complaint, action, consumer=actor.kind == "consumer")
    if reason is not None:
        raise TransitionNotAllowed(action, complaint.status, allowed_actions(complaint, actor), reason)
    if not may(actor, complaint, action):
        raise PermissionDenied(
            _("您的角色不能对该投诉执行“%(action)s”。可执行的操作：%(allowed)s")
            % {"action": action, "allowed": ", ".join(allowed_actions(complaint, actor)) or "—"}
        )


def _run(
    complaint: Complaint,
    actor: Actor,
    action: str,
    change: Callable[[Complaint, datetime], dict[str, Any] | None],
    *,
    expected_version: int | None = None,
) -> Complaint:
    """Lock, check, apply `change`, save, and record. `change` returns the event's private text."""
    with transaction.atomic():
        locked = _lock(complaint.pk)
        check_version(locked, expected_version)
        check_may(locked, actor, action)
        before = snapshot(locked)
        if not usable(locked.subject_key_id):
            # The person was erased: what is written about the case from now on gets a fresh key.
            locked.subject_key = new_subject_key()
        now = _now()
        private = change(locked, now) or {}
        data = private.pop("_data", {})
        locked.version += 1
        after = snapshot(locked)
        fields = [name for name in after if after[name] != before[name]]
        locked.save(update_fields=[*fields, "version", "risk_legal_media_safety"])
        record(locked, action=action, actor=actor, before=before, data=data, private=private)
        _after_commit(locked, action)
    return locked


def _after_commit(complaint: Complaint, action: str) -> None:
    """Schedule the event's side effects (complaints.tasks.after_event)."""
    from .tasks import after_event

    enqueue_after_commit(after_event, complaint.pk, action)


def enqueue_after_commit(task: Any, *args: Any) -> None:
    """Enqueue a task for after the current transaction. With the database task backend the task row
    is written in the case's own transaction (the worker sees it only after commit, it is durable with
    it, and it saves a commit); other backends enqueue after commit. Tasks carry ids only.

    With the Redis backend the write has committed by the time the task is enqueued, and Redis may be
    down just then: the task goes through the outbox (core.outbox), a row in the same transaction that
    the scheduler hands over later if Redis refused it, rather than a 500 for a write that is already
    done (a client would retry it into a duplicate). The immediate backend (tests) stays strict, so a
    failing task still fails its test."""
    backend = settings.TASKS["default"]["BACKEND"]
    if "DatabaseBackend" in backend:
        task.enqueue(*args)
    elif "ImmediateBackend" in backend:
        transaction.on_commit(lambda: task.enqueue(*args))
    else:
        enqueue_durably(task, *args)


def _required(value: str | None, field: str, minimum: int = 2) -> str:
    text = (value or "").strip()
    if len(text) < minimum:
        raise ValidationError(field, _("必填，至少 %(n)d 个字。") % {"n": minimum})
    return text


def accept(
    complaint: Complaint,
    *,
    actor: Actor,
    priority: str | None = None,
    category: Category | None = None,
    subcategory: Category | None = None,
    severity: str | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Complaint:
    """初步判断: classify, prioritise, accept; the consumer is told the process and the expected time.
    Routing picks the department and the first responsible person."""
    check_classification(category, subcategory)

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        if priority:
            c.priority = Priority(priority)
        if severity:
            c.severity = Severity(severity)
        if category is not None:
            c.category = category
            c.subcategory = subcategory
        c.status = Status.ACCEPTED
        c.acknowledged_at = c.accepted_at = now
        sla.start_resolution_clock(c, now)
        department = routing.department_for(c)
        if department is not None:
            c.department = department
            owner = routing.pick_owner(department, now)
            c.owner = owner
            if owner is not None:
                _notify([owner], c, "assigned", _("新投诉 %(no)s 已分派给您。") % {"no": c.tracking_no})
        return {"public_note": note}

    return _run(complaint, actor, "accept", change, expected_version=expected_version)


def reject(complaint: Complaint, *, actor: Actor, reason: str, expected_version: int | None = None) -> Complaint:
    """不予受理, with the reason told to the consumer."""
    reason = _required(reason, "reason", 2)

    def change(c: Complaint, now: datetime) -> None:
        c.status = Status.REJECTED
        c.reject_reason = reason
        c.acknowledged_at = now

    return _run(complaint, actor, "reject", change, expected_version=expected_version)


def appeal(complaint: Complaint, *, actor: Actor, reason: str) -> Complaint:
    """The consumer appeals a rejection, once: the case is new again, for a supervisor."""
    reason = _required(reason, "reason", 2)

    def change(c: Complaint, now: datetime) -> None:
        if c.appealed:
            raise TransitionNotAllowed("appeal", c.status, [], _("不予受理只能申诉一次。"))
        c.status = Status.NEW
        c.appealed = True
        c.appeal_reason = reason
        c.acknowledged_at = None
        sla.restart_ack_clock(c, now)
        _notify(_supervisors(c), c, "appeal", _("投诉 %(no)s 的不予受理决定被申诉。") % {"no": c.tracking_no})

    return _run(complaint, actor, "appeal", change)


def check_classification(category: Category | None, subcategory: Category | None) -> None:
    if category is not None and (category.parent_id is not None or not category.active):
        raise ValidationError("category", _("请选择一个启用的一级分类。"))
    if subcategory is not None and (category is None or subcategory.parent_id != category.pk):
        raise ValidationError("subcategory", _("子分类必须属于所选分类。"))


def classify(
    complaint: Complaint,
    *,
    actor: Actor,
    priority: str | None = None,
    category: Category | None = None,
    subcategory: Category | None = None,
    severity: str | None = None,
    nature: str | None = None,
    complainant_type: str | None = None,
    risk_flags: list[str] | None = None,
    sentiment: Decimal | None = None,
    expected_version: int | None = None,
) -> Complaint:
    """Change the classification; a new priority moves the running clock."""
    check_classification(category, subcategory)

    def change(c: Complaint, now: datetime) -> None:
        old_priority = c.priority
        if priority:
            c.priority = Priority(priority)
        if severity:
            c.severity = Severity(severity)
        if nature is not None:
            c.nature = Nature(nature) if nature else ""
        if complainant_type is not None:
            c.complainant_type = ComplainantType(complainant_type) if complainant_type else ""
        if category is not None:
            c.category, c.subcategory = category, subcategory
        if risk_flags is not None:
            _set_flags(c, [RiskFlag(f) for f in risk_flags])
        if sentiment is not None:
            c.sentiment = sentiment
        if c.priority != old_priority:
            if c.status == Status.NEW:
                sla.reprioritise_ack_clock(c, now)
            elif c.accepted_at and not c.regulator_due_at:
                sla.recompute_resolution_clock(c, now)

    return _run(complaint, actor, "classify", change, expected_version=expected_version)


def check_assignee(department: Department, owner: User | None) -> None:
    if owner is None:
        return
    if (
        not owner.is_active
        or not Membership.objects.filter(
            user=owner, department=department, role__in=[Role.AGENT, Role.SUPERVISOR]
        ).exists()
    ):
        raise ValidationError("owner", _("负责人必须是该部门在职的投诉专员或主管。"))


def assign(
    complaint: Complaint,
    *,
    actor: Actor,
    department: Department | None = None,
    owner: User | None = None,
    note: str = "",
    expected_version: int | None = None,
) -> Complaint:
    """Assign or reassign the department and the first responsible person (第一责任人)."""

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        target = department or c.department
        if target is None:
            raise ValidationError("department", _("请选择部门。"))
        check_assignee(target, owner)
        if target.pk == c.department_id and owner is not None and owner.pk == c.owner_id:
            raise ValidationError("owner", _("该投诉已由此人负责。"))
        c.department = target
        c.owner = owner if owner is not None else routing.pick_owner(target, now)
        if c.owner is not None:
            _notify([c.owner], c, "assigned", _("投诉 %(no)s 已分派给您。") % {"no": c.tracking_no})
        return {"note": note}

    return _run(complaint, actor, "assign", change, expected_version=expected_version)


def start_work(complaint: Complaint, *, actor: Actor, expected_version: int | None = None) -> Complaint:
    def change(c: Complaint, now: datetime) -> None:
        if c.owner_id is None and actor.kind == "staff":
            c.owner = actor.user
        c.status = Status.IN_PROGRESS

    return _run(complaint, actor, "start_work", change, expected_version=expected_version)


def wait_for_consumer(
    complaint: Complaint, *, actor: Actor, message: str, expected_version: int | None = None
) -> Complaint:
    """Ask the consumer for information; the resolution clock pauses."""
    message = _required(message, "request", 4)

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        c.status = Status.AWAITING_CONSUMER
        sla.pause(c, now)
        return {"public_note": message}

    return _run(complaint, actor, "wait_for_consumer", change, expected_version=expected_version)


def resume(complaint: Complaint, *, actor: Actor, note: str = "", expected_version: int | None = None) -> Complaint:
    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        c.status = Status.IN_PROGRESS
        sla.resume(c, now)
        return {"note": note}

    return _run(complaint, actor, "resume", change, expected_version=expected_version)


def add_information(complaint: Complaint, *, actor: Actor, text: str) -> Complaint:
    """The consumer answers a request for information; the clock runs again."""
    text = _required(text, "text", 2)
    if len(text) > 10_000:
        raise ValidationError("text", _("内容过长（最多 10000 字）。"))

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        ComplaintMessage.objects.create(complaint=c, author_kind="consumer", internal=False, body=text)
        c.status = Status.IN_PROGRESS
        sla.resume(c, now)
        if c.owner_id:
            _notify([c.owner], c, "information", _("投诉人已补充投诉 %(no)s 的信息。") % {"no": c.tracking_no})
        return {"public_note": text}

    return _run(complaint, actor, "add_information", change)


def propose_resolution(
    complaint: Complaint,
    *,
    actor: Actor,
    text: str,
    amount: Any = None,
    expected_version: int | None = None,
    currency: str = "CNY",
    remedies: list[int] | None = None,
    valid_days: int | None = None,
    reply_to: int | None = None,
) -> Complaint:
    """Make an offer to the consumer (resolutions.negotiation): the case waits for their answer until
    the offer expires (COMPLAINTDESK_OFFER_VALID_DAYS unless `valid_days`). The offer may bundle the
    case's authorised remedies and answers the consumer's open counter-offer. The consumer is mailed
    after commit (a link to the status page, never the access code)."""
    from resolutions import negotiation
    from resolutions.tasks import mail_offer

    terms = negotiation.check_offer(_required(text, "text", 4), amount, currency, valid_days)
    remedy_ids = negotiation.check_remedy_ids(remedies)
    made: list[Any] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        user = actor.user if actor.kind == "staff" else None
        offer = negotiation.record_offer(c, user=user, now=now, terms=terms, remedy_ids=remedy_ids, reply_to=reply_to)
        made.append(offer)
        c.status = Status.RESOLUTION_PROPOSED
        c.proposal_text = offer.text
        c.proposal_amount = offer.amount
        c.proposed_at = now
        c.refusal_reason = ""
        return {"_data": negotiation.event(offer, **offer.closed_offers)}

    updated = _run(complaint, actor, "propose_resolution", change, expected_version=expected_version)
    enqueue_after_commit(mail_offer, updated.pk, made[0].pk)
    return updated


def _answer(
    complaint: Complaint,
    actor: Actor,
    action: str,
    change: Callable[[Complaint, datetime], dict[str, Any] | None],
    offer_id: int | None,
    expected_version: int | None,
) -> Complaint:
    """Run an answer to an offer; a case no longer waiting for one is refused with the reason the
    consumer can act on (the offer was withdrawn, expired or answered), nothing changed."""
    from resolutions import negotiation

    try:
        return _run(complaint, actor, action, change, expected_version=expected_version)
    except TransitionNotAllowed as exc:
        if exc.reason:
            raise
        reason = negotiation.why_not(complaint, offer_id)
        if not reason:
            raise
        raise TransitionNotAllowed(action, exc.state, exc.allowed, reason) from None


def accept_proposal(
    complaint: Complaint,
    *,
    actor: Actor,
    note: str = "",
    expected_version: int | None = None,
    offer_id: int | None = None,
    via: str = "",
) -> Complaint:
    """The consumer accepts the proposed remedy. Staff recording it for them say how it was given
    (a call, a letter), so that the ledger shows the consumer's own agreement. An expired or
    withdrawn offer cannot be accepted. The settlement agreement is generated after commit
    (resolutions.tasks.generate_agreement); its failure never undoes the acceptance."""
    from resolutions import negotiation
    from resolutions.tasks import generate_agreement

    accepted: list[Any] = []

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        if actor.kind == "staff":
            _required(note, "note", 4)
        offer = negotiation.offer_to_answer(c, "accept_proposal", offer_id, now)
        data: dict[str, Any] = {}
        if offer is not None:
            how = "staff" if actor.kind == "staff" else (via if via in {"web", "api"} else "web")
            user = actor.user if actor.kind == "staff" else None
            negotiation.accept(offer, c, user=user, now=now, note=note, via=how)
            accepted.append(offer)
            data = negotiation.event(offer, agreement_no=offer.agreement_no, accepted_via=how)
        c.status = Status.RESOLVED
        c.outcome = Outcome.ACCEPTED
        c.resolved_at = now
        return {"note": note, "_data": data}

    updated = _answer(complaint, actor, "accept_proposal", change, offer_id, expected_version)
    if accepted:
        enqueue_after_commit(generate_agreement, updated.pk, accepted[0].pk)
    return updated


def refuse_proposal(
    complaint: Complaint,
    *,
    actor: Actor,
    reason: str,
    expected_version: int | None = None,
    offer_id: int | None = None,
) -> Complaint:
    """The consumer refuses: back to in progress, to negotiate or to issue a final decision."""
    from resolutions import negotiation

    reason = _required(reason, "reason", 2)

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        offer = negotiation.offer_to_answer(c, "refuse_proposal", offer_id, now)
        data: dict[str, Any] = {}
        if offer is not None:
            negotiation.refuse(offer, now=now, reason=reason)
            data = negotiation.event(offer)
        c.status = Status.IN_PROGRESS
        c.refusal_reason = reason
        if c.owner_id:
            _notify([c.owner], c, "refused", _("投诉人拒绝了投诉 %(no)s 的处理方案。") % {"no": c.tracking_no})
        return {"_data": data}

    return _answer(complaint, actor, "refuse_proposal", change, offer_id, expected_version)


def resolve(
    complaint: Complaint,
    *,
    actor: Actor,
    outcome: str,
    note: str,
    open_routes: list[str] | None = None,
    expected_version: int | None = None,
) -> Complaint:
    """Resolve without a proposal (remedy executed) or by a final decision that names the external
    routes still open to the consumer (a refused complaint is never closed silently)."""
    if outcome not in (Outcome.EXECUTED, Outcome.FINAL_DECISION):
        raise ValidationError("outcome", _("结果只能是“已执行补救”或“最终决定”。"))
    note = _required(note, "note", 4)
    routes = [ExternalRoute(r) for r in (open_routes or [])]
    if outcome == Outcome.FINAL_DECISION and not routes:
        raise ValidationError("open_routes", _("最终决定必须告知投诉人仍可选择的外部途径。"))

    def change(c: Complaint, now: datetime) -> None:
        if outcome == Outcome.FINAL_DECISION and not c.refusal_reason:
            raise ValidationError("outcome", _("最终决定只能在投诉人拒绝处理方案之后作出。"))
        c.status = Status.RESOLVED
        c.outcome = outcome
        c.outcome_note = note
        c.open_routes = [str(r) for r in routes]
        c.resolved_at = now

    return _run(complaint, actor, "resolve", change, expected_version=expected_version)


def route_external(
    complaint: Complaint,
    *,
    actor: Actor,
    route: str,
    reference: str = "",
    due_at: datetime | None = None,
    note: str = "",
    body: str | None = None,
    expected_version: int | None = None,
) -> Complaint:
    """Mediation, arbitration, court or regulator; the internal clock pauses until the outcome returns.
    Opens the case's external proceeding (dossier.models.ExternalProceeding). `body` names the
    consumer association, commission, court or bureau; callers that pass it (the dossier panel and
    API) must give a regulator referral its due date, which becomes the case's regulator_due_at."""
    from dossier import proceedings

    route, body_name, reference = proceedings.check_route(route, body, reference)

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        due = proceedings.regulator_due(c, route, due_at)
        c.status = Status.EXTERNAL
        c.external_route = route
        c.external_reference = reference
        c.external_due_at = due
        sla.pause(c, now)
        facts = proceedings.open_proceeding(
            c, actor=actor, route=route, body=body_name, reference=reference, due_at=due, now=now
        )
        return {"note": note, "_data": facts}

    return _run(complaint, actor, "route_external", change, expected_version=expected_version)


def record_external_outcome(
    complaint: Complaint,
    *,
    actor: Actor,
    resolved: bool,
    note: str,
    decision: str = "",
    amount: Decimal | str | None = None,
    expected_version: int | None = None,
) -> Complaint:
    """The external body's outcome: the proceeding closes with its decision (and any amount awarded or
    agreed); the case is resolved by it, or goes back to in_progress (a regulator's date then stays
    the deadline)."""
    from dossier import proceedings

    note = _required(note, "note", 4)
    decision, value = proceedings.check_outcome(decision, amount)

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        sla.resume(c, now)
        if c.accepted_at is None:
            # Routed out before acceptance: the case comes back accepted, with its resolution clock.
            c.acknowledged_at = c.acknowledged_at or now
            c.accepted_at = now
            sla.start_resolution_clock(c, now)
        else:
            proceedings.apply_regulator_deadline(c, now)
        if resolved:
            c.status = Status.RESOLVED
            c.outcome = Outcome.EXTERNAL_DECISION
            c.outcome_note = note
            c.resolved_at = now
        else:
            c.status = Status.IN_PROGRESS
        facts = proceedings.close_proceeding(
            c, actor=actor, resolved=resolved, note=note, decision=decision, amount=value, now=now
        )
        return {"note": note, "_data": facts}

    return _run(complaint, actor, "record_external_outcome", change, expected_version=expected_version)


def withdraw(complaint: Complaint, *, actor: Actor, reason: str, expected_version: int | None = None) -> Complaint:
    reason = _required(reason, "reason", 2)

    def change(c: Complaint, now: datetime) -> None:
        c.status = Status.WITHDRAWN
        c.withdrawn_reason = reason
        c.sla_paused_at = None

    return _run(complaint, actor, "withdraw", change, expected_version=expected_version)


def close(
    complaint: Complaint,
    *,
    actor: Actor,
    reply_text: str = "",
    evidence_complete: bool = False,
    expected_version: int | None = None,
) -> Complaint:
    """结案, when the closing checklist is met (casework.checklist): a written reply sent since the
    case was resolved, every remedy executed or refused, the evidence confirmed complete by the closer,
    the satisfaction survey scheduled. With `reply_text` the reply is sent first (casework's send_reply,
    its own event) in the same transaction: a refused closing sends nothing. The checklist's outcome is
    kept (casework.ClosingChecklist) and recorded in the event."""
    from casework import checklist
    from casework.actions import check_reply, send_reply

    reply_text = (reply_text or "").strip()
    if reply_text:
        reply_text = check_reply(reply_text)
    with transaction.atomic():
        if reply_text:
            locked = _lock(complaint.pk)
            check_version(locked, expected_version)
            check_may(locked, actor, "close")  # refused as a closing, not as a reply
            send_reply(complaint, actor=actor, text=reply_text)
            expected_version = None  # the reply moved the version; the row stays locked

        def change(c: Complaint, now: datetime) -> dict[str, Any]:
            if not c.outcome:
                raise ValidationError("outcome", _("结案前必须记录处理结果。"))
            result = checklist.evaluate(c, evidence_complete=evidence_complete, now=now)
            result.refuse_if_unmet()
            checklist.record(c, result, closed_by=actor.user if actor.kind == "staff" else None, now=now)
            c.status = Status.CLOSED
            c.closed_at = now
            return {"_data": {"checklist": result.facts()}}

        return _run(complaint, actor, "close", change, expected_version=expected_version)


def reopen(complaint: Complaint, *, actor: Actor, reason: str, expected_version: int | None = None) -> Complaint:
    """The consumer is dissatisfied: within the window a closed case opens again with a new clock."""
    reason = _required(reason, "reason", 2)

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        window = timedelta(days=settings.COMPLAINTDESK_REOPEN_WINDOW_DAYS)
        if c.closed_at is None or now - c.closed_at > window:
            raise TransitionNotAllowed(
                "reopen",
                c.status,
                [],
                _("结案已超过 %(days)d 天，不能重开。") % {"days": settings.COMPLAINTDESK_REOPEN_WINDOW_DAYS},
            )
        c.status = Status.REOPENED
        c.reopen_count += 1
        c.outcome = ""
        c.outcome_note = ""
        c.open_routes = []
        c.reply_text = ""  # the next closing needs a new reply
        c.resolved_at = None
        c.closed_at = None
        c.regulator_due_at = None
        sla.start_resolution_clock(c, now)
        if c.owner_id:
            _notify([c.owner], c, "reopened", _("投诉 %(no)s 已重开。") % {"no": c.tracking_no})
        return {"public_note": reason}

    return _run(complaint, actor, "reopen", change, expected_version=expected_version)


def archive(complaint: Complaint, *, actor: Actor, expected_version: int | None = None) -> Complaint:
    def change(c: Complaint, now: datetime) -> None:
        c.status = Status.ARCHIVED
        c.archived_at = now

    return _run(complaint, actor, "archive", change, expected_version=expected_version)


def escalate(complaint: Complaint, *, actor: Actor, reason: str, expected_version: int | None = None) -> Complaint:
    reason = _required(reason, "reason", 2)

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        if c.escalation_level >= EscalationLevel.CRISIS:
            raise ValidationError("escalation_level", _("已是最高升级级别（L3）。"))
        c.escalation_level += 1
        _notify(
            _supervisors(c),
            c,
            "escalated",
            _("投诉 %(no)s 已升级至 L%(level)d。") % {"no": c.tracking_no, "level": c.escalation_level},
        )
        if c.escalation_level == EscalationLevel.CRISIS:
            from dossier.actions import open_crisis_checklist
            from dossier.crisis import open_checklist

            if open_checklist(c) is None:
                open_crisis_checklist(c, now)  # in this transaction: no way below L3 without it
        return {"note": reason}

    return _run(complaint, actor, "escalate", change, expected_version=expected_version)


def de_escalate(complaint: Complaint, *, actor: Actor, reason: str, expected_version: int | None = None) -> Complaint:
    reason = _required(reason, "reason", 2)

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        if c.escalation_level <= EscalationLevel.FRONTLINE:
            raise ValidationError("escalation_level", _("已是最低级别（L0）。"))
        c.escalation_level -= 1
        return {"note": reason}

    return _run(complaint, actor, "de_escalate", change, expected_version=expected_version)


def add_note(
    complaint: Complaint, *, actor: Actor, text: str, internal: bool = True, expected_version: int | None = None
) -> Complaint:
    text = _required(text, "text", 1)
    if len(text) > 10_000:
        raise ValidationError("text", _("内容过长（最多 10000 字）。"))

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        ComplaintMessage.objects.create(
            complaint=c, author_kind="staff", author=actor.user, internal=internal, body=text
        )
        mentioned = _mentioned(c, text, exclude=actor.user)
        _notify(
            mentioned, c, "mention", _("%(who)s 在投诉 %(no)s 中提到了您。") % {"who": actor.label, "no": c.tracking_no}
        )
        data = {"mentions": [u.get_username() for u in mentioned]} if mentioned else {}
        return {"note" if internal else "public_note": text, "_data": data}

    return _run(complaint, actor, "add_note", change, expected_version=expected_version)


_MENTION = re.compile(r"@([\w.\-]{1,150})")


def _mentioned(complaint: Complaint, text: str, exclude: User | None) -> list[User]:
    """Colleagues named as @username who may see the case (a mention never widens access)."""
    from .permissions import Principal

    names = set(_MENTION.findall(text))
    if not names:
        return []
    users = User.objects.filter(username__in=names, is_active=True).exclude(pk=getattr(exclude, "pk", None))
    return [u for u in users if Principal.of(u).can_see(complaint)]


@sensitive_variables("access_code")
def reissue_access_code(complaint: Complaint, *, actor: Actor) -> tuple[Complaint, str]:
    """A new access code for a consumer who proved they hold the complaint's e-mail (the old code
    stops working). The ledger records that it happened, never the code or its hash."""
    access_code = new_access_code()

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        c.access_code_hash = hash_access_code(access_code)
        return {"_data": {"reissued": True}}

    with transaction.atomic():
        updated = _run(complaint, actor, "reissue_access_code", change)
        Complaint.objects.filter(pk=updated.pk).update(access_code_hash=updated.access_code_hash)
    return updated, access_code


def check_share_target(complaint: Complaint, user: User) -> None:
    if not user.is_active or not Membership.objects.filter(user=user, role=Role.LEGAL_PR).exists():
        raise ValidationError("user", _("只能共享给在职的法务/公关人员。"))
    if CaseShare.objects.filter(complaint=complaint, user=user).exists():
        raise ValidationError("user", _("已与此人共享。"))


def share(
    complaint: Complaint, *, actor: Actor, user: User, note: str = "", expected_version: int | None = None
) -> Complaint:
    """Share a case with a legal/PR user (DESIGN §1: legal/PR see the cases shared with them)."""

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        check_share_target(c, user)
        CaseShare.objects.create(complaint=c, user=user, shared_by=actor.user)
        _notify([user], c, "shared", _("投诉 %(no)s 已与您共享。") % {"no": c.tracking_no})
        return {"_data": {"with": user.get_username()}, "note": note}

    return _run(complaint, actor, "share", change, expected_version=expected_version)


# --- notifications (in-app; mail comes with the feedback issue) ---------------------------------


def _supervisors(complaint: Complaint) -> list[User]:
    if complaint.department_id is None:
        return []
    return list(
        User.objects.filter(
            is_active=True, memberships__role=Role.SUPERVISOR, memberships__department_id=complaint.department_id
        ).distinct()
    )


def _notify(recipients: list[User], complaint: Complaint, kind: str, message: str) -> None:
    Notification.objects.bulk_create(
        [Notification(recipient=u, complaint=complaint, kind=kind, message=message) for u in recipients]
    )


# --- the SLA tick -------------------------------------------------------------------------------


def _system_event(
    complaint: Complaint, action: str, change: Callable[[Complaint, datetime], dict | None], now: datetime
) -> bool:
    """A system action outside the state machine (SLA warning, breach) as of `now`; skipped if no
    longer due once the row is locked."""
    with transaction.atomic():
        c = _lock(complaint.pk)
        before = snapshot(c)
        data = change(c, now)
        if data is None:
            return False
        c.version += 1
        after = snapshot(c)
        c.save(update_fields=[n for n in after if after[n] != before[n]] + ["version"])
        record(c, action=action, actor=Actor.system(), before=before, data=data)
        _after_commit(c, action)
    return True


def sla_tick(now: datetime | None = None) -> dict[str, int]:
    """Warn at 80 %, escalate one level and tell the supervisors at breach, archive old closed cases,
    and give unowned accepted cases to agents who came on shift."""
    now = now or _now()
    counts = {
        "ack_warning": 0,
        "ack_breach": 0,
        "resolution_warning": 0,
        "resolution_breach": 0,
        "archived": 0,
        "assigned": 0,
    }
    running = OPEN_STATES - {Status.AWAITING_CONSUMER, Status.EXTERNAL, Status.NEW}
    unacked = Complaint.objects.filter(status=Status.NEW, acknowledged_at__isnull=True)

    def warn(clock: str) -> Callable[[Complaint, datetime], dict | None]:
        def change(c: Complaint, at: datetime) -> dict | None:
            if clock == "ack":
                if c.ack_warned_at or c.status != Status.NEW or c.acknowledged_at or c.ack_warn_at > at:
                    return None
                c.ack_warned_at = at
            else:
                if (
                    c.resolution_warned_at
                    or c.status not in running
                    or c.resolution_warn_at is None
                    or c.resolution_warn_at > at
                ):
                    return None
                c.resolution_warned_at = at
            recipients = [c.owner] if c.owner_id else _supervisors(c)
            _notify(recipients, c, "sla_warning", _("投诉 %(no)s 的时限已用 80%%。") % {"no": c.tracking_no})
            return {"clock": clock}

        return change

    def breach(clock: str) -> Callable[[Complaint, datetime], dict | None]:
        def change(c: Complaint, at: datetime) -> dict | None:
            if clock == "ack":
                if c.ack_breached_at or c.status != Status.NEW or c.acknowledged_at or c.ack_due_at >= at:
                    return None
                c.ack_breached_at = at
            else:
                if (
                    c.resolution_breached_at
                    or c.status not in running
                    or c.resolution_due_at is None
                    or c.resolution_due_at >= at
                ):
                    return None
                c.resolution_breached_at = at
            if c.escalation_level < EscalationLevel.CRISIS:
                c.escalation_level += 1
            _notify(
                _supervisors(c),
                c,
                "sla_breach",
                _("投诉 %(no)s 已超时，已升级至 L%(level)d。") % {"no": c.tracking_no, "level": c.escalation_level},
            )
            return {"clock": clock}

        return change

    for c in unacked.filter(ack_warned_at__isnull=True, ack_warn_at__lte=now).only("pk")[:5000]:
        counts["ack_warning"] += _system_event(c, "sla_warning", warn("ack"), now)
    for c in unacked.filter(ack_breached_at__isnull=True, ack_due_at__lt=now).only("pk")[:5000]:
        counts["ack_breach"] += _system_event(c, "sla_breach", breach("ack"), now)
    res = Complaint.objects.filter(status__in=running)
    for c in res.filter(resolution_warned_at__isnull=True, resolution_warn_at__lte=now).only("pk")[:5000]:
        counts["resolution_warning"] += _system_event(c, "sla_warning", warn("resolution"), now)
    for c in res.filter(resolution_breached_at__isnull=True, resolution_due_at__lt=now).only("pk")[:5000]:
        counts["resolution_breach"] += _system_event(c, "sla_breach", breach("resolution"), now)
    cutoff = now - timedelta(days=settings.COMPLAINTDESK_ARCHIVE_AFTER_DAYS)
    old_enough = Q(status=Status.CLOSED, closed_at__lte=cutoff) | Q(
        status=Status.REJECTED,
        acknowledged_at__lte=min(cutoff, now - timedelta(days=settings.COMPLAINTDESK_APPEAL_WINDOW_DAYS)),
    )
    for c in Complaint.objects.filter(old_enough).only("pk")[:5000]:
        try:
            archive(c, actor=Actor.system())
        except TransitionNotAllowed:
            continue  # another worker's tick (or a person) got there first
        counts["archived"] += 1
    for c in Complaint.objects.filter(
        status__in=[Status.ACCEPTED, Status.REOPENED], owner__isnull=True, department__isnull=False
    ).select_related("department")[:500]:
        owner = routing.pick_owner(c.department, now)
        if owner is not None and _auto_assign(c, owner):
            counts["assigned"] += 1
    return counts


def _auto_assign(complaint: Complaint, owner: User) -> bool:
    """Give an unowned case to an agent who came on shift; skipped if someone assigned it meanwhile."""

    class _Taken(Exception):
        pass

    def change(c: Complaint, now: datetime) -> dict[str, Any]:
        if c.owner_id is not None:
            raise _Taken
        c.owner = owner
        _notify([owner], c, "assigned", _("投诉 %(no)s 已分派给您。") % {"no": c.tracking_no})
        return {"_data": {"automatic": True}}

    try:
        _run(complaint, Actor.system(), "assign", change)
    except (_Taken, TransitionNotAllowed):
        return False
    return True
