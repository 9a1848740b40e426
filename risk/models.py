"""Risk assessment (DESIGN.md §8): the band edges of each measure (admin-configurable), the daily
snapshots per subject, the run that wrote them, and the alerts raised when a subject's level rises."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import Measure, RiskLevel, SubjectKind


class RiskThreshold(models.Model):
    """The four edges that cut one measure into bands 1–5. A value at or above edge n is in band n + 1
    (for satisfaction, where lower is worse, the bands count down). Edges rise strictly."""

    measure = models.CharField(_("指标"), max_length=20, choices=Measure.choices, unique=True)
    edge_1 = models.FloatField(_("第 1 边界"))
    edge_2 = models.FloatField(_("第 2 边界"))
    edge_3 = models.FloatField(_("第 3 边界"))
    edge_4 = models.FloatField(_("第 4 边界"))
    updated_at = models.DateTimeField(_("修改时间"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("风险阈值")
        verbose_name_plural = pgettext_lazy("plural", "风险阈值")
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.get_measure_display())

    @property
    def edges(self) -> tuple[float, float, float, float]:
        return (self.edge_1, self.edge_2, self.edge_3, self.edge_4)


class RiskRun(models.Model):
    """One day's assessment (the job runs once a day; a second run the same day does nothing)."""

    day = models.DateField(primary_key=True)  # the day of the run, organisation time zone
    window_from = models.DateField()  # inclusive
    window_to = models.DateField()  # inclusive: the day before `day`
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    assessed = models.PositiveIntegerField(default=0)  # subjects with a level
    not_assessed = models.PositiveIntegerField(default=0)  # subjects with too few cases
    alerts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]


class RiskAssessment(models.Model):
    """One subject's snapshot on one day: its measures, their bands, probability, impact and level."""

    day = models.DateField()
    kind = models.CharField(max_length=20, choices=SubjectKind.choices)
    key = models.CharField(max_length=200)  # the product key, the org unit's id, the department's code
    label = models.CharField(max_length=200)
    # For the readers' scope (managers: their units' subtrees; supervisors: their departments).
    org_unit = models.ForeignKey("accounts.OrgUnit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    window_from = models.DateField()
    window_to = models.DateField()
    cases = models.PositiveIntegerField()  # received in the window (merged duplicates left out)
    previous_cases = models.PositiveIntegerField()  # received in the window before
    assessed = models.BooleanField()  # False: fewer than COMPLAINTDESK_RISK_MIN_CASES cases
    probability = models.PositiveSmallIntegerField(null=True)  # 1–5
    impact = models.PositiveSmallIntegerField(null=True)  # 1–5
    level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    # {measure: {"value": float | None, "band": int | None, "edges": [4 floats], "note": code}} and the
    # inputs behind them (orders, revenue, compensation, handling cost).
    measures = models.JSONField(default=dict)
    inputs = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day", "kind", "key"]
        constraints = [models.UniqueConstraint(fields=["day", "kind", "key"], name="risk_assessment_one_per_day")]
        indexes = [models.Index(fields=["kind", "key", "day"]), models.Index(fields=["day", "level"])]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.label}: {self.level or '—'}"

    @property
    def score(self) -> int | None:
        return self.probability * self.impact if self.probability and self.impact else None


class RiskAlert(models.Model):
    """A subject's level went up against its previous snapshot: raised once per subject and day, with
    an in-app notice to the people responsible; open until someone acknowledges it."""

    assessment = models.OneToOneField(RiskAssessment, on_delete=models.CASCADE, related_name="alert")
    previous_level = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)  # "": not assessed
    level = models.CharField(max_length=10, choices=RiskLevel.choices)
    created_at = models.DateTimeField(default=timezone.now)
    notified = models.PositiveIntegerField(default=0)  # in-app notices sent
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)  # what the acknowledger says was done

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["acknowledged_at"])]

    def __str__(self) -> str:
        return f"{self.assessment.label}: {self.previous_level} → {self.level}"
