from django.db import models
from django.utils.translation import gettext_lazy as _


class SubjectKind(models.TextChoices):
    """What a risk assessment is about (DESIGN.md §8: per product, unit and department)."""

    PRODUCT = "product", _("产品")  # CaseFact.product: the SKU, else the model, else the product name
    ORG_UNIT = "org_unit", _("组织单元")  # an org unit with its whole subtree
    DEPARTMENT = "department", _("部门")  # the department handling the cases


class RiskLevel(models.TextChoices):
    LOW = "low", _("低")  # probability × impact below COMPLAINTDESK_RISK_MEDIUM_FROM
    MEDIUM = "medium", _("中")  # from COMPLAINTDESK_RISK_MEDIUM_FROM, below COMPLAINTDESK_RISK_HIGH_FROM
    HIGH = "high", _("高")  # from COMPLAINTDESK_RISK_HIGH_FROM


# The order of the levels: an alert is raised when a subject's rank goes up.
LEVEL_RANK: dict[str, int] = {RiskLevel.LOW: 1, RiskLevel.MEDIUM: 2, RiskLevel.HIGH: 3}


class Measure(models.TextChoices):
    """The measures a subject is scored on; each maps to a band 1–5 by its RiskThreshold row."""

    FREQUENCY_COUNT = "frequency_count", _("投诉频次（件）")  # complaints received in the window
    FREQUENCY_RATE = "frequency_rate", _("投诉率（每万单）")  # complaints per 10,000 orders, when sales are known
    TREND = "trend", _("趋势（较前一窗口的变化）")  # relative change of the frequency against the window before
    HANDLING_HOURS = "handling_hours", _("平均处理时长（工作小时）")  # receipt → resolution, resolved cases
    SATISFACTION = "satisfaction", _("满意率")  # survey answers ≥ 4 of 5 / answers (lower is worse)
    COST_RATIO = "cost_ratio", _("维权成本率")  # (compensation + handling cost) / revenue, when revenue is known
    FLAGGED_SHARE = "flagged_share", _("高风险案件占比")  # cases with a risk flag or escalated ≥ L1 / cases


# Measures where a LOWER value is the greater risk (their bands count down).
LOWER_IS_WORSE = frozenset({Measure.SATISFACTION})
# Measures given as shares (0–1): shown as percentages, edges between 0 and 1.
SHARES = frozenset({Measure.SATISFACTION, Measure.FLAGGED_SHARE, Measure.COST_RATIO})
# The smallest edge a measure may have (a trend cannot fall by more than 100 %); None: no bound.
LOWEST_EDGE = {Measure.TREND: -1.0}
# The largest edge a measure may have.
HIGHEST_EDGE = {Measure.SATISFACTION: 1.0, Measure.FLAGGED_SHARE: 1.0, Measure.COST_RATIO: 1.0}


class Factor(models.TextChoices):
    """The two axes of the matrix, and the measures behind each (the frequency is counted or a rate)."""

    PROBABILITY = "probability", _("可能性")  # from frequency and trend
    IMPACT = "impact", _("影响")  # from handling time, satisfaction, cost ratio and the high-risk share
