"""SMS adapters. COMPLAINTDESK_SMS_BACKEND names the class (a dotted path):

- `notifications.sms.LoggingSmsBackend` (the default): sends nothing; logs the masked number, the
  text's length and a short hash of it, never the text (it may carry a survey link).
- `notifications.sms.HttpGatewaySmsBackend`: POSTs to COMPLAINTDESK_SMS_GATEWAY_URL a body made from
  COMPLAINTDESK_SMS_GATEWAY_BODY, in which `{to}` and `{text}` are replaced by the number and the
  message (JSON-escaped for a JSON content type, URL-encoded for a form). Any 2xx answer is success.

An adapter raises SmsError (or any exception) when the message was not accepted; the delivery is
then retried on the schedule."""

import hashlib
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("complaintdesk.sms")


class SmsError(Exception):
    pass


class SmsBackend:
    def send(self, to: str, text: str) -> None:
        raise NotImplementedError


def masked_number(to: str) -> str:
    return to[:-4] + "****" if len(to) > 4 else "****"


def text_fingerprint(text: str) -> str:
    """A short hash of a message, to match a log line with a delivery without logging the text
    (a survey SMS carries a working signed link: DESIGN §10, no tokens in logs)."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class LoggingSmsBackend(SmsBackend):
    """Sends nothing: logs the masked number, the text's length and a short hash, never the text."""

    def send(self, to: str, text: str) -> None:
        log.info(
            "SMS to %s: %d characters, sha256 %s (text not logged)",
            masked_number(to),
            len(text),
            text_fingerprint(text),
        )


class HttpGatewaySmsBackend(SmsBackend):
    def __init__(self) -> None:
        self.url = settings.COMPLAINTDESK_SMS_GATEWAY_URL
        self.template = settings.COMPLAINTDESK_SMS_GATEWAY_BODY
        self.content_type = settings.COMPLAINTDESK_SMS_GATEWAY_CONTENT_TYPE
        self.authorization = settings.COMPLAINTDESK_SMS_GATEWAY_AUTHORIZATION
        self.timeout = settings.COMPLAINTDESK_SMS_GATEWAY_TIMEOUT

    def body(self, to: str, text: str) -> bytes:
        if "json" in self.content_type:
            escape = lambda value: json.dumps(value, ensure_ascii=False)[1:-1]  # noqa: E731
        else:
            escape = lambda value: urllib.parse.quote(value, safe="")  # noqa: E731
        # One pass over the template, so that a `{text}` inside the number (or the reverse) stays text.
        return _fill(self.template, {"to": escape(to), "text": escape(text)}).encode()

    def send(self, to: str, text: str) -> None:
        if not self.url:
            raise SmsError("COMPLAINTDESK_SMS_GATEWAY_URL is not set")
        if not self.url.lower().startswith(("http://", "https://")):
            raise SmsError("COMPLAINTDESK_SMS_GATEWAY_URL must be an http(s) URL")
        headers = {"Content-Type": self.content_type}
        if self.authorization:
            headers["Authorization"] = self.authorization
        request = urllib.request.Request(self.url, data=self.body(to, text), headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (http(s) only, checked above)
                status = response.status
        except urllib.error.HTTPError as exc:
            raise SmsError(f"gateway answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise SmsError(f"gateway unreachable: {getattr(exc, 'reason', exc)}") from None
        if not 200 <= status < 300:
            raise SmsError(f"gateway answered HTTP {status}")


def _fill(template: str, values: dict[str, str]) -> str:
    import re

    return re.sub(r"\{(to|text)\}", lambda m: values[m.group(1)], template)


def backend() -> SmsBackend:
    return import_string(settings.COMPLAINTDESK_SMS_BACKEND)()
