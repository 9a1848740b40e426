"""Feedback writes: the survey scheduled at closing, sent when due, answered once through its link;
call-backs chosen at closing and their outcomes. Every answer and every recorded call-back outcome is
one event on the case's ledger chain (the case row locked, what people said encrypted with the
complainant's key); no recorded field of the case changes, only its version (the count of writes)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from complaints.actions import _after_commit, _lock, _supervisors
from complaints.choices import Channel, Status
from complaints.ledgering import Actor, record, snapshot
from complaints.models import Complaint
from core.errors import TransitionNotAllowed, ValidationError
from core.validation import CONTROL
from ledger.crypto import new_subject_key, usable

from .choices import (
    RESTARTABLE,
    CallbackRuleKind,
    CallbackSource,
    CallbackStatus,
    RuleAction,
    Solved,
    SurveyStatus,
)
from .models import Callback, CallbackRule, Survey, SurveyAnswer, SurveyRule

COMMENT_MAX = 2000
NOTE_MAX = 5000
NEW_ISSUE_MIN = 5


def _now() -> datetime:
    return timezone.now()


def _record_on_case(
    complaint_id: int, actor: Actor, action: str, data: dict[str, Any], private: dict[str, Any]
) -> Complaint:
    """One ledger event on the (locked) case. No recorded field changes; the version moves, as it
    counts the case's write events (ledger.verify checks it), so a stale staff form sees a conflict."""
    locked = _lock(complaint_id)
    before = snapshot(locked)
    fields = ["version"]
    if not usable(locked.subject_key_id):
        # The person was erased: what is written about the case from now on gets a fresh key.
        locked.subject_key = new_subject_key()
        fields.append("subject_key")
    locked.version += 1
    locked.save(update_fields=fields)
    record(locked, action=action, actor=actor, before=before, data=data, private=private)
    _after_commit(locked, action)
    return locked


def reassign_callback(callback: Callback, *, actor: Actor, assignee_id: int | None, due_at: datetime) -> bool:
    """An admin's reassignment of a call-back (the admin form): saved with a `reassign_callback` event
    on the case naming the old and new assignee and due time, in one transaction. False if nothing
    changed."""
    with transaction.atomic():
        locked = Callback.objects.select_for_update().get(pk=callback.pk)
        if (locked.assignee_id, locked.due_at) == (assignee_id, due_at):
            return False
        old = {"assignee": locked.assignee_id, "due_at": locked.due_at.isoformat() if locked.due_at else None}
        new = {"assignee": assignee_id, "due_at": due_at.isoformat() if due_at else None}
        locked.assignee_id = assignee_id
        locked.due_at = due_at
        locked.save(update_fields=["assignee", "due_at"])
        _record_on_case(
            locked.complaint_id, actor, "reassign_callback", {"callback": locked.pk, "from": old, "to": new}, {}
        )
    return True


# --- the survey: scheduling ----------------------------------------------------------------------


def send_time(due_at: datetime) -> datetime:
    """When a survey due by `due_at` goes out: the start of working hours on its due day (the
    checklist's due time is the end of that day, and nobody wants a survey at midnight), never later
    than the due time itself. A moment already past is sent by the job's next run."""
    from complaints import calendar

    tz = timezone.get_default_timezone()
    start = datetime.combine(timezone.localtime(due_at, tz).date(), calendar.default_working_hours()[0], tzinfo=tz)
    return min(start, due_at)


def schedule_survey(complaint_id: int) -> Survey | None:
    """At closing: the survey due when the closing checklist says (casework.ClosingChecklist). A case
    closed again gets a fresh round unless its survey was answered; a skipped survey makes none."""
    from casework.models import ClosingChecklist

    with transaction.atomic():
        closing = ClosingChecklist.objects.filter(complaint_id=complaint_id).order_by("-closed_at", "-id").first()
        if closing is None or closing.survey_due_at is None:
            return None
        survey = Survey.objects.select_for_update().filter(complaint_id=complaint_id).first()
        if survey is None:
            try:
                with transaction.atomic():
                    return Survey.objects.create(
                        complaint_id=complaint_id, closing=closing, due_at=send_time(closing.survey_due_at)
                    )
            except IntegrityError:  # scheduled meanwhile by a concurrent run of the same event
                survey = Survey.objects.select_for_update().get(complaint_id=complaint_id)
        if survey.closing_id == closing.pk or survey.status not in RESTARTABLE:
            return survey  # this closing's survey already, or answered (never replaced)
        survey.closing = closing
        survey.due_at = send_time(closing.survey_due_at)
        survey.status = SurveyStatus.SCHEDULED
        survey.round += 1  # the link of an earlier round no longer opens it
        survey.sent_at = survey.expires_at = None
        survey.save(update_fields=["closing", "due_at", "status", "round", "sent_at", "expires_at"])
        return survey


def cancel_open_survey(complaint_id: int) -> bool:
    """A reopened case: the survey that has not gone out yet, or went out and is not answered, is
    cancelled (its link then says so, 410), so that no answer's rules fire against a case that is
    being handled again. Closing again starts a new round."""
    return bool(
        Survey.objects.filter(complaint_id=complaint_id, status__in=(SurveyStatus.SCHEDULED, SurveyStatus.SENT)).update(
            status=SurveyStatus.CANCELLED
        )
    )


def send_due_surveys(now: datetime | None = None) -> dict[str, int]:
    """The periodic job: send the surveys that are due (notifications, after commit), expire the
    ones nobody answered in time, and apply the rules of answers a lost worker left undone."""
    from . import sending

    now = now or _now()
    sent = not_sent = 0
    due = list(
        Survey.objects.filter(status=SurveyStatus.SCHEDULED, due_at__lte=now)
        .order_by("due_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in due:
        with transaction.atomic():
            survey = (
                Survey.objects.select_for_update(of=("self",))
                .select_related("complaint")
                .filter(pk=pk, status=SurveyStatus.SCHEDULED)
                .first()
            )
            if survey is None:
                continue
            if survey.complaint.status not in (Status.CLOSED, Status.ARCHIVED) or not sending.may_contact(
                survey.complaint
            ):
                survey.status = SurveyStatus.NOT_SENT
                survey.save(update_fields=["status"])
                not_sent += 1
                continue
            survey.status = SurveyStatus.SENT
            survey.sent_at = now
            survey.expires_at = now + timedelta(days=settings.COMPLAINTDESK_SURVEY_VALID_DAYS)
            survey.save(update_fields=["status", "sent_at", "expires_at"])
            sending.send_survey(survey)
            sent += 1
    expired = Survey.objects.filter(status=SurveyStatus.SENT, expires_at__lt=now).update(status=SurveyStatus.EXPIRED)
    rules = apply_pending_survey_rules(now)["applied"]
    return {"sent": sent, "not_sent": not_sent, "expired": expired, "rules_applied": rules}


# --- the survey: answering -----------------------------------------------------------------------


class SurveyRefused(Exception):
    """Why a survey link cannot be answered: invalid (forged or tampered), unknown, answered
    (the link reused), expired, or cancelled (the case reopened, or a newer round of the survey)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def open_survey(token: str, now: datetime | None = None) -> Survey:
    """The survey a link opens, or SurveyRefused saying why not."""
    from .tokens import BadToken, read_token

    try:
        content = read_token(token)
    except BadToken as exc:
        raise SurveyRefused("invalid") from exc
    survey = Survey.objects.select_related("complaint").filter(pk=content.survey_id).first()
    if survey is None:
        raise SurveyRefused("not_found")
    check_answerable(survey, content.round_no, now or _now())
    survey.token_round = content.round_no  # type: ignore[attr-defined]
    return survey


def check_answerable(survey: Survey, round_no: int, now: datetime) -> None:
    if survey.status == SurveyStatus.ANSWERED:
        raise SurveyRefused("answered")
    if round_no != survey.round or survey.status in (
        SurveyStatus.CANCELLED,
        SurveyStatus.SCHEDULED,
        SurveyStatus.NOT_SENT,
    ):
        raise SurveyRefused("cancelled")
    if survey.status == SurveyStatus.EXPIRED or (survey.expires_at is not None and survey.expires_at <= now):
        raise SurveyRefused("expired")


@dataclass
class Answer:
    outcome: int
    handling: int
    solved: str
    comment: str


def _score(value: Any, field: str, errors: dict[str, str]) -> int:
    try:
        score = int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = _("请选择 1 到 5 之间的分数。")
        return 0
    if not 1 <= score <= 5:
        errors[field] = _("分数应在 1 到 5 之间。")
    return score


def check_answer(outcome: Any, handling: Any, solved: Any, comment: Any) -> Answer:
    """Validate an answer; ValidationError names every bad field."""
    errors: dict[str, str] = {}
    outcome_score = _score(outcome, "outcome", errors)
    handling_score = _score(handling, "handling", errors)
    if solved not in Solved.values:
        errors["solved"] = _("请选择：已解决、部分解决或未解决（yes / partly / no）。")
    text = str(comment or "").strip()
    if CONTROL.search(text):
        errors["comment"] = _("含有不允许的控制字符。")
    elif len(text) > COMMENT_MAX:
        errors["comment"] = _("内容过长（最多 %(n)d 字）。") % {"n": COMMENT_MAX}
    if errors:
        raise ValidationError(errors)
    return Answer(outcome_score, handling_score, str(solved), text)


def answer_survey(survey: Survey, round_no: int, answer: Answer, *, language: str = "") -> SurveyAnswer:
    """Record the one answer of the case (the consumer's, through the link): the case row and the
    survey locked, the unique constraint as the last word when two posts race."""
    with transaction.atomic():
        case = _lock(survey.complaint_id)  # the case first, as every case write does
        locked = Survey.objects.select_for_update(of=("self",)).get(pk=survey.pk)
        now = _now()
        check_answerable(locked, round_no, now)
        if case.status != Status.CLOSED:
            # Archived or merged: read-only for everyone from now on. Reopened: the survey is cancelled
            # after the reopening's commit; an answer landing before that must not count either.
            raise SurveyRefused("cancelled")
        try:
            with transaction.atomic():
                row = SurveyAnswer.objects.create(
                    survey=locked,
                    complaint_id=locked.complaint_id,
                    outcome=answer.outcome,
                    handling=answer.handling,
                    solved=answer.solved,
                    comment=answer.comment,
                    language=language or survey.complaint.language,
                    answered_at=now,
                )
        except IntegrityError as exc:
            raise SurveyRefused("answered") from exc
        locked.status = SurveyStatus.ANSWERED
        locked.save(update_fields=["status"])
        data = {
            "survey_id": locked.pk,
            "outcome": answer.outcome,
            "handling": answer.handling,
            "solved": answer.solved,
        }
        _record_on_case(locked.complaint_id, Actor.consumer(), "answer_survey", data, {"comment": answer.comment})
    return row


# --- survey rules ------------------------------------------------------------------------------


def apply_survey_rules(complaint_id: int) -> str:
    """What the first matching SurveyRule says for the case's answer: reopen it (closed and within the
    reopen window) or a follow-up call-back for its owner. Runs after the answer's commit, and again
    from the job for an answer whose rules never ran (a worker lost between the two): one transaction
    that locks the case and the answer, does the rule and marks the answer `rules_applied_at`, so a
    second run does nothing."""
    from complaints.actions import reopen
    from complaints.transitions import guard

    with transaction.atomic():
        if not SurveyAnswer.objects.filter(complaint_id=complaint_id, rules_applied_at__isnull=True).exists():
            return ""
        _lock(complaint_id)  # the case first, as every case write does
        answer = (
            SurveyAnswer.objects.select_for_update(of=("self",))
            .select_related("complaint")
            .filter(complaint_id=complaint_id, rules_applied_at__isnull=True)
            .first()
        )
        if answer is None:
            return ""  # applied meanwhile by a concurrent run
        rule = next(
            (
                r
                for r in SurveyRule.objects.filter(active=True)
                if r.matches(answer.outcome, answer.handling, answer.solved)
            ),
            None,
        )
        result = "none" if rule is None else "callback"
        complaint = answer.complaint
        if rule is not None and rule.action == RuleAction.REOPEN:
            if complaint.status == Status.CLOSED and guard(complaint, "reopen") is None:
                reason = _(
                    "满意度调查：问题%(solved)s（结果 %(outcome)d/5，过程 %(handling)d/5），按规则“%(rule)s”重开。"
                ) % {
                    "solved": Solved(answer.solved).label,
                    "outcome": answer.outcome,
                    "handling": answer.handling,
                    "rule": rule.name,
                }
                try:
                    with transaction.atomic():
                        reopen(complaint, actor=Actor.consumer(), reason=reason)
                    result = "reopened"
                except TransitionNotAllowed:
                    result = "callback"  # the window closed meanwhile
        if rule is not None and result == "callback":
            create_callback(
                complaint,
                source=CallbackSource.SURVEY,
                reason=_("满意度跟进：%(rule)s") % {"rule": rule.name},
            )
        answer.rule = rule
        answer.rule_result = result
        answer.rules_applied_at = _now()
        answer.save(update_fields=["rule", "rule_result", "rules_applied_at"])
    return result


# How long an answer waits for its after-commit rule run before the job takes it over.
RULES_GRACE = timedelta(minutes=5)


def apply_pending_survey_rules(now: datetime | None = None) -> dict[str, int]:
    """Part of the periodic job send_due_surveys: apply the rules of answers older than RULES_GRACE
    whose rules have not run (the worker that should have run them after commit was lost)."""
    now = now or _now()
    pending = list(
        SurveyAnswer.objects.filter(rules_applied_at__isnull=True, answered_at__lte=now - RULES_GRACE)
        .order_by("answered_at", "id")
        .values_list("complaint_id", flat=True)[:500]
    )
    applied = 0
    for complaint_id in pending:
        if apply_survey_rules(complaint_id):
            applied += 1
    return {"applied": applied}


# --- call-backs --------------------------------------------------------------------------------


def sample_hit(tracking_no: str, seed: str, percent: Decimal) -> bool:
    """A stable pseudo-random choice: the same case and seed always give the same answer, and over
    many cases about `percent` % are chosen."""
    digest = hashlib.sha256(f"{seed}:{tracking_no}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < int(Decimal(percent) * 100)


def _has_compensation(complaint: Complaint) -> bool:
    from resolutions.choices import RemedyStatus
    from resolutions.models import Remedy

    return Remedy.objects.filter(complaint_id=complaint.pk, status=RemedyStatus.PAID, amount__gt=0).exists()


def choose_callback_rule(complaint: Complaint, rules: list[CallbackRule] | None = None) -> CallbackRule | None:
    """The first active rule that chooses this case, or None."""
    compensation: bool | None = None
    for rule in rules if rules is not None else CallbackRule.objects.filter(active=True):
        if rule.kind == CallbackRuleKind.PRIORITY and complaint.priority in (rule.priorities or []):
            return rule
        if rule.kind == CallbackRuleKind.COMPENSATION:
            if compensation is None:
                compensation = _has_compensation(complaint)
            if compensation:
                return rule
        if rule.kind == CallbackRuleKind.SAMPLE and sample_hit(complaint.tracking_no, rule.seed, rule.percent):
            return rule
    return None


def _assignee(complaint: Complaint) -> User | None:
    if complaint.owner_id and complaint.owner is not None and complaint.owner.is_active:
        return complaint.owner
    # _supervisors is a DISTINCT join with no ORDER BY: on PostgreSQL its order is arbitrary, so pick
    # by id for the same assignee every time.
    supervisors = sorted(_supervisors(complaint), key=lambda user: user.pk)
    return supervisors[0] if supervisors else None


def create_callback(
    complaint: Complaint,
    *,
    source: str,
    reason: str,
    rule: CallbackRule | None = None,
    closed_at: datetime | None = None,
) -> Callback:
    start = closed_at or complaint.closed_at or _now()
    return Callback.objects.create(
        complaint=complaint,
        assignee=_assignee(complaint),
        due_at=start + timedelta(days=settings.COMPLAINTDESK_CALLBACK_DUE_DAYS),
        source=source,
        rule=rule,
        reason=reason[:200],
    )


def plan_callback(complaint_id: int) -> Callback | None:
    """At closing: a call-back when a rule chooses the case (and none is open for it already)."""
    complaint = Complaint.objects.select_related("owner").filter(pk=complaint_id).first()
    if complaint is None or complaint.status != Status.CLOSED:
        return None
    if Callback.objects.filter(complaint_id=complaint_id, status=CallbackStatus.OPEN).exists():
        return None
    rule = choose_callback_rule(complaint)
    if rule is None:
        return None
    return create_callback(complaint, source=CallbackSource.RULE, reason=rule.name, rule=rule)


@dataclass
class Outcome:
    reached: bool
    satisfied: bool | None
    note: str
    new_issue: str


def check_outcome(reached: Any, satisfied: Any, note: Any, new_issue: Any) -> Outcome:
    errors: dict[str, str] = {}
    if not isinstance(reached, bool):
        errors["reached"] = _("请选择是否联系上投诉人。")
    if reached is True and not isinstance(satisfied, bool):
        errors["satisfied"] = _("联系上时请选择投诉人是否满意。")
    texts: dict[str, str] = {}
    for field, value, maximum in (("note", note, NOTE_MAX), ("new_issue", new_issue, NOTE_MAX)):
        text = str(value or "").strip()
        if CONTROL.search(text):
            errors[field] = _("含有不允许的控制字符。")
        elif len(text) > maximum:
            errors[field] = _("内容过长（最多 %(n)d 字）。") % {"n": maximum}
        texts[field] = text
    if texts["new_issue"]:
        if reached is not True:
            errors["new_issue"] = _("只有联系上投诉人时才能登记新问题。")
        elif len(texts["new_issue"]) < NEW_ISSUE_MIN:
            errors["new_issue"] = _("新问题的描述至少 %(n)d 个字。") % {"n": NEW_ISSUE_MIN}
    if errors:
        raise ValidationError(errors)
    return Outcome(bool(reached), satisfied if reached else None, texts["note"], texts["new_issue"])


def _open_linked_complaint(original: Complaint, text: str, actor: Actor) -> Complaint:
    """The new issue as a staff-registered complaint on the phone channel, same complainant."""
    from complaints.actions import submit
    from complaints.intake import IntakeData, check_intake

    description = _("%(text)s\n\n（回访中提出的新问题，原投诉编号 %(no)s）") % {
        "text": text,
        "no": original.tracking_no,
    }
    data = IntakeData(
        complainant_name=original.complainant_name,
        complainant_phone=original.complainant_phone,
        complainant_email=original.complainant_email,
        complainant_address=original.complainant_address,
        preferred_contact=original.preferred_contact,
        org_unit=original.org_unit_id,
        description=description[:10_000],
        language=original.language if original.language in ("zh-hans", "en") else "zh-hans",
        channel=Channel.PHONE,
        product_name=original.product_name,
        product_sku=original.product_sku,
        product_model=original.product_model,
    )
    complaint, _access_code = submit(check_intake(data, staff=True), actor=actor)
    return complaint


def record_callback(callback: Callback, *, actor: Actor, outcome: Outcome) -> Callback:
    """The outcome of one call: not reached (an attempt counted, the call-back stays open for a retry)
    or reached (satisfied or not, a note, and maybe a new issue opening a linked complaint)."""
    from .selectors import may_record_callback

    if actor.kind != "staff" or not may_record_callback(actor.user, callback):
        raise PermissionDenied(_("只有回访负责人、投诉负责人或其主管可以登记回访结果。"))
    with transaction.atomic():
        case = _lock(callback.complaint_id)
        locked = Callback.objects.select_for_update(of=("self",)).get(pk=callback.pk)
        if locked.status != CallbackStatus.OPEN:
            raise ValidationError(
                "callback", _("该回访已%(status)s，不能再登记结果。") % {"status": locked.get_status_display()}
            )
        if case.status in (Status.ARCHIVED, Status.MERGED):
            raise TransitionNotAllowed("record_callback", case.status, [], _("投诉已归档或已合并，不能再登记回访。"))
        now = _now()
        locked.attempts += 1
        locked.last_attempt_at = now
        locked.reached = outcome.reached
        if outcome.note:
            locked.note = outcome.note
        if outcome.reached:
            locked.satisfied = outcome.satisfied
            locked.status = CallbackStatus.DONE
            locked.completed_at = now
            locked.completed_by = actor.user
            if outcome.new_issue:
                locked.linked_complaint = _open_linked_complaint(case, outcome.new_issue, actor)
        locked.save()
        data = {
            "callback_id": locked.pk,
            "reached": outcome.reached,
            "satisfied": outcome.satisfied,
            "attempts": locked.attempts,
            "linked_tracking_no": locked.linked_complaint.tracking_no if locked.linked_complaint_id else None,
        }
        _record_on_case(case.pk, actor, "record_callback", data, {"note": outcome.note, "new_issue": outcome.new_issue})
    return locked


# --- personal data (privacy app) -------------------------------------------------------------------


def erase_personal(customer_id: int) -> dict[str, int]:
    """Blank what people said (survey comments, call-back notes) on the customer's cases; the scores
    and outcomes stay for the statistics."""
    comments = SurveyAnswer.objects.filter(complaint__customer_id=customer_id).exclude(comment="").update(comment="")
    notes = Callback.objects.filter(complaint__customer_id=customer_id).exclude(note="").update(note="")
    return {"survey_comments": comments, "callback_notes": notes}
