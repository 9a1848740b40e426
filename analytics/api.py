"""The analytics API: the KPIs and one breakdown, from the rollups; the same selectors as the page."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from complaints.api import StaffSession, TokenAuth
from core.errors import ValidationError

from .access import check_reader, scorecard_scope
from .filters import Filters
from .selectors import DIMENSIONS, breakdown, kpis

router = Router(tags=["analytics"], auth=[TokenAuth(), StaffSession()])
MAX_LIMIT = 100


def _filters(request: HttpRequest, *, skip: tuple[str, ...] = ()) -> Filters:
    check_reader(request.auth)  # type: ignore[attr-defined]
    params = request.GET.copy()
    for name in skip:
        params.pop(name, None)
    return Filters.from_query(params).scoped(request.auth)  # type: ignore[attr-defined]


def _period(filters: Filters) -> dict[str, str]:
    return {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()}


def _empty() -> dict[str, Any]:
    """An empty period is an answer, not an error: the figures are zero, and the message says why."""
    return {"empty": True, "message": _("该期间没有投诉。")}


def _plain(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if k == "compensation_paid" else v) for k, v in figures.items()}


@router.get("/analytics/kpis", summary="KPIs of the complaints received in a period (DESIGN.md §8 definitions)")
def get_kpis(request: HttpRequest) -> dict[str, Any]:
    filters = _filters(request)
    figures = kpis(filters)
    empty = _empty() if not figures["received"] else {"empty": False}
    return {"period": _period(filters), "kpis": _plain(figures), **empty}


@router.get("/analytics/breakdown", summary="The KPIs per value of one dimension")
def get_breakdown(request: HttpRequest) -> dict[str, Any]:
    filters = _filters(request, skip=("dimension", "limit"))
    dimension = (request.GET.get("dimension") or "").strip()
    errors: dict[str, str] = {}
    if dimension not in DIMENSIONS:
        errors["dimension"] = _("未知的维度。可用：%(names)s。") % {"names": "、".join(DIMENSIONS)}
    raw_limit = (request.GET.get("limit") or "20").strip()
    limit = int(raw_limit) if raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = _("应为 1 到 %(max)d 之间的整数。") % {"max": MAX_LIMIT}
    if errors:
        raise ValidationError(errors)
    if dimension == "owner":
        filters = scorecard_scope(filters, request.auth)  # type: ignore[attr-defined]
    rows = breakdown(filters, dimension, limit=limit)
    empty = _empty() if not any(r["received"] for r in rows) else {"empty": False}
    return {"period": _period(filters), "dimension": dimension, "rows": [_plain(r) for r in rows], **empty}
