"""Security headers for the pages: a strict Content-Security-Policy (everything from this site, no
inline script), a referrer policy, a permissions policy, and a cross-origin resource policy; staff
pages are not stored by browsers or proxies (they hold personal data, and the back button after
logout must not show them). The Django admin keeps its own CSP defaults. Django's SecurityMiddleware
adds X-Content-Type-Options, Cross-Origin-Opener-Policy and (behind TLS) HSTS; X-Frame-Options comes
from the clickjacking middleware (docs/security.md)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


class SecurityHeaders:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.path.startswith(("/staff/", "/admin/")):
            response.setdefault("Cache-Control", "no-store")
        return response


def max_request_bytes(path: str = "") -> int:
    """The largest request body accepted: every attachment a submission may carry, at the largest
    size, plus room for the form; the admin's bulk-import upload may be larger, on its own path."""
    limit = settings.COMPLAINTDESK_ATTACHMENTS_MAX * settings.COMPLAINTDESK_EVIDENCE_MAX_BYTES
    if path.startswith("/staff/imports/"):
        limit = max(limit, getattr(settings, "COMPLAINTDESK_IMPORT_MAX_BYTES", 0))
    return limit + 2 * 1024 * 1024


class RequestSizeLimit:
    """Refuse an oversized body from its Content-Length, before Django spools it to disk: uploads
    are checked file by file later, but a huge request would fill the disk first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = max_request_bytes(request.path)
        if length > limit:
            message = _("请求过大（上限 %(mb)d MB）。") % {"mb": limit // (1024 * 1024)}
            return JsonResponse({"error": "too_large", "message": message}, status=413)
        return self.get_response(request)
