"""The case page's feedback panel: {% feedback_panel %} in complaints/case.html."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("feedback/_panel.html", takes_context=True)
def feedback_panel(context: Any) -> dict[str, Any]:
    from feedback.selectors import panel_for

    complaint = context.get("complaint")
    request = context.get("request")
    if complaint is None or request is None:
        return {}
    p = panel_for(complaint, request.user)
    for cb in p["callbacks"]:
        cb.may_record_here = p["may_record"].get(cb.pk, False)  # type: ignore[attr-defined]
    return {"p": p, "complaint": complaint, "csrf_token": context.get("csrf_token"), "request": request}
