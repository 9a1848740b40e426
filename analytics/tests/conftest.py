"""A seeded random mix of complaints on real dates (Asia/Shanghai) and the direct queries the rollups
are checked against."""

import math
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from casework import actions as casework
from complaints import actions, calendar, duplicates
from complaints.choices import Outcome, Status
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from feedback import actions as feedback_actions
from feedback.choices import SurveyStatus
from feedback.models import Survey, SurveyAnswer
from feedback.tokens import make_token  # noqa: F401  (the round number is what answer_survey checks)
from ledger.models import LedgerEvent
from resolutions import actions as remedies
from resolutions.models import Remedy

CST = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=CST)  # a Monday
DAYS = 12


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fresh(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_related("org_unit", "owner").get(pk=complaint.pk)


class Mix:
    """Drives intakes, transitions, remedies, escalations, reopenings, merges and survey answers."""

    def __init__(self, cast: Any, org: Any, body: Any, capture: Any, seed: int = 8) -> None:
        self.cast, self.org, self.body, self.capture = cast, org, body, capture
        self.rng = random.Random(seed)
        self.cases: list[Complaint] = []

    def _travel(self, moment: datetime) -> Any:
        return time_machine.travel(moment, tick=False)

    def intake(self, n: int) -> None:
        rng = self.rng
        for _ in range(n):
            moment = START + timedelta(days=rng.randrange(DAYS), hours=rng.randrange(0, 14), minutes=rng.randrange(60))
            overrides: dict[str, Any] = {
                "category": rng.choice(["product_quality", "service", "delivery"]),
                "org_unit": rng.choice([self.org.store_sz.pk, self.org.store_bj.pk, None]),
                "product_sku": rng.choice(["KT-1001", "KT-2002", ""]),
                "channel": rng.choice(["web", "phone", "wechat"]),
            }
            if overrides["category"] == "product_quality" and rng.random() < 0.5:
                overrides["subcategory"] = "product_quality-defect"
            if overrides["org_unit"] is None:
                overrides["province_code"], overrides["city_code"], overrides["district_code"] = (
                    "110000",
                    "110100",
                    "110105",
                )
            staff = overrides["channel"] != "web"
            if staff:
                overrides["priority"] = rng.choice(["P2", "P3", "P4"])
            with self._travel(moment):
                complaint, _code = actions.submit(
                    check_intake(IntakeData(**self.body(**overrides)), staff=staff), actor=Actor.consumer()
                )
            self.cases.append(complaint)

    def advance(self) -> None:
        """One random step for every case, at a random later moment."""
        rng = self.rng
        sup, agent = Actor.staff(self.cast.supervisor), Actor.staff(self.cast.agent)
        for i, case in enumerate(self.cases):
            c = fresh(case)
            latest = (
                LedgerEvent.objects.filter(complaint=c).order_by("-seq").values_list("created_at", flat=True).first()
            )
            moment = max(latest or c.received_at, c.received_at) + timedelta(hours=rng.choice([1, 5, 20, 30, 70]))
            roll = rng.random()
            with self._travel(moment), self.capture(execute=True):
                if c.status == Status.NEW:
                    if roll < 0.1:
                        actions.reject(c, actor=sup, reason="不属于受理范围。")
                    elif roll < 0.2 and i > 0 and self.cases[i - 1].pk != c.pk:
                        into = fresh(self.cases[i - 1])
                        if into.status not in (Status.MERGED, Status.ARCHIVED):
                            duplicates.merge(c, actor=sup, into=into, note="同一投诉。")
                    elif roll < 0.85:
                        c = fresh(actions.accept(c, actor=sup))
                        if c.owner_id != self.cast.agent.pk:
                            actions.assign(c, actor=sup, owner=self.cast.agent)
                elif c.status in (Status.ACCEPTED, Status.REOPENED):
                    actions.start_work(c, actor=agent)
                    if roll < 0.25:
                        actions.escalate(fresh(c), actor=agent, reason="投诉人情绪激动。")
                        if roll < 0.1:
                            actions.de_escalate(fresh(self.cases[i]), actor=sup, reason="已安抚。")
                elif c.status == Status.IN_PROGRESS:
                    if roll < 0.4:
                        remedy = remedies.add_remedy(
                            c,
                            actor=agent,
                            kind="compensation",
                            amount=Decimal(rng.choice([50, 120, 199])),
                            description="补偿",
                        )
                        remedy = Remedy.objects.get(pk=remedy.pk)
                        if remedy.status == "approved" or (remedy.status == "proposed" and not remedy.required_steps):
                            remedies.mark_remedy_paid(remedy, actor=agent, reference=f"T{c.pk}")
                    outcome = Outcome.EXECUTED
                    c = actions.resolve(fresh(c), actor=agent, outcome=outcome, note="已处理。")
                elif c.status == Status.RESOLVED:
                    casework.send_reply(c, actor=agent, text="您好，已处理完毕。")
                    actions.close(fresh(c), actor=agent, evidence_complete=True)
                elif c.status == Status.CLOSED:
                    survey = Survey.objects.filter(complaint=c).first()
                    if roll < 0.3:
                        actions.reopen(c, actor=Actor.consumer(), reason="问题没有解决。")
                    elif (
                        survey is not None
                        and survey.status != SurveyStatus.ANSWERED
                        and not SurveyAnswer.objects.filter(complaint=c).exists()
                    ):
                        now = timezone.now()
                        Survey.objects.filter(pk=survey.pk).update(
                            status=SurveyStatus.SENT, sent_at=now, expires_at=now + timedelta(days=14)
                        )
                        survey.refresh_from_db()
                        answer = feedback_actions.check_answer(rng.randint(1, 5), rng.randint(1, 5), "yes", "")
                        feedback_actions.answer_survey(survey, survey.round, answer)


@pytest.fixture
def mix(cast, org, body, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    return Mix(cast, org, body, django_capture_on_commit_callbacks)


# --- the direct queries (the truth the rollups must equal) -------------------------------------------


def _local(moment: datetime) -> date:
    return timezone.localtime(moment, CST).date()


def direct_cases(date_from: date, date_to: date, **where: Any) -> list[Complaint]:
    cases = Complaint.objects.exclude(status=Status.MERGED).filter(**where)
    return [c for c in cases if date_from <= _local(c.received_at) <= date_to]


def _max_escalation(c: Complaint) -> int:
    level = c.escalation_level
    for changes in LedgerEvent.objects.filter(complaint=c).values_list("changes", flat=True):
        if "escalation_level" in changes:
            level = max(level, changes["escalation_level"][1])
    return level


def _p90(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[math.ceil(0.9 * len(ordered)) - 1] / 3600, 2)


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def direct_kpis(cases: list[Complaint]) -> dict[str, Any]:
    acknowledged = [c for c in cases if c.acknowledged_at]
    resolved = [c for c in cases if c.resolved_at]
    # DESIGN.md §8: resolution rate = resolved or closed with a remedy / closed, rejected and withdrawn
    # apart. "Closed" = the case is closed now (status closed, or archived after a closing); a rejected,
    # withdrawn (even after a reopening) or reopened-and-open case is not in the denominator.
    closed = [c for c in cases if c.status == Status.CLOSED or (c.status == Status.ARCHIVED and c.closed_at)]
    # reopen rate = reopened / closed, where a reopened case was closed once: every case ever closed.
    ever_closed = [c for c in cases if c in closed or c.reopen_count]
    paid = {c.pk: Remedy.objects.filter(complaint=c, status="paid") for c in cases}
    closed_resolved = [c for c in closed if c.outcome in ("accepted", "executed") or paid[c.pk].exists()]
    answers = list(SurveyAnswer.objects.filter(complaint__in=cases).values_list("outcome", flat=True))
    working = [calendar.working_hours_between(c.received_at, c.resolved_at) * 3600 for c in resolved]
    clock = [(c.resolved_at - c.received_at).total_seconds() for c in resolved]
    # Compensation: CNY only.
    compensation = sum((r.amount or 0 for c in cases for r in paid[c.pk] if r.currency == "CNY"), Decimal("0"))
    ack_in = [c for c in acknowledged if c.ack_due_at is None or c.acknowledged_at <= c.ack_due_at]
    res_in = [c for c in resolved if c.resolution_due_at is None or c.resolved_at <= c.resolution_due_at]
    return {
        "received": len(cases),
        "acknowledged": len(acknowledged),
        "ack_in_sla": len(ack_in),
        "ack_timeliness": _rate(len(ack_in), len(acknowledged)),
        "resolved": len(resolved),
        "resolved_in_sla": len(res_in),
        "resolution_timeliness": _rate(len(res_in), len(resolved)),
        "closed": len(closed),
        "ever_closed": len(ever_closed),
        "closed_resolved": len(closed_resolved),
        "closed_with_remedy": len([c for c in closed if paid[c.pk].exists()]),
        "resolution_rate": _rate(len(closed_resolved), len(closed)),
        "reopened": len([c for c in cases if c.reopen_count]),
        "reopen_rate": _rate(len([c for c in cases if c.reopen_count]), len(ever_closed)),
        "escalations": len([c for c in cases if _max_escalation(c) > 0]),
        "answers": len(answers),
        "satisfied": len([a for a in answers if a >= 4]),
        "satisfaction_rate": _rate(len([a for a in answers if a >= 4]), len(answers)),
        "handling_hours_working_mean": round(sum(working) / len(working) / 3600, 2) if working else None,
        "handling_hours_working_p90": _p90(working),
        "handling_hours_calendar_mean": round(sum(clock) / len(clock) / 3600, 2) if clock else None,
        "handling_hours_calendar_p90": _p90(clock),
        "compensation_paid": Decimal(compensation).quantize(Decimal("0.01")),
    }
