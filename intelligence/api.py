"""The predictions of a case over the staff API (every role that sees the case may read them)."""

from typing import Any

from django.http import HttpRequest
from ninja import Router

from complaints.api import StaffSession, TokenAuth, _user
from complaints.permissions import get_complaint_for_user

from .selectors import predictions_for

router = Router(tags=["intelligence"], auth=[TokenAuth(), StaffSession()])


@router.get("/complaints/{tracking_no}/predictions", summary="What the classifiers predicted for the case")
def list_predictions(request: HttpRequest, tracking_no: str) -> list[dict[str, Any]]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    return [
        {k: p[k] for k in ("target", "label", "label_display", "confidence", "applied", "corrected", "corrected_to")}
        for p in predictions_for(complaint)
    ]


@router.get("/complaints/{tracking_no}/signals", summary="Risk phrases, sentiment, complainant type, priority")
def case_signals(request: HttpRequest, tracking_no: str) -> dict[str, Any]:
    """What the case's text says (read at intake). 404 until it has been read. The clause around each
    risk phrase is left out for roles that see personal data masked."""
    from django.http import Http404

    from complaints.permissions import Principal

    from .selectors import signals_for

    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    found = signals_for(complaint, masked=Principal.of(user).masked_for(complaint))
    if found is None:
        raise Http404("signals not read yet")
    return found


@router.get("/complaints/{tracking_no}/similar", summary="The most similar resolved cases and likely duplicates")
def similar_cases(request: HttpRequest, tracking_no: str) -> dict[str, Any]:
    """Up to five resolved cases most similar to this one (with their remedies and outcomes) and open
    cases similar enough to be duplicates: only cases the user may see."""
    from .similar import similar_for

    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    found = similar_for(complaint, user)
    for group in ("resolved", "duplicates"):
        for row in found[group]:
            row["received_at"] = row["received_at"].isoformat()
    return found
