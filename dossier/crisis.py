"""Crisis handling (issue 5 item 9): a case with a legal-action or media threat, or a safety hazard,
goes to escalation level 3 (the legal/PR crisis team) with its checklist, and the team is told
in-app and by mail. The checklist must be complete before the case goes below level 3.

The escalation runs after the event that set the flag (intake, classification) or reached level 3
(escalate, SLA breach): complaints.tasks.after_event calls `check_case` here, in the worker."""

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils.translation import gettext as _

from complaints.choices import OPEN_STATES, EscalationLevel, RiskFlag

from .models import CrisisChecklist

log = logging.getLogger("complaintdesk.crisis")

CRISIS_FLAGS = (RiskFlag.SAFETY, RiskFlag.MEDIA, RiskFlag.LEGAL)
CHECKLIST_ACTIONS = frozenset(
    {
        "verify_crisis_facts",
        "draft_crisis_statement",
        "approve_crisis_statement",
        "log_media_contact",
        "confirm_media_contacts",
    }
)


def open_checklist(complaint: Any) -> CrisisChecklist | None:
    # The case page's panel reads the checklists once and leaves the open one on its (read-only)
    # instance; actions lock a fresh instance, so they always query.
    if hasattr(complaint, "_dossier_open_checklist"):
        return complaint._dossier_open_checklist
    return CrisisChecklist.objects.filter(complaint_id=complaint.pk, completed_at__isnull=True).order_by("-pk").first()


def guard(complaint: Any, action: str) -> str | None:
    """complaints.transitions.guard's lines for this app: why a checklist action or a de-escalation
    is closed (None when open)."""
    if action == "de_escalate":
        if complaint.escalation_level < EscalationLevel.CRISIS:
            return None
        checklist = open_checklist(complaint)
        if checklist is None:
            return None
        return _("危机处理清单未完成，不能降至 L3 以下。尚缺：%(items)s") % {"items": "、".join(checklist.missing)}
    if action in CHECKLIST_ACTIONS and open_checklist(complaint) is None:
        return _("本投诉没有进行中的危机处理清单。")
    return None


def crisis_flags(complaint: Any) -> list[str]:
    return [flag for flag in CRISIS_FLAGS if flag in (complaint.risk_flags or [])]


def check_case(complaint_id: int, action: str) -> str | None:
    """After an event: escalate a newly flagged case to level 3 with its checklist, or open a checklist
    for a case that reached level 3 otherwise. Returns what was done (None: nothing)."""
    from complaints.models import Complaint

    from . import actions

    complaint = Complaint.objects.filter(pk=complaint_id).first()
    if complaint is None or complaint.status not in OPEN_STATES:
        return None
    flagged = complaint.risk_legal_media_safety
    if flagged and not CrisisChecklist.objects.filter(complaint_id=complaint_id).exists():
        # Only the first time: once the team has had a checklist, lowering the level is their call.
        return "escalated" if actions.escalate_to_crisis(complaint) else None
    if (
        action in {"escalate", "sla_breach"}
        and complaint.escalation_level >= EscalationLevel.CRISIS
        and open_checklist(complaint) is None
    ):
        return "opened" if actions.escalate_to_crisis(complaint) else None
    return None


def crisis_team_emails() -> list[str]:
    return [a for a in getattr(settings, "COMPLAINTDESK_CRISIS_TEAM_EMAILS", []) if a]


def mail_crisis_team_after_commit(tracking_no: str, flags: list[str], category: str, department: str) -> None:
    """The mail leaves the system: the tracking number and the kind of risk, never personal data."""
    recipients = crisis_team_emails()
    if not recipients:
        return
    labels = "、".join(str(RiskFlag(f).label) for f in flags) or _("升级至 L3")
    subject = _("【危机处理】投诉 %(no)s 已升级至 L3 法务/公关") % {"no": tracking_no}
    body = _(
        "投诉 %(no)s 已升级至 L3（法务/公关危机小组）。\n\n"
        "风险：%(flags)s\n分类：%(category)s\n部门：%(department)s\n\n"
        "请登录 ComplaintDesk 查看案件并完成危机处理清单：核实事实、审批对外声明、登记媒体联络。"
    ) % {"no": tracking_no, "flags": labels, "category": category or "—", "department": department or "—"}

    def send() -> None:
        try:
            EmailMessage(
                subject,
                body,
                settings.DEFAULT_FROM_EMAIL,
                recipients,
                headers={"Auto-Submitted": "auto-generated", "X-ComplaintDesk-Tracking": tracking_no},
            ).send(fail_silently=False)
        except Exception:  # the escalation stands whatever the mail server does
            log.exception("mail to the crisis team failed for %s", tracking_no)

    transaction.on_commit(send)
