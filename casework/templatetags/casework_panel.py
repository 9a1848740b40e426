"""The case page's casework panel: {% casework_panel %} in complaints/case.html."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("casework/_panel.html", takes_context=True)
def casework_panel(context: Any) -> dict[str, Any]:
    from casework.selectors import panel_for

    complaint = context.get("complaint")
    request = context.get("request")
    if complaint is None or request is None:
        return {}
    # The remedies panel has loaded the case's remedies already: the checklist reuses them.
    rows = (context.get("remedies") or {}).get("rows")
    remedies = [row["remedy"] for row in rows] if isinstance(rows, list) else None
    return {
        "p": panel_for(complaint, request.user, remedies=remedies),
        "c": context.get("c"),
        "complaint": complaint,
        "error": context.get("error") or {},
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
