"""The closing checklist (结案核对) that complaints.actions.close enforces:

- reply_sent: a written reply sent since the case was resolved (a reopened case needs a new one);
- remedies_settled: every remedy paid, rejected or cancelled — or none owed: the consumer refused
  the proposal, or the outcome is a final decision or an external route's decision;
- evidence_complete: confirmed by the closer, explicitly, at closing;
- survey_scheduled: the satisfaction survey is due N working days after resolution
  (COMPLAINTDESK_SURVEY_AFTER_WORKING_DAYS, default 3), unless the consumer left no contact details or
  asked not to be contacted — then the reason is recorded instead.

An unmet item refuses the closing with a ValidationError keyed by the item's code."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints import calendar
from complaints.choices import Outcome, PreferredContact
from complaints.models import Complaint
from core.errors import ValidationError

from .choices import SurveySkipped
from .models import ClosingChecklist, Reply

ITEMS: dict[str, Any] = {
    "reply_sent": gettext_lazy("已书面答复"),
    "remedies_settled": gettext_lazy("补救措施已执行或已拒绝"),
    "evidence_complete": gettext_lazy("证据已齐全"),
    "survey_scheduled": gettext_lazy("已安排满意度回访"),
}


def survey_after_days() -> int:
    return int(getattr(settings, "COMPLAINTDESK_SURVEY_AFTER_WORKING_DAYS", 3))


@dataclass
class Item:
    code: str
    met: bool | None  # None: decided only at closing (the closer's confirmation)
    detail: str

    @property
    def label(self) -> str:
        return str(ITEMS[self.code])


@dataclass
class Checklist:
    items: list[Item] = field(default_factory=list)
    reply: Reply | None = None
    remedies_basis: str = ""
    survey_due_at: datetime | None = None
    survey_skipped: str = ""

    @property
    def unmet(self) -> list[Item]:
        return [i for i in self.items if i.met is not True]

    def refuse_if_unmet(self) -> None:
        unmet = self.unmet
        if unmet:
            raise ValidationError(
                {
                    i.code: _("结案核对项“%(item)s”未满足：%(detail)s") % {"item": i.label, "detail": i.detail}
                    for i in unmet
                }
            )

    def facts(self) -> dict[str, Any]:
        """What the close event records in clear (no personal data)."""
        return {
            "reply_id": self.reply.pk if self.reply else None,
            "remedies_settled": self.remedies_basis,
            "evidence_complete": True,
            "survey_due_at": self.survey_due_at.isoformat() if self.survey_due_at else None,
            "survey_skipped": self.survey_skipped,
        }


def _reply_item(c: Complaint, result: Checklist) -> Item:
    replies = Reply.objects.filter(complaint=c)
    if c.resolved_at is not None:
        replies = replies.filter(sent_at__gte=c.resolved_at)
    result.reply = replies.order_by("-sent_at", "-id").first()
    if result.reply is None:
        return Item("reply_sent", False, _("请先向投诉人发送书面答复（解决之后发送的答复才算）。"))
    return Item("reply_sent", True, _("已于 %(at)s 发送。") % {"at": _local(result.reply.sent_at)})


def _local(moment: datetime) -> str:
    from django.utils import formats, timezone

    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _remedies_item(c: Complaint, result: Checklist, remedies: list[Any] | None) -> Item:
    from resolutions.choices import LIVE
    from resolutions.models import Remedy

    if c.outcome in (Outcome.FINAL_DECISION, Outcome.EXTERNAL_DECISION):
        result.remedies_basis = c.outcome
        return Item("remedies_settled", True, str(Outcome(c.outcome).label))
    if remedies is None:
        remedies = list(Remedy.objects.filter(complaint=c))
    live = [r for r in remedies if r.status in LIVE]
    if live:
        names = "、".join(f"{r.get_kind_display()}（{r.get_status_display()}）" for r in live)
        return Item(
            "remedies_settled",
            False,
            _("尚有补救措施未执行、未驳回或未取消：%(names)s。") % {"names": names},
        )
    result.remedies_basis = "settled" if remedies else "none"
    if remedies:
        return Item("remedies_settled", True, _("全部补救措施已执行、驳回或取消。"))
    return Item("remedies_settled", True, _("本案没有登记补救措施。"))


def _survey_item(c: Complaint, result: Checklist, now: datetime) -> Item:
    if c.preferred_contact == PreferredContact.NONE:
        result.survey_skipped = SurveySkipped.OPTED_OUT
        return Item("survey_scheduled", True, str(SurveySkipped.OPTED_OUT.label))
    if c.anonymous or not (c.complainant_phone or c.complainant_email or c.complainant_address):
        result.survey_skipped = SurveySkipped.NO_CONTACT
        return Item("survey_scheduled", True, str(SurveySkipped.NO_CONTACT.label))
    days = survey_after_days()
    try:
        result.survey_due_at = calendar.add_working_days(c.resolved_at or now, days)
    except ValueError:
        return Item("survey_scheduled", False, _("工作日历在十年内没有工作日，无法安排回访，请检查日历。"))
    return Item(
        "survey_scheduled",
        True,
        _("回访期限：%(at)s（解决后 %(n)d 个工作日）。") % {"at": _local(result.survey_due_at), "n": days},
    )


def evaluate(
    c: Complaint, *, evidence_complete: bool | None, now: datetime, remedies: list[Any] | None = None
) -> Checklist:
    """The checklist as the case stands. `evidence_complete` None: not asked yet (the case page shows
    it as to be confirmed at closing)."""
    result = Checklist()
    result.items.append(_reply_item(c, result))
    result.items.append(_remedies_item(c, result, remedies))
    if evidence_complete:
        result.items.append(Item("evidence_complete", True, _("结案人已确认。")))
    else:
        result.items.append(
            Item(
                "evidence_complete",
                None if evidence_complete is None else False,
                _("请核对证据后勾选“证据已齐全”。"),
            )
        )
    result.items.append(_survey_item(c, result, now))
    return result


def record(c: Complaint, result: Checklist, *, closed_by: Any, now: datetime) -> ClosingChecklist:
    return ClosingChecklist.objects.create(
        complaint=c,
        closed_at=now,
        closed_by=closed_by,
        resolved_at=c.resolved_at,
        reply=result.reply,
        remedies_settled=True,
        remedies_basis=result.remedies_basis,
        evidence_complete=True,
        survey_due_at=result.survey_due_at,
        survey_skipped=result.survey_skipped,
    )
