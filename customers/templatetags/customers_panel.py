"""The case page's customer panel: {% customers_panel %} in complaints/case.html."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("customers/_panel.html", takes_context=True)
def customers_panel(context: Any) -> dict[str, Any]:
    from customers.access import may_search
    from customers.selectors import panel_for

    complaint = context.get("complaint")
    request = context.get("request")
    if complaint is None or request is None:
        return {}
    return {"p": panel_for(complaint, request.user), "may_open": may_search(request.user)}
