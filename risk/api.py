"""The risk API: the latest assessments (or a past day's), the alerts, the high-risk cases, and the
acknowledgement of an alert. Same access, selectors and action as the page."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from complaints.api import StaffSession, TokenAuth
from core.errors import ValidationError
from core.http import json_response

from . import access, actions, selectors

router = Router(tags=["risk"], auth=[TokenAuth(), StaffSession()])


class AcknowledgeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=actions.NOTE_MAX)


def _reader(request: HttpRequest) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    access.check_reader(user)
    return user


def _unknown(request: HttpRequest, known: tuple[str, ...]) -> None:
    unknown = {name: _("未知的查询参数。可用：%(names)s。") % {"names": "、".join(known)} for name in request.GET}
    for name in known:
        unknown.pop(name, None)
    if unknown:
        raise ValidationError(unknown)


@router.get(
    "/risk/assessments",
    summary="The latest risk assessment per subject I may see (?day= a past run, ?kind=, ?level=), highest first",
)
def list_assessments(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    _unknown(request, ("day", "kind", "level"))
    day = selectors.parse_day(request.GET)
    wanted = selectors.parse_list_filters(request.GET)
    run = selectors.run_for(day)
    if run is None:
        return json_response({"day": None, "assessments": [], "message": _("尚无风险评估结果。")})
    rows = selectors.assessments(access.scope_of(user), run, kind=wanted["kind"], level=wanted["level"])
    return json_response(
        {
            "day": run.day.isoformat(),
            "window": {"from": run.window_from.isoformat(), "to": run.window_to.isoformat()},
            "assessments": [selectors.describe(a) for a in rows],
        }
    )


@router.get("/risk/alerts", summary="Risk alerts (a subject's level rose) I may see: ?state=open (default) or all")
def list_alerts(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    _unknown(request, ("state",))
    state = (request.GET.get("state") or "open").strip()
    if state not in ("open", "all"):
        raise ValidationError("state", _("取值无效，可选：%(expected)s。") % {"expected": "open、all"})
    rows = selectors.alerts(access.scope_of(user), open_only=state == "open")[:500]
    return json_response([selectors.describe_alert(a) for a in rows])


@router.post("/risk/alerts/{alert_id}/acknowledge", summary="Acknowledge an open alert (supervisor, manager, analyst)")
def acknowledge_alert(request: HttpRequest, alert_id: int, payload: AcknowledgeIn) -> HttpResponse:
    user = _reader(request)
    access.check_acknowledger(user)
    scope = access.scope_of(user)
    alert = selectors.alert_for(scope, alert_id)
    if alert is None:
        raise Http404
    actions.acknowledge(alert, actor=user, note=payload.note)
    refreshed = selectors.alert_for(scope, alert_id)
    assert refreshed is not None
    return json_response(selectors.describe_alert(refreshed))


@router.get(
    "/risk/cases",
    summary="Open high-risk cases I may see (risk flags, escalation ≥ L1, regulator referrals), no personal data",
)
def list_cases(request: HttpRequest) -> HttpResponse:
    user = _reader(request)
    _unknown(request, ("limit", "offset"))
    limit, offset = selectors.parse_page(request.GET)
    cases = selectors.high_risk_cases(user)
    return json_response(
        {
            "count": cases.count(),
            "limit": limit,
            "offset": offset,
            "cases": [selectors.describe_case(c) for c in cases[offset : offset + limit]],
        }
    )
