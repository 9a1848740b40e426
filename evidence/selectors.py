"""Reads of evidence that pages and the API share."""

from typing import Any

from django.db.models import Q, QuerySet

from complaints.models import Complaint

from .models import Evidence


def items_for_staff(complaint: Complaint) -> QuerySet[Evidence]:
    """The case's items and those of the cases merged into it (a merge keeps each item where it was)."""
    return (
        Evidence.objects.filter(Q(complaint=complaint) | Q(complaint__merged_into=complaint))
        .select_related("complaint", "added_by_user")
        .order_by("created_at", "id")
    )


def items_for_consumer(complaint: Complaint) -> QuerySet[Evidence]:
    return Evidence.objects.filter(complaint=complaint, shown_to_consumer=True, deleted_at__isnull=True).order_by(
        "created_at", "id"
    )


def describe(item: Evidence, *, masked: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.pk,
        "tracking_no": item.complaint.tracking_no,
        "kind": item.kind,
        "kind_label": str(item.get_kind_display()),
        "sha256": item.sha256,
        "size": item.size,
        "content_type": item.content_type,
        "via": item.via,
        "added_by": item.added_by,
        "shown_to_consumer": item.shown_to_consumer,
        "created_at": item.created_at.isoformat(),
        "deleted_at": item.deleted_at.isoformat() if item.deleted_at else None,
    }
    # A file's name and description may name people: analysts see them masked.
    data["filename"] = "***" if masked else item.filename
    data["description"] = "***" if masked and item.description else item.description
    return data


def describe_for_consumer(item: Evidence) -> dict[str, Any]:
    return {
        "id": item.pk,
        "filename": item.filename,
        "kind": item.kind,
        "size": item.size,
        "content_type": item.content_type,
        "created_at": item.created_at.isoformat(),
    }
