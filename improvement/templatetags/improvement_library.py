"""{% load improvement_library %}{% improvement_library_panel complaint %} on the case page: library
entries of the case's category and of its similar cases, for open cases, in one query after the
similarity index's own lookup."""

from typing import Any

from django import template
from django.db.models import Q

register = template.Library()
PANEL_LIMIT = 8


def panel_for(complaint: Any, user: Any) -> dict[str, Any] | None:
    from complaints.choices import OPEN_STATES
    from intelligence.similar import case_text, neighbours

    from ..access import may_read_library
    from ..models import LibraryEntry

    if user is None or complaint.status not in OPEN_STATES or not may_read_library(user):
        return None
    similar = [
        pk for pk, _score in neighbours(case_text(complaint.title, complaint.description), k=50, exclude=complaint.pk)
    ]
    query = Q(source_complaint_id__in=similar) if similar else Q(pk__in=[])
    if complaint.category_id:
        query |= Q(category_id=complaint.category_id)
    rank = {pk: i for i, pk in enumerate(similar)}
    entries = list(LibraryEntry.objects.filter(query).only("pk", "title", "source_complaint_id", "category_id")[:200])
    entries.sort(key=lambda e: (rank.get(e.source_complaint_id, len(rank)), -e.pk))
    entries = entries[:PANEL_LIMIT]
    return {"entries": entries, "similar_ids": {e.pk for e in entries if e.source_complaint_id in rank}}


@register.inclusion_tag("improvement/_library_panel.html", takes_context=True)
def improvement_library_panel(context: Any, complaint: Any) -> dict[str, Any]:
    request = context.get("request")
    return {"panel": panel_for(complaint, getattr(request, "user", None))}
