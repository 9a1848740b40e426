"""Churn-risk score (流失风险), 0–100, computed on read from the customer's complaints and survey
answers. Every factor is listed with its points, so that the score can be explained and argued with;
the weights are documented in docs/customers.md. Nothing is cached: the inputs change with every
case event, and the reads are two queries."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.choices import OPEN_STATES, Severity, Status

RECENT = timedelta(days=90)

# (points per item, cap for the factor)
W_RECENT = (10, 30)  # each complaint received in the last 90 days
W_SERIOUS = (10, 20)  # each recent complaint of serious severity
W_MAJOR = (15, 30)  # each recent complaint of major severity
W_OPEN = (5, 10)  # each complaint still open
W_REOPENED = (10, 20)  # each complaint reopened at least once
W_NOT_UPHELD = (10, 20)  # each complaint found unfounded or malicious (not upheld)
W_REFUSED = (10, 20)  # each complaint whose proposed remedy the consumer refused
W_EXTERNAL = (15, 30)  # each complaint taken to mediation, arbitration, court or a regulator
W_LOW_SCORE = (10, 20)  # each survey answer with outcome or handling at 2 or below
W_NOT_SOLVED = (10, 20)  # each survey answer "problem not solved"
W_PARTLY_SOLVED = (5, 10)  # each survey answer "partly solved"

HIGH, MEDIUM = 60, 30


@dataclass
class Churn:
    score: int = 0
    factors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def level(self) -> str:
        return "high" if self.score >= HIGH else "medium" if self.score >= MEDIUM else "low"

    @property
    def level_label(self) -> str:
        return {"high": _("高"), "medium": _("中"), "low": _("低")}[self.level]

    def add(self, code: str, label: str, count: int, weight: tuple[int, int]) -> None:
        if count <= 0:
            return
        points = min(count * weight[0], weight[1])
        self.factors.append({"code": code, "label": label, "count": count, "points": points})

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "level": self.level, "factors": self.factors}


# The complaint fields the score reads: a caller that has the customer's complaints loaded passes them.
COMPLAINT_FIELDS = (
    "id",
    "received_at",
    "severity",
    "status",
    "reopen_count",
    "nature",
    "refusal_reason",
    "external_route",
)


def score(complaints: list[Any], answers: list[dict[str, Any]], now: datetime | None = None) -> Churn:
    """The score from the customer's complaints (objects or dicts with COMPLAINT_FIELDS) and survey
    answers (feedback.selectors.satisfaction_for_customer)."""
    now = now or timezone.now()
    since = now - RECENT

    def get(c: Any, name: str) -> Any:
        return c[name] if isinstance(c, dict) else getattr(c, name)

    recent = [c for c in complaints if get(c, "received_at") >= since]
    churn = Churn()
    churn.add("recent", _("90 天内投诉"), len(recent), W_RECENT)
    churn.add("serious", _("90 天内严重投诉"), sum(get(c, "severity") == Severity.SERIOUS for c in recent), W_SERIOUS)
    churn.add("major", _("90 天内重大投诉"), sum(get(c, "severity") == Severity.MAJOR for c in recent), W_MAJOR)
    churn.add("open", _("未办结投诉"), sum(get(c, "status") in OPEN_STATES for c in complaints), W_OPEN)
    churn.add(
        "reopened",
        _("重开过的投诉"),
        sum(bool(get(c, "reopen_count")) or get(c, "status") == Status.REOPENED for c in complaints),
        W_REOPENED,
    )
    churn.add(
        "not_upheld",
        _("认定不成立的投诉"),
        sum(get(c, "nature") in ("unfounded", "malicious") for c in complaints),
        W_NOT_UPHELD,
    )
    churn.add("refused", _("拒绝处理方案"), sum(bool(get(c, "refusal_reason")) for c in complaints), W_REFUSED)
    churn.add(
        "external",
        _("转外部程序（调解/仲裁/诉讼/监管）"),
        sum(bool(get(c, "external_route")) for c in complaints),
        W_EXTERNAL,
    )
    low = sum(min(a.get("outcome") or 5, a.get("handling") or 5) <= 2 for a in answers)
    churn.add("low_score", _("满意度低分（≤2）"), low, W_LOW_SCORE)
    churn.add("not_solved", _("回答“问题未解决”"), sum(a.get("solved") == "no" for a in answers), W_NOT_SOLVED)
    churn.add("partly_solved", _("回答“部分解决”"), sum(a.get("solved") == "partly" for a in answers), W_PARTLY_SOLVED)
    churn.score = min(100, sum(f["points"] for f in churn.factors))
    return churn


def satisfaction_for(customer_id: int) -> list[dict[str, Any]]:
    """The feedback app's survey answers, newest first; [] while that app does not provide them."""
    try:
        from feedback.selectors import satisfaction_for_customer
    except ImportError:
        return []
    return list(satisfaction_for_customer(customer_id))


def churn_of(customer_id: int, now: datetime | None = None) -> Churn:
    from complaints.models import Complaint

    complaints = list(Complaint.objects.filter(customer_id=customer_id).values(*COMPLAINT_FIELDS))
    return score(complaints, satisfaction_for(customer_id), now)
