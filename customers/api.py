"""Customer profiles over the API (staff: token or session), with the rules of the profile page
(customers.access): GET /customers?q= (rows masked for everyone) and GET /customers/{id} (404 for
a profile the user may not open, as for a missing one; 403 only for roles that never open
profiles). An unmasked profile is a view_personal event on each of the person's cases
(privacy.audit)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from complaints.api import StaffSession, TokenAuth
from core.validation import CleanText

from . import selectors
from .access import may_search, profile_or_404
from .views import _masked_searcher, load_profile

router = Router(tags=["customers"], auth=[TokenAuth(), StaffSession()])


class SearchIn(Schema):
    q: CleanText = Field("", max_length=100)


def _searcher(request: HttpRequest) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    if not may_search(user):
        raise PermissionDenied(_("您不能查看客户档案。"))
    return user


@router.get("/customers", summary="Find customer profiles by name, phone, e-mail or customer number")
def list_customers(request: HttpRequest, filters: Query[SearchIn]) -> list[dict[str, Any]]:
    user = _searcher(request)
    masked = _masked_searcher(user)
    # Masked for everyone, as on the page: the full details come with the (recorded) profile.
    return selectors.list_rows(list(selectors.search(user, filters.q, masked=masked)))


@router.get("/customers/{customer_id}", summary="A customer profile (客户档案)")
def get_customer(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    user = _searcher(request)
    customer, access = profile_or_404(user, customer_id)
    return selectors.profile_json(load_profile(user, customer, access))
