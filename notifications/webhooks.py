"""Outgoing webhooks: case events told to other systems (ERP, CRM, a regulator's platform).

The body is JSON without personal data:
    {"id": "<uuid>", "event": "resolve", "occurred_at": "...", "complaint": {"tracking_no": ...,
     "status": ..., "category": ..., "priority": ..., "department": ...}}
Headers: `X-ComplaintDesk-Event`, `X-ComplaintDesk-Delivery` (the event id, the same on every retry),
`X-ComplaintDesk-Timestamp` (Unix seconds of this attempt) and `X-ComplaintDesk-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` with the subscription's secret. The receiver
recomputes it, compares in constant time and refuses old timestamps (docs/notifications.md)."""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import secrets
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils import timezone

from .choices import DeliveryStatus
from .models import WebhookDelivery, WebhookSubscription

SIGNATURE_HEADER = "X-ComplaintDesk-Signature"
TIMESTAMP_HEADER = "X-ComplaintDesk-Timestamp"
EXCERPT_MAX = 500
_AAD = b"complaintdesk.notifications.webhook"


def known_events() -> list[str]:
    """The case actions a subscription may choose: every lifecycle action, intake and the SLA clock."""
    from complaints.transitions import FROM_STATES

    return sorted({"receive", "sla_warning", "sla_breach", *FROM_STATES})


# --- the secret, encrypted at rest (like intake.webhooks, under a key of its own) ---------------


def _cipher(secret_key: str) -> AESGCM:
    return AESGCM(hashlib.sha256(f"{secret_key}:notifications-webhook-secret".encode()).digest())


def encrypt_secret(secret: str) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _cipher(settings.SECRET_KEY).encrypt(nonce, secret.encode(), _AAD)).decode()


def decrypt_secret(subscription: WebhookSubscription) -> str | None:
    """The secret, or None when no key opens it (SECRET_KEY rotated without a fallback)."""
    try:
        raw = base64.b64decode(subscription.secret_encrypted)
    except ValueError:
        return None
    for key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        try:
            return _cipher(key).decrypt(raw[:12], raw[12:], _AAD).decode()
        except (InvalidTag, ValueError):
            continue
    return None


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


# --- events ---------------------------------------------------------------------------------------


def payload(complaint: Any, event: str, event_id: str, occurred_at: Any) -> str:
    """The body: facts about the case, never the complainant's data or the case's free text."""
    return json.dumps(
        {
            "id": event_id,
            "event": event,
            "occurred_at": occurred_at.isoformat(),
            "complaint": {
                "tracking_no": complaint.tracking_no,
                "status": complaint.status,
                "category": complaint.category.code if complaint.category_id else None,
                "priority": complaint.priority,
                "department": complaint.department.code if complaint.department_id else None,
            },
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def enqueue_for(complaint: Any, action: str) -> list[WebhookDelivery]:
    """A delivery for each active subscription that chose this action; sent after commit."""
    import uuid

    from complaints.actions import enqueue_after_commit
    from ledger.models import LedgerEvent

    subscriptions = [s for s in WebhookSubscription.objects.filter(active=True) if action in (s.events or [])]
    if not subscriptions:
        return []
    recorded = (
        LedgerEvent.objects.filter(complaint=complaint, action=action)
        .order_by("-seq")
        .values_list("created_at", flat=True)
        .first()
    )
    occurred_at = recorded or timezone.now()
    made = []
    for subscription in subscriptions:
        event_id = uuid.uuid4()
        made.append(
            WebhookDelivery.objects.create(
                subscription=subscription,
                event_id=event_id,
                event=action,
                complaint=complaint,
                payload=payload(complaint, action, str(event_id), occurred_at),
                next_attempt_at=timezone.now(),
            )
        )
    from .tasks import send_webhook

    for delivery in made:
        enqueue_after_commit(send_webhook, delivery.pk)
    return made


# --- where a webhook may go (SSRF) ---------------------------------------------------------------


class AddressRefused(OSError):
    """The receiver's host resolves to an address webhooks must not reach."""


def allow_private() -> bool:
    """COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE: let webhooks reach loopback and private networks (a
    receiver inside the organisation's network, or tests on loopback). Off by default."""
    return bool(getattr(settings, "COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE", False))


def refused_reason(ip: str) -> str:
    """Why this address is off limits ('' when it is a public unicast address)."""
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if not address.is_global:  # shared (100.64/10), documentation, benchmarking ranges
        return "non-global"
    return ""


def resolve_checked(host: str, port: int) -> list[tuple[Any, ...]]:
    """getaddrinfo of the host, refused whole when any address is off limits (unless allowed)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not allow_private():
        for info in infos:
            reason = refused_reason(info[4][0])
            if reason:
                raise AddressRefused(
                    f"{host} resolves to {info[4][0]} ({reason}); set COMPLAINTDESK_WEBHOOK_ALLOW_PRIVATE to allow it"
                )
    return infos


def check_url(url: str) -> str:
    """Why this URL cannot be a receiver ('' when it may be), for the admin form. A name that does not
    resolve now is accepted: the check that counts is at each send."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.hostname:
        return "only http(s) URLs are allowed"
    try:
        resolve_checked(parsed.hostname, parsed.port or (443 if parsed.scheme.lower() == "https" else 80))
    except AddressRefused as exc:
        return str(exc)
    except (OSError, ValueError):
        return ""
    return ""


def _guarded_connect(address: tuple[str, int], timeout: Any = None, source_address: Any = None) -> socket.socket:
    """socket.create_connection, but to an address checked at this moment: the name is resolved once,
    here, and the connection goes to what was checked (no second lookup that could answer otherwise)."""
    host, port = address
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in resolve_checked(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"cannot connect to {host}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connect


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    # TLS is wrapped around the checked socket with the URL's host name: the certificate is verified
    # against the name, as usual.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connect


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(_GuardedHTTPSConnection, req, context=self._context)  # type: ignore[attr-defined]


class RedirectRefused(urllib.error.HTTPError):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed (it could lead anywhere, past the address check): the delivery fails."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise RedirectRefused(req.full_url, code, msg, headers, fp)


def _opener() -> urllib.request.OpenerDirector:
    # No proxy from the environment either: the address checked must be the one connected to.
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _GuardedHTTPHandler(), _GuardedHTTPSHandler(), _NoRedirect()
    )


def post(delivery: WebhookDelivery) -> tuple[int | None, str, str | None]:
    """One POST: (HTTP status or None, response excerpt, error or None). The receiver's address is
    checked at each send (see resolve_checked); redirects are not followed."""
    secret = decrypt_secret(delivery.subscription)
    if secret is None:
        return None, "", "the stored secret cannot be decrypted; enter it again in the admin"
    if not delivery.subscription.url.lower().startswith(("http://", "https://")):
        return None, "", "only http(s) URLs are allowed"
    body = delivery.payload.encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (http(s) only, checked above)
        delivery.subscription.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "ComplaintDesk-Webhook/1",
            "X-ComplaintDesk-Event": delivery.event,
            "X-ComplaintDesk-Delivery": str(delivery.event_id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        },
    )
    try:
        with _opener().open(request, timeout=settings.COMPLAINTDESK_WEBHOOK_TIMEOUT) as response:
            return response.status, _excerpt(response.read(EXCERPT_MAX * 4)), None
    except RedirectRefused as exc:
        # Neither the body nor the Location is kept: where it points is none of the log's business.
        return exc.code, "", f"HTTP {exc.code}: redirect refused (webhooks do not follow redirects)"
    except urllib.error.HTTPError as exc:
        return exc.code, _excerpt(exc.read(EXCERPT_MAX * 4) if exc.fp else b""), f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, AddressRefused):
            return None, "", f"address refused: {reason}"[:EXCERPT_MAX]
        return None, "", f"{type(exc).__name__}: {reason}"[:EXCERPT_MAX]


def _excerpt(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")[:EXCERPT_MAX]


def check_events(events: Any) -> list[str]:
    """The chosen events, or ValueError naming the unknown ones."""
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ValueError("a JSON list of event names")
    unknown = sorted(set(events) - set(known_events()))
    if unknown:
        raise ValueError(", ".join(unknown))
    return sorted(set(events))


__all__ = ["DeliveryStatus", "enqueue_for", "post", "sign"]
