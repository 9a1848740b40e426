"""Prediction at intake and the agents' corrections, run from complaints.tasks.after_event (after
commit, in the worker)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from core.errors import DomainError

from . import engine
from .choices import APPLICABLE_TARGETS
from .models import ClassifierModel, Prediction

log = logging.getLogger("complaintdesk.intelligence")

# The Complaint attribute each case target compares with (ledger events name fields by attname).
_ATTNAMES = {
    "category": "category_id",
    "subcategory": "subcategory_id",
    "priority": "priority",
    "department": "department_id",
}


def threshold() -> float:
    return float(getattr(settings, "COMPLAINTDESK_AUTO_APPLY_CONFIDENCE", 0.85))


def case_text(complaint: Any) -> str:
    return "\n".join(part for part in (complaint.title, complaint.description) if part)


def predict_for(complaint_id: int) -> list[Prediction]:
    """At intake: each active model predicts, and the text is read for signals (read_signals). At or
    above the threshold a prediction for an empty (or default) field is applied, and risk flags found
    in the text are added, with the sentiment, by one `classify` of the system (one ledger event);
    the rest stays a suggestion shown with its confidence."""
    from complaints.choices import OPEN_STATES, Status
    from complaints.models import Complaint

    from .actions import load

    complaint = Complaint.objects.filter(pk=complaint_id).first()
    if complaint is None or Prediction.objects.filter(complaint_id=complaint_id).exists():
        return []  # gone, or predicted already (a retried task)
    text = case_text(complaint)
    made: dict[str, tuple[ClassifierModel, str, float]] = {}
    for model in ClassifierModel.objects.filter(active=True):
        try:
            label, confidence = engine.predict(load(model), [text])[0]
        except (engine.ModelError, OSError, ValueError) as error:
            log.error("complaint %s: model %s cannot predict: %s", complaint_id, model, error)
            continue
        if label:
            made[model.target] = (model, label, confidence)
    changes = _applicable(complaint, made) if complaint.status == Status.NEW else {}
    applied_targets = set(changes.pop("_targets", []))
    if complaint.status in OPEN_STATES:
        found = read_signals(complaint, made)
        if getattr(settings, "COMPLAINTDESK_APPLY_TEXT_SIGNALS", True):
            changes.update(found)
    if changes:
        from complaints.actions import classify
        from complaints.ledgering import Actor

        try:
            classify(complaint, actor=Actor.system(), **changes)
        except DomainError as error:  # the case moved on meanwhile, or the taxonomy changed
            log.warning("complaint %s: prediction not applied: %s", complaint_id, error)
            applied_targets = set()
    rows = [
        Prediction(
            complaint_id=complaint_id,
            target=target,
            model=model,
            label=label,
            confidence=round(confidence, 4),
            applied=target in applied_targets,
        )
        for target, (model, label, confidence) in made.items()
    ]
    try:
        with transaction.atomic():
            Prediction.objects.bulk_create(rows)
    except IntegrityError:
        return []  # another worker ran the same task
    return rows


def _applicable(complaint: Any, made: dict[str, tuple[ClassifierModel, str, float]]) -> dict[str, Any]:
    """The `classify` arguments for the confident predictions whose field is still empty/default."""
    from complaints.choices import Priority
    from complaints.models import Category

    sure = {t: label for t, (_m, label, conf) in made.items() if t in APPLICABLE_TARGETS and conf >= threshold()}
    changes: dict[str, Any] = {"_targets": []}
    category = complaint.category
    if "category" in sure and complaint.category_id is None:
        found = Category.objects.filter(code=sure["category"], parent__isnull=True, active=True).first()
        if found is not None:
            category = found
            changes["category"] = found
            changes["_targets"].append("category")
    if "subcategory" in sure and complaint.subcategory_id is None:
        sub = Category.objects.filter(code=sure["subcategory"], parent__isnull=False, active=True).first()
        if sub is not None and (category is None or sub.parent_id == category.pk):
            changes["category"] = category or sub.parent
            changes["subcategory"] = sub
            changes["_targets"].append("subcategory")
    if "priority" in sure and complaint.priority == Priority.P3 and sure["priority"] in Priority.values:
        if sure["priority"] != complaint.priority:
            changes["priority"] = sure["priority"]
            changes["_targets"].append("priority")
    if len(changes) == 1:
        return {}
    return changes


def case_value(complaint: Any, target: str) -> str:
    """The case's current value of a target, as the model's labels name it (codes for relations)."""
    if target in ("category", "subcategory", "department"):
        related = getattr(complaint, target)
        return related.code if related is not None else ""
    value = getattr(complaint, target, "")
    return "" if value is None else str(value)


def note_corrections(complaint_id: int, action: str) -> int:
    """After an agent's accept/classify/assign: a predicted field the agent set to another value is a
    correction (kept on the prediction, used by the next `--format db` training). Returns how many
    predictions changed."""
    from complaints.models import Complaint
    from ledger.models import LedgerEvent

    predictions = list(Prediction.objects.filter(complaint_id=complaint_id, target__in=list(_ATTNAMES)))
    if not predictions:
        return 0
    event = (
        LedgerEvent.objects.filter(complaint_id=complaint_id, action=action)
        .order_by("-seq")
        .only("actor", "changes")
        .first()
    )
    if event is None or not event.actor.startswith("staff:"):
        return 0  # the system's own classify (an applied prediction) corrects nothing
    complaint = Complaint.objects.select_related("category", "subcategory", "department").get(pk=complaint_id)
    user_id = int(event.actor.split(":", 1)[1])
    changed = 0
    for prediction in predictions:
        if _ATTNAMES[prediction.target] not in event.changes:
            continue  # the agent left this field alone
        value = case_value(complaint, prediction.target)
        corrected_to = "" if value == prediction.label else value
        if corrected_to == prediction.corrected_to:
            continue
        prediction.corrected_to = corrected_to
        prediction.corrected_by_id = user_id if corrected_to else None
        prediction.corrected_at = timezone.now() if corrected_to else None
        prediction.save(update_fields=["corrected_to", "corrected_by", "corrected_at"])
        changed += 1
    return changed


@task()
def train_from_cases(target: str, user_id: int | None) -> int | None:
    """Train a new version (not activated) on our own cases, the agents' corrections included."""
    from accounts.models import User

    from . import actions
    from .datasets import DataError, load

    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        data = load(None, "db", text_field=None, label_field=None, target=target)
    except DataError as error:
        log.warning("training %s from cases: %s", target, error)
        return None
    return actions.train(data, target=target, user=user, details={"format": "db"}).pk


_POSITIVE_LABELS = frozenset({"1", "pos", "positive", "正面", "好评"})
_NEGATIVE_LABELS = frozenset({"0", "-1", "neg", "negative", "负面", "差评"})


def read_signals(complaint: Any, made: dict[str, tuple[ClassifierModel, str, float]]) -> dict[str, Any]:
    """Read the case's text (intelligence.signals) and keep what it says (CaseSignals). Returns the
    `classify` arguments: the risk flags found in the text added to the case's, and the sentiment. A
    model for the target "sentiment", when an admin activated one, gives the polarity instead of the
    lexicon. Nothing when the case was read already (a retried task)."""
    from decimal import Decimal

    from complaints.models import Complaint

    from . import signals
    from .models import CaseSignals

    if CaseSignals.objects.filter(complaint_id=complaint.pk).exists():
        return {}
    repeats = 0
    if complaint.customer_id:
        repeats = Complaint.objects.filter(customer_id=complaint.customer_id).exclude(pk=complaint.pk).count()
    amount = complaint.amount_claimed or complaint.amount_paid
    result = signals.analyse(
        case_text(complaint),
        severity=complaint.severity,
        repeat_count=repeats,
        amount=float(amount) if amount is not None else None,
        vulnerable="vulnerable" in complaint.risk_flags,
        extra_flags=set(complaint.risk_flags),
    )
    mood = result["sentiment"]
    score, source = mood["score"], "lexicon"
    if "sentiment" in made:
        model, label, confidence = made["sentiment"]
        if label.lower() in _POSITIVE_LABELS | _NEGATIVE_LABELS:
            sign = 1 if label.lower() in _POSITIVE_LABELS else -1
            score = round(sign * confidence, 3)
            source = f"model:sentiment v{model.version}"
    kind, priority = result["complainant_type"], result["priority"]
    try:
        with transaction.atomic():
            CaseSignals.objects.create(
                complaint_id=complaint.pk,
                risk=result["risk"],
                flags=result["flags"],
                sentiment=score,
                sentiment_source=source,
                intensity=mood["intensity"],
                sentiment_signals=mood["signals"],
                complainant_type=kind["type"],
                type_signals=kind["signals"],
                type_scores=kind["scores"],
                priority=priority["priority"],
                priority_reasons=priority["reasons"],
            )
    except IntegrityError:
        return {}  # another worker read it first
    changes: dict[str, Any] = {"sentiment": Decimal(str(score))}
    new_flags = set(result["flags"]) - set(complaint.risk_flags)
    if new_flags:
        changes["risk_flags"] = sorted({*complaint.risk_flags, *new_flags})
    return changes
