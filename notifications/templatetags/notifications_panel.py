"""The case page's notifications panel: {% notifications_panel %} in complaints/case.html."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("notifications/_panel.html", takes_context=True)
def notifications_panel(context: Any) -> dict[str, Any]:
    from notifications.selectors import panel_for

    complaint = context.get("complaint")
    request = context.get("request")
    if complaint is None or request is None:
        return {}
    return {
        "p": panel_for(complaint, request.user),
        "c": context.get("c"),
        "complaint": complaint,
        "error": context.get("error") or {},
        "csrf_token": context.get("csrf_token"),
        "request": request,
    }
