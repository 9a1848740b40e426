"""Demo data for feedback: answered surveys on most closed demo cases (a realistic mix of scores,
comments in the case's language), a few sent or expired, and call-backs for the demo agents (most
open, some overdue, a couple done). Written through feedback.actions, so every answer and outcome
is on the case's ledger chain; the clock is moved to just after each case's last event.

complaints.demo calls `seed(complaints, rng)` with the after-event hooks off (no rules run)."""

import random
from datetime import datetime, timedelta

import time_machine
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.utils import timezone

from casework.models import ClosingChecklist
from complaints.choices import Status
from complaints.ledgering import Actor
from complaints.models import Complaint
from core.errors import DomainError
from ledger.models import LedgerEvent

from . import actions
from .choices import CallbackSource, SurveyStatus
from .models import Callback, Survey

_COMMENTS = {
    5: ("处理很及时，客服态度也很好，谢谢！", "Quick and friendly handling, thank you!"),
    4: ("问题解决了，就是等得有点久。", "Solved, though it took a little long."),
    3: ("结果还可以，沟通可以再主动一些。", "The outcome is acceptable; communication could be more proactive."),
    2: ("赔偿太少，和我的损失不相称。", "The compensation is too small for what I lost."),
    1: ("问题根本没有解决，非常失望。", "Nothing was solved at all. Very disappointed."),
}
_CALLBACK_NOTES = (
    ("客户表示对处理结果满意，无其他诉求。", "The customer is satisfied with the outcome; nothing else needed."),
    ("客户对新品满意，建议加快退款到账速度。", "Happy with the replacement; suggests faster refunds."),
)


def _score(rng: random.Random) -> int:
    return rng.choices([5, 4, 3, 2, 1], weights=[35, 30, 15, 12, 8])[0]


def _say(complaint: Complaint, pair: tuple[str, str]) -> str:
    return pair[1] if (complaint.language or "").startswith("en") else pair[0]


def seed(complaints: list, rng: random.Random) -> None:
    closed = [c for c in complaints if c.status == Status.CLOSED and c.closed_at is not None]
    if not closed or Survey.objects.filter(complaint__in=closed).exists():
        return
    last_event = dict(
        LedgerEvent.objects.filter(complaint__in=closed)
        .values("complaint")
        .annotate(at=Max("created_at"))
        .values_list("complaint", "at")
    )
    closings = {
        row.complaint_id: row for row in ClosingChecklist.objects.filter(complaint__in=closed).order_by("closed_at")
    }
    now = timezone.now()
    for complaint in closed:
        closing = closings.get(complaint.pk)
        if closing is None or closing.survey_due_at is None:
            continue
        last_event[complaint.pk] = _survey(
            complaint, closing, last_event.get(complaint.pk, now), now, rng
        ) or last_event.get(complaint.pk, now)
    _callbacks(closed, last_event, now, rng)


def _survey(
    complaint: Complaint, closing: ClosingChecklist, last: datetime, now: datetime, rng: random.Random
) -> datetime | None:
    due = actions.send_time(closing.survey_due_at)
    survey = Survey.objects.create(complaint=complaint, closing=closing, due_at=due)
    if due > now:
        return None  # still scheduled
    sent_at = due
    expires_at = sent_at + timedelta(days=14)
    Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.SENT, sent_at=sent_at, expires_at=expires_at)
    answer_at = max(sent_at + timedelta(hours=rng.randint(2, 96)), last + timedelta(minutes=5))
    if rng.random() < 0.8 and answer_at < min(expires_at, now):
        outcome = _score(rng)
        handling = max(1, min(5, outcome + rng.choice([-1, 0, 0, 1])))
        solved = "yes" if outcome >= 4 else ("partly" if outcome == 3 or rng.random() < 0.3 else "no")
        comment = _say(complaint, _COMMENTS[outcome]) if rng.random() < 0.7 else ""
        survey.refresh_from_db()
        with time_machine.travel(answer_at, tick=False):
            actions.answer_survey(survey, survey.round, actions.Answer(outcome, handling, solved, comment))
        return answer_at
    if expires_at < now:
        Survey.objects.filter(pk=survey.pk).update(status=SurveyStatus.EXPIRED)
    return None


def _callbacks(closed: list[Complaint], last_event: dict[int, datetime], now: datetime, rng: random.Random) -> None:
    """Call-backs where the rules choose the case (P1–P2, compensation, the sample), at least six."""
    owned = [c for c in closed if c.owner_id]
    chosen = [c for c in owned if actions.choose_callback_rule(c) is not None]
    extra = [c for c in owned if c not in chosen]
    rng.shuffle(extra)
    chosen += extra[: max(0, 6 - len(chosen))]
    for n, complaint in enumerate(chosen[:12]):
        rule = actions.choose_callback_rule(complaint)
        callback = actions.create_callback(
            Complaint.objects.select_related("owner").get(pk=complaint.pk),
            source=CallbackSource.RULE,
            reason=rule.name if rule else "抽查回访",
            rule=rule,
        )
        if n % 4 == 3:  # a couple recorded as done
            at = max(last_event.get(complaint.pk, now), complaint.closed_at) + timedelta(hours=rng.randint(2, 48))
            if at >= now or callback.assignee is None:
                continue
            try:
                with time_machine.travel(at, tick=False):
                    outcome = actions.check_outcome(True, True, _say(complaint, rng.choice(_CALLBACK_NOTES)), "")
                    actions.record_callback(callback, actor=Actor.staff(callback.assignee), outcome=outcome)
            except (DomainError, PermissionDenied):
                Callback.objects.filter(pk=callback.pk).update(status="open")
