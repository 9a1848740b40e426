"""Which action may be taken from which state, and by whom (the state machine of DESIGN.md §2)."""

from typing import Any

from .choices import OPEN_STATES, Status

S = Status
# action -> the states it may be taken from
FROM_STATES: dict[str, frozenset[str]] = {
    "accept": frozenset({S.NEW}),
    "reject": frozenset({S.NEW}),
    "classify": OPEN_STATES,
    "assign": OPEN_STATES - {S.NEW},
    "start_work": frozenset({S.ACCEPTED, S.REOPENED}),
    "wait_for_consumer": frozenset({S.IN_PROGRESS}),
    "resume": frozenset({S.AWAITING_CONSUMER}),
    "add_information": frozenset({S.AWAITING_CONSUMER}),
    "propose_resolution": frozenset({S.IN_PROGRESS}),
    "accept_proposal": frozenset({S.RESOLUTION_PROPOSED}),
    "refuse_proposal": frozenset({S.RESOLUTION_PROPOSED}),
    "resolve": frozenset({S.IN_PROGRESS}),
    "route_external": OPEN_STATES - {S.EXTERNAL},
    "record_external_outcome": frozenset({S.EXTERNAL}),
    "withdraw": OPEN_STATES,
    "close": frozenset({S.RESOLVED}),
    "reopen": frozenset({S.CLOSED}),
    "archive": frozenset({S.CLOSED, S.REJECTED, S.WITHDRAWN}),
    "appeal": frozenset({S.REJECTED}),
    "escalate": OPEN_STATES,
    "de_escalate": OPEN_STATES,
    "add_note": frozenset(set(Status) - {S.ARCHIVED}),
    "share": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    "reissue_access_code": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    # evidence (evidence.actions): the consumer adds it at intake and while asked for information
    "add_evidence": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    # a legal hold can be set or lifted at any time, archived cases included (that is its point)
    "set_legal_hold": frozenset(set(Status)),
    # duplicates (complaints.duplicates): the duplicate is folded into an open or closed case
    "merge": OPEN_STATES,
    "absorb": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    "dismiss_duplicate": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    # remedies (resolutions.actions): proposed while the case is worked, decided until it is resolved,
    # executed (paid) until it is closed
    "add_remedy": OPEN_STATES - {S.NEW},
    "approve_remedy": (OPEN_STATES - {S.NEW}) | {S.RESOLVED},
    "reject_remedy": (OPEN_STATES - {S.NEW}) | {S.RESOLVED},
    "cancel_remedy": (OPEN_STATES - {S.NEW}) | {S.RESOLVED},
    "mark_remedy_paid": (OPEN_STATES - {S.NEW}) | {S.RESOLVED, S.CLOSED},
    # --- casework (contacts, reply templates, the written reply): begin ---
    # contacts are logged whenever the case lives (a call-back after closing too); never once archived
    "add_contact": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    # the written reply: while the case is worked, and after resolution (what the closing checklist counts)
    "send_reply": (OPEN_STATES - {S.NEW}) | {S.RESOLVED},
    # --- casework: end ---
    # --- investigation (coordination tasks, findings): begin ---
    # tasks are asked for while the case is worked; a department's answer (or a cancellation) may
    # still come in until the case is archived
    "create_task": OPEN_STATES - {S.NEW},
    "complete_task": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    "cancel_task": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    "reassign_task": OPEN_STATES - {S.NEW},
    # findings are recorded while the case is worked; a pending one may be decided until resolution
    "record_finding": OPEN_STATES - {S.NEW},
    "confirm_finding": (OPEN_STATES - {S.NEW}) | {S.RESOLVED},
    "reject_finding": (OPEN_STATES - {S.NEW}) | {S.RESOLVED},
    # --- investigation: end ---
    # --- negotiation (resolutions: offers, counter-offers, settlement agreement): begin ---
    # The consumer answers an open offer with one of their own; staff withdraw an offer; the system
    # lets an unanswered offer expire. The settlement agreement is generated (and regenerated when
    # missing) once the consumer has accepted.
    "counter_offer": frozenset({S.RESOLUTION_PROPOSED}),
    "withdraw_offer": frozenset({S.RESOLUTION_PROPOSED}),
    "expire_offer": frozenset({S.RESOLUTION_PROPOSED}),
    "settlement_agreement": frozenset({S.RESOLVED, S.CLOSED}),
    # --- negotiation: end ---
    # --- dossier (external routes, case dossier, crisis): begin ---
    # documents of an external procedure, until the case is archived (an award or judgment may come late)
    "add_external_document": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    # the case dossier for a court or a regulator: archived cases too (that is when they ask for it)
    "export_dossier": frozenset(set(Status)),
    # the crisis checklist of a level-3 case (dossier.crisis), worked until the case is archived
    "verify_crisis_facts": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    "draft_crisis_statement": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    "approve_crisis_statement": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    "log_media_contact": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    "confirm_media_contacts": frozenset(set(Status) - {S.ARCHIVED, S.MERGED}),
    # --- dossier: end ---
}

# What the consumer may do with tracking number + access code.
CONSUMER_ACTIONS = frozenset(
    {"accept_proposal", "refuse_proposal", "counter_offer", "add_information", "withdraw", "appeal", "reopen"}
)
# Actions a staff user may never take for the consumer (only the consumer appeals).
CONSUMER_ONLY = frozenset({"appeal", "add_information", "reissue_access_code"})
# Reached through their own flows and panels (recovery by a mailed one-time code, evidence upload,
# the duplicate panel, the legal-hold switch), never offered as a lifecycle button.
INTERNAL_ACTIONS = frozenset(
    {"reissue_access_code", "add_evidence", "set_legal_hold", "merge", "absorb", "dismiss_duplicate"}
    | {"add_remedy", "approve_remedy", "reject_remedy", "cancel_remedy", "mark_remedy_paid"}
    # --- casework: begin ---
    | {"add_contact", "send_reply"}
    # --- casework: end ---
    # --- investigation: begin ---
    # the investigation panel and the task pages (investigation.views)
    | {"create_task", "complete_task", "cancel_task", "reassign_task"}
    | {"record_finding", "confirm_finding", "reject_finding"}
    # --- investigation: end ---
    # --- negotiation: begin ---
    | {"counter_offer", "withdraw_offer", "expire_offer", "settlement_agreement"}
    # --- negotiation: end ---
    # --- dossier: begin ---
    # the external route is opened and closed on the dossier panel (body, reference, due date, decision)
    | {"route_external", "record_external_outcome", "add_external_document", "export_dossier"}
    | {"verify_crisis_facts", "draft_crisis_statement", "approve_crisis_statement"}
    | {"log_media_contact", "confirm_media_contacts"}
    # --- dossier: end ---
)
# States in which the consumer may add evidence: with the complaint, and when asked for more.
CONSUMER_EVIDENCE_STATES = frozenset({S.NEW, S.AWAITING_CONSUMER})


def may(actor: Any, complaint: Any, action: str) -> bool:
    """Role check for an action, whatever the state."""
    from .permissions import staff_may

    if actor.kind == "system":
        return True
    if actor.kind == "consumer":
        return action in CONSUMER_ACTIONS or action in {"reissue_access_code", "add_evidence"}
    if action in CONSUMER_ONLY:
        return False
    return staff_may(actor.user, complaint, action)


def guard(complaint: Any, action: str, consumer: bool = False) -> str | None:
    """Why an action the state allows is still closed for this case (None when it is open)."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone
    from django.utils.translation import gettext as _

    appeal_days = settings.COMPLAINTDESK_APPEAL_WINDOW_DAYS
    appeal_open = (
        complaint.status == "rejected"
        and not complaint.appealed
        and complaint.acknowledged_at is not None
        and timezone.now() - complaint.acknowledged_at <= timedelta(days=appeal_days)
    )
    if action == "appeal" and complaint.appealed:
        return _("不予受理只能申诉一次。")
    if action == "appeal" and not appeal_open:
        return _("不予受理已超过 %(days)d 天，不能再申诉。") % {"days": appeal_days}
    if action == "archive" and appeal_open:
        return _("申诉期（%(days)d 天）内不能归档不予受理的投诉。") % {"days": appeal_days}
    if action == "add_evidence" and consumer and complaint.status not in CONSUMER_EVIDENCE_STATES:
        return _("只有在提交投诉时或被要求补充材料时可以上传证据。")
    if action == "reopen":
        days = settings.COMPLAINTDESK_REOPEN_WINDOW_DAYS
        if complaint.closed_at is None or timezone.now() - complaint.closed_at > timedelta(days=days):
            return _("结案已超过 %(days)d 天，不能重开。") % {"days": days}
    # --- dossier: begin ---
    if action in (
        "de_escalate",  # not below level 3 while the crisis checklist is open
        "verify_crisis_facts",
        "draft_crisis_statement",
        "approve_crisis_statement",
        "log_media_contact",
        "confirm_media_contacts",
    ):
        from dossier.crisis import guard as crisis_guard

        reason = crisis_guard(complaint, action)
        if reason is not None:
            return reason
    # --- dossier: end ---
    # --- investigation: begin ---
    if action in {"resolve", "accept_proposal", "propose_resolution"}:
        from investigation.selectors import blocking_reason

        reason = blocking_reason(complaint)  # names the open blocking coordination tasks
        if reason is not None:
            # The consumer is not told which departments check what.
            return _("我们仍在核实相关情况，暂时不能完成此操作，请稍后再试。") if consumer else reason
    # --- investigation: end ---
    return None


def allowed_actions(complaint: Any, actor: Any) -> list[str]:
    """The actions this actor may take on the case in its current state."""
    return sorted(
        action
        for action, states in FROM_STATES.items()
        if action not in INTERNAL_ACTIONS
        and complaint.status in states
        and guard(complaint, action) is None
        and may(actor, complaint, action)
    )
