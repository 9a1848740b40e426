"""The trends page: daily counts, the four-week forecast with its intervals, and the spike alerts.
Thin views: parse → check access (forecast.trend_scope) → the same functions as the API → render."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from complaints.permissions import Principal

from . import forecast
from .models import TrendDimension

HISTORY_SHOWN = 90  # days of history drawn before the forecast
WIDTH, HEIGHT, PAD = 840, 260, 36


@login_required
@require_GET
def trends(request: HttpRequest) -> HttpResponse:
    user = request.user
    queryset, org_wide = forecast.trend_scope(user)  # PermissionDenied for other roles
    dimension = request.GET.get("dimension", TrendDimension.TOTAL)
    if dimension not in TrendDimension.values:
        dimension = TrendDimension.TOTAL
    end = forecast.local_today()
    values = [] if dimension == TrendDimension.TOTAL else forecast.values_for(queryset, dimension, end=end)
    value = request.GET.get("value", "")[:200]
    if dimension != TrendDimension.TOTAL and value not in {v["value"] for v in values}:
        value = values[0]["value"] if values else ""
    answer = forecast.forecast_for(user, dimension, value)
    context: dict[str, Any] = {
        "dimensions": TrendDimension.choices,
        "dimension": dimension,
        "values": values,
        "value": value,
        "answer": answer,
        "chart": _chart(answer),
        "recent": list(reversed(answer["history"][-28:])),
        "alerts": forecast.alerts_for(user),
        "may_acknowledge": Principal.of(user).has(*forecast.ACKNOWLEDGE_ROLES),
        "org_wide": org_wide,
    }
    return render(request, "intelligence/trends.html", context)


@login_required
@require_POST
def acknowledge_alert(request: HttpRequest, pk: int) -> HttpResponse:
    alert = forecast.acknowledge(pk, actor=request.user)
    messages.success(request, _("已确认预警：%(label)s。") % {"label": alert.value_label})
    back = reverse("intelligence:trends")
    return redirect(f"{back}?{request.GET.urlencode()}" if request.GET else back)


def _chart(answer: dict[str, Any]) -> dict[str, Any] | None:
    """Coordinates for an inline SVG (no script: the site's CSP forbids inline scripts): the last 90
    days of counts, the forecast and its 80 % and 95 % bands."""
    history = answer["history"][-HISTORY_SHOWN:]
    future = answer["forecast"]
    if not history:
        return None
    days = len(history) + len(future)
    top = max([h["count"] for h in history] + [f["hi95"] for f in future] + [1])
    x_step = (WIDTH - 2 * PAD) / max(days - 1, 1)

    def x(i: int) -> float:
        return round(PAD + i * x_step, 1)

    def y(v: float) -> float:
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * v / top, 1)

    def points(pairs: list[tuple[float, float]]) -> str:
        return " ".join(f"{a},{b}" for a, b in pairs)

    offset = len(history)
    chart: dict[str, Any] = {
        "width": WIDTH,
        "height": HEIGHT,
        "left": PAD,
        "right": WIDTH - PAD,
        "bottom": HEIGHT - PAD,
        "top_y": PAD,
        "top": top,
        "history": points([(x(i), y(h["count"])) for i, h in enumerate(history)]),
        "first_day": history[0]["date"],
        "last_day": (future[-1] if future else history[-1])["date"],
        "label_y": HEIGHT - PAD + 16,
    }
    if future:
        forward = [(x(offset + i), f) for i, f in enumerate(future)]
        chart["band95"] = points(
            [(a, y(f["hi95"])) for a, f in forward] + [(a, y(f["lo95"])) for a, f in reversed(forward)]
        )
        chart["band80"] = points(
            [(a, y(f["hi80"])) for a, f in forward] + [(a, y(f["lo80"])) for a, f in reversed(forward)]
        )
        chart["expected"] = points([(a, y(f["expected"])) for a, f in forward])
        chart["today_x"] = x(offset)
    return chart
