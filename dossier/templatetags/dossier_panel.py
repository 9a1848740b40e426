"""The case page's dossier panel: {% dossier_panel %} in complaints/case.html."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("dossier/_panel.html", takes_context=True)
def dossier_panel(context: dict[str, Any]) -> dict[str, Any]:
    from dossier.selectors import panel_for

    request = context["request"]
    timeline = context.get("timeline")
    recorded = {entry["action"] for entry in timeline} if timeline is not None else None
    return {
        "p": panel_for(context["complaint"], request.user, recorded),
        "c": context["c"],
        "error": context.get("error") or {},
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
