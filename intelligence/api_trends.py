"""Forecast and spikes over the staff API: supervisors, managers, analysts, auditors and admins
(intelligence.forecast.trend_scope decides whose cases the counts are made of)."""

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from complaints.api import StaffSession, TokenAuth
from core.errors import ValidationError
from core.validation import CleanText

from . import forecast
from .models import TrendDimension

router = Router(tags=["intelligence"], auth=[TokenAuth(), StaffSession()])


class ForecastQuery(Schema):
    model_config = ConfigDict(extra="forbid")
    dimension: TrendDimension = TrendDimension.TOTAL
    value: CleanText = Field("", max_length=200)
    days: int = Field(forecast.HORIZON_DAYS, ge=1, le=forecast.MAX_HORIZON_DAYS)


class SpikeQuery(Schema):
    model_config = ConfigDict(extra="forbid")
    status: str = Field("open", pattern="^(open|all)$")
    limit: int = Field(100, ge=1, le=500)


@router.get("/intelligence/forecast", summary="Daily counts and a forecast with 80 % / 95 % intervals")
def get_forecast(request: HttpRequest, params: Query[ForecastQuery]) -> dict[str, Any]:
    """`status` is `ok`, or `not_enough_data` with a message (fewer than 14 days or 20 complaints of
    history): a valid question with no forecast yet, not an error."""
    value = params.value.strip()
    if params.dimension != TrendDimension.TOTAL and not value:
        raise ValidationError(
            {"value": _("请选择要查看的取值（维度为“%(dimension)s”时必填）。") % {"dimension": params.dimension.label}}
        )
    return forecast.forecast_for(request.auth, params.dimension, value, horizon=params.days)  # type: ignore[attr-defined]


@router.get("/intelligence/spikes", summary="Spike alerts: observed vs expected, rise, p-value, phrases")
def list_spikes(request: HttpRequest, params: Query[SpikeQuery]) -> list[dict[str, Any]]:
    alerts = forecast.alerts_for(request.auth, open_only=params.status == "open", limit=params.limit)  # type: ignore[attr-defined]
    return [forecast.alert_row(a) for a in alerts]


@router.post("/intelligence/spikes/{alert_id}/acknowledge", summary="Mark a spike alert seen")
def acknowledge_spike(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    return forecast.alert_row(forecast.acknowledge(alert_id, actor=request.auth))  # type: ignore[attr-defined]
