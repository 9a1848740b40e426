"""Possible duplicates over the API: list, merge (confirm), dismiss."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from pydantic import Field

from core.errors import ValidationError
from core.validation import CleanText

from . import duplicates
from .api import StaffSession, TokenAuth, Versioned, _detail_response, _expected_version, _user
from .ledgering import Actor
from .models import Complaint, DuplicateLink
from .permissions import Principal, get_complaint_for_user

router = Router(tags=["staff"], auth=[TokenAuth(), StaffSession()])


def describe(link: DuplicateLink) -> dict[str, Any]:
    return {
        "id": link.pk,
        "candidate": link.candidate.tracking_no,
        "candidate_status": link.candidate.status,
        "candidate_received_at": link.candidate.received_at.isoformat(),
        "score": float(link.score),
        "status": link.status,
        "decided_by": link.decided_by.get_username() if link.decided_by_id else None,
        "decided_at": link.decided_at.isoformat() if link.decided_at else None,
    }


def visible_links(complaint: Complaint, user: Any) -> list[DuplicateLink]:
    """The case's duplicate links whose other case this user may see too."""
    links = DuplicateLink.objects.filter(complaint=complaint).select_related("candidate", "decided_by")
    principal = Principal.of(user)
    return [link for link in links if principal.can_see(link.candidate)]


@router.get("/complaints/{tracking_no}/duplicates", summary="Possible duplicates found at intake")
def list_duplicates(request: HttpRequest, tracking_no: str) -> list[dict[str, Any]]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    return [describe(link) for link in visible_links(complaint, user)]


class MergeIn(Versioned):
    into: CleanText = Field(max_length=24)
    note: CleanText = Field("", max_length=2000)


@router.post("/complaints/{tracking_no}/merge", summary="Confirm a duplicate: fold this case into another")
def merge(request: HttpRequest, tracking_no: str, payload: MergeIn) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    expected = _expected_version(request, payload.version)
    into = Complaint.objects.visible_to(user).filter(tracking_no=payload.into.strip().upper()).first()
    if into is None:
        raise ValidationError("into", _("找不到该投诉，或您无权查看：%(no)s") % {"no": payload.into})
    updated = duplicates.merge(
        complaint, actor=Actor.staff(user), into=into, note=payload.note, expected_version=expected
    )
    return _detail_response(request, updated, user)


class DismissIn(Versioned):
    note: CleanText = Field("", max_length=2000)


@router.post("/complaints/{tracking_no}/duplicates/{link_id}/dismiss", summary="Not a duplicate")
def dismiss(request: HttpRequest, tracking_no: str, link_id: int, payload: DismissIn) -> dict[str, Any]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    link = next((link for link in visible_links(complaint, user) if link.pk == link_id), None)
    if link is None:
        raise Http404
    return describe(duplicates.dismiss(link, actor=Actor.staff(user), note=payload.note))
