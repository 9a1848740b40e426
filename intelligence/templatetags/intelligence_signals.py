"""{% case_signals complaint masked as signals %} for the case page's intelligence section."""

from typing import Any

from django import template

from ..selectors import signals_for

register = template.Library()


@register.simple_tag
def case_signals(complaint: Any, masked: bool = False) -> dict[str, Any] | None:
    return signals_for(complaint, masked=bool(masked))
