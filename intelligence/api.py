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
