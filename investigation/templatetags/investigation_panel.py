"""The case page's investigation panel: {% investigation_panel %} in complaints/case.html."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("investigation/_panel.html", takes_context=True)
def investigation_panel(context: dict[str, Any]) -> dict[str, Any]:
    from investigation.selectors import panel_for

    complaint = context["complaint"]
    request = context["request"]
    timeline = context.get("timeline")
    recorded = {entry["action"] for entry in timeline} if timeline is not None else None
    return {
        "p": panel_for(complaint, request.user, recorded),
        "c": context["c"],
        "error": context.get("error") or {},
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
