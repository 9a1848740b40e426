"""Pages: the consumer's unsubscribe link (public, no login) and the staff's "retry now" button on the
case page. Thin views over notifications.service and notifications.actions."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from complaints.permissions import get_complaint_for_user
from complaints.views import _staff, case
from core import ratelimit
from core.errors import RateLimited, ValidationError

from . import actions, service
from .choices import Purpose
from .models import Delivery
from .tokens import read_token


# The token is the credential (signed, unguessable); mail programs' one-click unsubscribe (RFC 8058)
# POSTs without a CSRF token, so the check would refuse exactly the request the standard asks for.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link unsubscribes from (mail scanners open links: GET changes nothing);
    POST records the opt-out, for this kind of message or for all."""
    try:
        ratelimit.hit("optout", request, settings.COMPLAINTDESK_OPTOUT_RATE_PER_MINUTE)
    except RateLimited:
        return render(request, "notifications/unsubscribe.html", {"error": _("请求过于频繁，请稍后再试。")}, status=429)
    link = read_token(token)
    if link is None:
        return render(
            request,
            "notifications/unsubscribe.html",
            {"error": _("退订链接无效或已被修改。请使用邮件中的完整链接。")},
            status=400,
        )
    if request.method == "GET":
        return render(request, "notifications/unsubscribe.html", {"link": link, "token": token})
    scope = request.POST.get("scope", link.purpose)
    if request.POST.get("List-Unsubscribe") == "One-Click":
        scope = link.purpose
    if scope not in (link.purpose, Purpose.ALL):
        return render(
            request,
            "notifications/unsubscribe.html",
            {"link": link, "token": token, "error": _("请选择退订范围。")},
            status=400,
        )
    delivery = Delivery.objects.filter(pk=link.delivery_id).only("recipient", "channel").first()
    address, digest = "", link.address_hash
    if delivery is not None and delivery.recipient and delivery.channel == link.channel:
        from .addresses import candidate_hashes, legacy_hash

        # A link mailed under an older SECRET_KEY (or before opt-outs were keyed) still names this
        # address: record it under today's key.
        known = [
            *candidate_hashes(delivery.channel, delivery.recipient),
            legacy_hash(delivery.channel, delivery.recipient),
        ]
        if link.address_hash in known:
            address, digest = delivery.recipient, ""
    service.opt_out(link.channel, address, scope, address_hash_=digest)
    return render(request, "notifications/unsubscribe.html", {"done": True, "scope": Purpose(scope).label})


@login_required
@require_POST
def retry(request: HttpRequest, tracking_no: str, delivery_id: int) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    delivery = Delivery.objects.filter(pk=delivery_id, complaint=complaint).first()
    if delivery is None:
        raise Http404("delivery not found")
    try:
        actions.retry(delivery, user=user)
    except ValidationError as exc:
        return case(request, tracking_no, {"action": "notifications_retry", "message": "; ".join(exc.errors.values())})
    except PermissionDenied as exc:
        return case(request, tracking_no, {"action": "notifications_retry", "message": str(exc)})
    return redirect(reverse("complaints:case", args=[tracking_no]) + "#notifications")
