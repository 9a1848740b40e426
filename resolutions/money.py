"""Amounts of money as the user typed them: parsed once, with a reason a person can act on."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import ValidationError

CENT = Decimal("0.01")


def parse_amount(value: Any, field: str = "amount", *, required: bool = True) -> Decimal | None:
    """A non-negative amount with at most two decimals, not above COMPLAINTDESK_REMEDY_MAX_AMOUNT."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(field, _("请填写金额。"))
        return None
    if isinstance(value, bool) or isinstance(value, float):
        value = str(value)  # a JSON number: its decimal text, not its binary value
    try:
        amount = Decimal(value.strip().replace(",", "") if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(field, _("金额应为数字，例如 199.00。")) from None
    if not amount.is_finite():
        raise ValidationError(field, _("金额应为数字，例如 199.00。"))
    if amount < 0:
        raise ValidationError(field, _("金额不能为负数。"))
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(CENT):  # type: ignore[operator]
        raise ValidationError(field, _("金额最多两位小数。"))
    maximum = Decimal(settings.COMPLAINTDESK_REMEDY_MAX_AMOUNT)
    if amount > maximum:
        raise ValidationError(field, _("金额超过上限 %(max)s。") % {"max": f"{maximum:,.2f}"})
    return amount.quantize(CENT)
