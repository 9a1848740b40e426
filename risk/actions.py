"""The writes of the risk app: the daily assessment (snapshots and alerts), the thresholds, and the
acknowledgement of an alert."""

import math
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import Membership, Notification, User
from core.errors import TransitionNotAllowed, ValidationError

from . import assess
from .choices import HIGHEST_EDGE, LEVEL_RANK, LOWEST_EDGE, Measure, RiskLevel, SubjectKind
from .models import RiskAlert, RiskAssessment, RiskRun, RiskThreshold

# A run that started this long ago and never finished (a crash, a killed worker) is taken over.
STALE_RUN = timedelta(minutes=30)
NOTE_MAX = 500


# --- the daily assessment ------------------------------------------------------------------------------


def _claim(day: date, windows: assess.Windows, force: bool) -> RiskRun | None:
    """The day's run for this worker, or None when it is done or another worker is on it."""
    start, end = windows.current
    now = timezone.now()
    if not force and RiskRun.objects.filter(day=day, finished_at__isnull=False).exists():
        return None  # the usual case: the scheduler calls the job every minute
    try:
        with transaction.atomic():
            return RiskRun.objects.create(day=day, window_from=start, window_to=end, started_at=now)
    except IntegrityError:
        pass
    run = RiskRun.objects.get(day=day)
    if run.finished_at is not None and not force:
        return None
    if run.finished_at is None and run.started_at > now - STALE_RUN:
        return None  # running elsewhere
    taken = RiskRun.objects.filter(day=day, started_at=run.started_at).update(
        started_at=now, finished_at=None, window_from=start, window_to=end
    )
    return RiskRun.objects.get(day=day) if taken else None


class _Recipients:
    """Who hears of a rise: the managers of the unit and of every unit above it (org units); the
    department's supervisors (departments); analysts and the managers of a top unit (products). When
    nobody is found, the managers of a top unit, else the analysts."""

    def __init__(self) -> None:
        self.managers: list[tuple[int, str, bool]] = [
            (user_id, path, parent_id is None)
            for user_id, path, parent_id in Membership.objects.filter(
                role=Role.MANAGER, org_unit__isnull=False, user__is_active=True
            ).values_list("user_id", "org_unit__path", "org_unit__parent_id")
        ]
        self.analysts = set(
            Membership.objects.filter(role=Role.ANALYST, user__is_active=True).values_list("user_id", flat=True)
        )

    def of(self, assessment: RiskAssessment) -> list[int]:
        if assessment.kind == SubjectKind.ORG_UNIT:
            path = assessment.org_unit.path if assessment.org_unit_id else "\0"
            users = {uid for uid, unit_path, _top in self.managers if path.startswith(unit_path)}
        elif assessment.kind == SubjectKind.DEPARTMENT:
            users = set(
                Membership.objects.filter(
                    role=Role.SUPERVISOR, department_id=assessment.department_id, user__is_active=True
                ).values_list("user_id", flat=True)
            )
        else:
            users = self.analysts | {uid for uid, _path, top in self.managers if top}
        if not users:
            # Nobody holds the subject (a department without a supervisor): the organisation's managers
            # hear of it, else the analysts, so that no rise goes unheard.
            users = {uid for uid, _path, top in self.managers if top} or set(self.analysts)
        return sorted(users)


def _notify(alert: RiskAlert, recipients: list[int]) -> int:
    a = alert.assessment
    with translation.override(settings.LANGUAGE_CODE):
        message = _(
            "风险等级上升：%(kind)s“%(label)s”由%(before)s升为%(after)s"
            "（%(day)s 评估，近 %(days)d 天 %(cases)d 件投诉）。"
        ) % {
            "kind": a.get_kind_display(),
            "label": a.label,
            "before": RiskLevel(alert.previous_level).label if alert.previous_level else _("未评估"),
            "after": RiskLevel(alert.level).label,
            "day": a.day.isoformat(),
            "days": (a.window_to - a.window_from).days + 1,
            "cases": a.cases,
        }
    Notification.objects.bulk_create(
        [Notification(recipient_id=uid, kind="risk_level_rose", message=message[:500]) for uid in recipients]
    )
    return len(recipients)


def _store(run: RiskRun, figures: assess.Figures, scored: assess.Scored) -> RiskAssessment:
    start, end = run.window_from, run.window_to
    assessment, _created = RiskAssessment.objects.update_or_create(
        day=run.day,
        kind=figures.kind,
        key=figures.key,
        defaults={
            "label": figures.label,
            "org_unit_id": figures.org_unit_id,
            "department_id": figures.department_id,
            "window_from": start,
            "window_to": end,
            "cases": figures.cases,
            "previous_cases": figures.previous_cases,
            "assessed": scored.assessed,
            "probability": scored.probability,
            "impact": scored.impact,
            "level": scored.level,
            "measures": scored.measures,
            "inputs": scored.inputs,
        },
    )
    return assessment


def _last_assessed_level(assessment: RiskAssessment) -> str:
    """The subject's level in its latest assessed snapshot before this one's day ("" if never assessed)."""
    return (
        RiskAssessment.objects.filter(kind=assessment.kind, key=assessment.key, day__lt=assessment.day, assessed=True)
        .order_by("-day")
        .values_list("level", flat=True)
        .first()
        or ""
    )


def _raise_if_rose(
    assessment: RiskAssessment, before: dict[tuple[str, str], str] | None, recipients: _Recipients
) -> bool:
    """An alert when the level is above the subject's last known level: its level in the previous run,
    or, when the previous run did not assess it (too few cases, or none), its latest assessed level
    before that; a subject never assessed counts as low. Comparing with the last known level keeps a
    subject whose case count hovers around the minimum from raising an alert each time it comes back
    at the level it had. None for `before`: no earlier run, nothing to compare."""
    if before is None or not assessment.assessed:
        return False
    previous = before.get((assessment.kind, assessment.key), "")
    if LEVEL_RANK[assessment.level] <= LEVEL_RANK.get(previous, 1):
        return False
    if not previous:  # not assessed in the previous run: its last known level, if any (rare: one query)
        previous = _last_assessed_level(assessment)
        if LEVEL_RANK[assessment.level] <= LEVEL_RANK.get(previous, 1):
            return False
    alert, created = RiskAlert.objects.get_or_create(
        assessment=assessment, defaults={"previous_level": previous, "level": assessment.level}
    )
    if not created:
        return False  # raised by an earlier run of the same day: once only
    alert.notified = _notify(alert, recipients.of(assessment))
    alert.save(update_fields=["notified"])
    return True


def assess_all(*, day: date | None = None, force: bool = False) -> dict[str, int]:
    """The daily job: snapshot every subject for `day` (today in the organisation's time zone) over the
    window that ends the day before, and raise an alert for each subject whose level rose since the
    previous run. Runs once a day ({"done": 1} afterwards; {"busy": 1} while another worker runs it);
    `force` runs it again (the day's rows are updated in place, and no alert is raised twice).
    Returns the counts of subjects assessed, not assessed (too few cases) and alerts raised."""
    day = day or timezone.localdate()
    windows = assess.Windows(day, assess.window_days())
    run = _claim(day, windows, force)
    if run is None:
        finished = RiskRun.objects.filter(day=day, finished_at__isnull=False).exists()
        return {"done": 1} if finished else {"busy": 1}
    edges = assess.thresholds()
    figures = assess.gather(windows)
    previous_run = RiskRun.objects.filter(day__lt=day, finished_at__isnull=False).order_by("-day").first()
    before = (
        None
        if previous_run is None
        else {
            (k, key): level
            for k, key, level in RiskAssessment.objects.filter(day=previous_run.day, assessed=True).values_list(
                "kind", "key", "level"
            )
        }
    )
    recipients = _Recipients()
    counts = {"assessed": 0, "not_assessed": 0, "alerts": 0}
    written: set[tuple[str, str]] = set()
    for subject in figures:
        scored = assess.score(subject, edges)
        with transaction.atomic():
            assessment = _store(run, subject, scored)
            counts["alerts"] += _raise_if_rose(assessment, before, recipients)
        counts["assessed" if scored.assessed else "not_assessed"] += 1
        written.add((subject.kind, subject.key))
    # A forced run again the same day: subjects that no longer have cases in the window go (unless an
    # alert was raised on them: it stays with its snapshot).
    stale = [
        pk
        for pk, kind, key in RiskAssessment.objects.filter(day=day, alert__isnull=True).values_list("pk", "kind", "key")
        if (kind, key) not in written
    ]
    RiskAssessment.objects.filter(pk__in=stale).delete()
    RiskRun.objects.filter(day=day).update(finished_at=timezone.now(), **counts)
    return counts


# --- thresholds ---------------------------------------------------------------------------------------


def field_name(measure: str, n: int) -> str:
    """The form (and error) name of a measure's n-th edge, e.g. "satisfaction_3"."""
    return f"{measure}_{n}"


def check_thresholds(raw: dict[str, Any]) -> dict[str, tuple[float, float, float, float]]:
    """Validate the edges of every measure given in `raw` ({"trend_1": "-0.1", …}): four numbers per
    measure, each larger than the one before (bands may not overlap), within the measure's range.
    Errors name the field."""
    errors: dict[str, str] = {}
    clean: dict[str, tuple[float, float, float, float]] = {}
    for measure in Measure.values:
        names = [field_name(measure, n) for n in range(1, 5)]
        if not any(name in raw for name in names):
            continue
        values: list[float | None] = []
        for name in names:
            text = str(raw.get(name, "")).strip().replace("，", ".")
            value: float | None = None
            if not text:
                errors[name] = _("此项必填。")
            else:
                try:
                    value = float(text)
                    if not math.isfinite(value):
                        raise ValueError
                except ValueError:
                    errors[name] = _("应为数字。")
                    value = None
            if value is not None:
                low, high = LOWEST_EDGE.get(Measure(measure), 0.0), HIGHEST_EDGE.get(Measure(measure))
                if value < low:
                    errors[name] = _("不能小于 %(low)s。") % {"low": f"{low:g}"}
                elif high is not None and value > high:
                    errors[name] = _("不能大于 %(high)s（以小数表示比例，例如 0.8 表示 80%%）。") % {
                        "high": f"{high:g}"
                    }
            values.append(value)
        for n in range(1, 4):
            lower, upper = values[n - 1], values[n]
            if lower is not None and upper is not None and upper <= lower and names[n] not in errors:
                errors[names[n]] = _("必须大于第 %(n)d 个边界（%(value)s）：边界须逐级上升，各档不能重叠。") % {
                    "n": n,
                    "value": f"{lower:g}",
                }
        if all(v is not None for v in values):
            clean[measure] = tuple(values)  # type: ignore[assignment]
    if errors:
        raise ValidationError(errors)
    if not clean:
        raise ValidationError("__all__", _("没有提交任何阈值。"))
    return clean


def save_thresholds(clean: dict[str, tuple[float, float, float, float]], *, actor: User) -> list[RiskThreshold]:
    """Write checked edges (check_thresholds); they apply from the next assessment."""
    saved = []
    with transaction.atomic():
        for measure, edges in clean.items():
            row, _created = RiskThreshold.objects.select_for_update().get_or_create(
                measure=measure,
                defaults=dict(zip(("edge_1", "edge_2", "edge_3", "edge_4"), edges, strict=True)),
            )
            if row.edges != edges:
                row.edge_1, row.edge_2, row.edge_3, row.edge_4 = edges
                row.updated_at = timezone.now()
                row.updated_by = actor
                row.save(update_fields=["edge_1", "edge_2", "edge_3", "edge_4", "updated_at", "updated_by"])
            saved.append(row)
    return saved


# --- alerts -------------------------------------------------------------------------------------------


def acknowledge(alert: RiskAlert, *, actor: User, note: str = "") -> RiskAlert:
    """Mark an open alert seen (and what was done about it). Access is checked by the caller."""
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ValidationError("note", _("过长：最多 %(max_length)s 个字符。") % {"max_length": NOTE_MAX})
    with transaction.atomic():
        locked = RiskAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.acknowledged_at is not None:
            raise TransitionNotAllowed("acknowledge", "acknowledged", [], reason=_("此预警已被确认，无需再次确认。"))
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.note = note
        locked.save(update_fields=["acknowledged_at", "acknowledged_by", "note"])
    return locked
