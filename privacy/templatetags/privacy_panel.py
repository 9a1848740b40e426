"""The case page's privacy panel: {% privacy_panel %} in complaints/case.html. A link to the
complainant's personal-information page for those who handle PIPL requests; nothing for others.
No queries: the roles are read once per request (Principal) and the customer id is on the case."""

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("privacy/_panel.html", takes_context=True)
def privacy_panel(context: Any) -> dict[str, Any]:
    from privacy.access import may_handle

    complaint = context.get("complaint")
    request = context.get("request")
    if complaint is None or request is None or complaint.customer_id is None or not may_handle(request.user):
        return {"show": False}
    return {"show": True, "customer_id": complaint.customer_id}
