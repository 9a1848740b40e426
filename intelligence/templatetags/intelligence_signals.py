"""{% case_signals complaint masked as signals %} for the case page's intelligence section."""

from typing import Any

from django import template

from ..selectors import signals_for

register = template.Library()


@register.simple_tag
def case_signals(complaint: Any, masked: bool = False) -> dict[str, Any] | None:
    return signals_for(complaint, masked=bool(masked))


@register.simple_tag(takes_context=True)
def similar_cases(context: Any, complaint: Any) -> dict[str, Any] | None:
    """The similar-cases panel's data, for open cases only (a closed case needs no precedent)."""
    from complaints.choices import OPEN_STATES

    from ..similar import similar_for

    request = context.get("request")
    if request is None or complaint.status not in OPEN_STATES:
        return None
    return similar_for(complaint, request.user)
