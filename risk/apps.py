from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    """Risk assessment per product, org unit and department (DESIGN.md §8, docs/risk.md)."""

    name = "risk"
    verbose_name = _("风险评估")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        checks.register(check_settings, checks.Tags.compatibility)


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The level cut-offs must rise within the matrix's scores (1–25), and the window be positive."""
    from django.conf import settings

    errors: list[checks.CheckMessage] = []
    medium = getattr(settings, "COMPLAINTDESK_RISK_MEDIUM_FROM", 5)
    high = getattr(settings, "COMPLAINTDESK_RISK_HIGH_FROM", 15)
    if not (isinstance(medium, int) and isinstance(high, int) and 1 < medium < high <= 25):
        errors.append(
            checks.Error(
                "COMPLAINTDESK_RISK_MEDIUM_FROM and COMPLAINTDESK_RISK_HIGH_FROM must be integers with "
                f"1 < medium < high <= 25 (got {medium!r}, {high!r}).",
                id="risk.E001",
            )
        )
    cost = getattr(settings, "COMPLAINTDESK_RISK_HANDLING_COST_PER_HOUR", "0")
    try:
        valid_cost = Decimal(str(cost or "0")) >= 0
    except InvalidOperation:
        valid_cost = False
    if not valid_cost:
        errors.append(
            checks.Error(
                f"COMPLAINTDESK_RISK_HANDLING_COST_PER_HOUR must be a number >= 0 (got {cost!r}).", id="risk.E003"
            )
        )
    for name in ("COMPLAINTDESK_RISK_WINDOW_DAYS", "COMPLAINTDESK_RISK_MIN_CASES", "COMPLAINTDESK_RISK_MAX_SUBJECTS"):
        value = getattr(settings, name, 1)
        if not isinstance(value, int) or value < 1:
            errors.append(checks.Error(f"{name} must be a positive integer (got {value!r}).", id="risk.E002"))
    return errors
