"""The SMS adapters: the HTTP gateway against a real HTTP server on loopback, and its failures retried."""

import json

from notifications import service
from notifications.models import Delivery
from notifications.sms import HttpGatewaySmsBackend, SmsError

from .conftest import accepted


def _gateway(settings, url: str) -> None:  # type: ignore[no-untyped-def]
    settings.COMPLAINTDESK_SMS_BACKEND = "notifications.sms.HttpGatewaySmsBackend"
    settings.COMPLAINTDESK_SMS_GATEWAY_URL = url
    settings.COMPLAINTDESK_SMS_GATEWAY_BODY = '{"mobile": "{to}", "content": "{text}", "sign": "示例"}'
    settings.COMPLAINTDESK_SMS_GATEWAY_AUTHORIZATION = "Bearer gateway-key"


def test_the_http_gateway_receives_the_message_in_its_body_template(
    cast, body, settings, receiver, django_capture_on_commit_callbacks
):
    gateway = receiver([200])
    _gateway(settings, gateway.url)
    complaint = accepted(cast, body, preferred_contact="sms")
    with django_capture_on_commit_callbacks(execute=True):
        deliveries = service.notify_consumer(complaint, "resolved")
    sms = next(d for d in deliveries if d.channel == "sms")
    sms.refresh_from_db()
    assert sms.status == "sent"
    [request] = gateway.requests
    sent = json.loads(request["body"])
    assert sent["mobile"] == "+8613800138000" and sent["sign"] == "示例"
    assert sent["content"].startswith(f"【投诉已解决】您的投诉 {complaint.tracking_no}")
    assert request["headers"]["Authorization"] == "Bearer gateway-key"
    assert request["headers"]["Content-Type"] == "application/json"


def test_quotes_and_newlines_in_the_text_stay_valid_json(settings, receiver):
    gateway = receiver([200])
    _gateway(settings, gateway.url)
    HttpGatewaySmsBackend().send("+8613800138000", 'say "hi"\n{to}')
    sent = json.loads(gateway.requests[0]["body"])
    assert sent == {"mobile": "+8613800138000", "content": 'say "hi"\n{to}', "sign": "示例"}


def test_a_form_encoded_gateway_gets_url_encoded_values(settings, receiver):
    gateway = receiver([200])
    _gateway(settings, gateway.url)
    settings.COMPLAINTDESK_SMS_GATEWAY_CONTENT_TYPE = "application/x-www-form-urlencoded"
    settings.COMPLAINTDESK_SMS_GATEWAY_BODY = "to={to}&msg={text}"
    HttpGatewaySmsBackend().send("+86 138", "退款&赔偿")
    assert gateway.requests[0]["body"] == b"to=%2B86%20138&msg=%E9%80%80%E6%AC%BE%26%E8%B5%94%E5%81%BF"


def test_a_gateway_error_is_retried_and_recorded(cast, body, settings, receiver, django_capture_on_commit_callbacks):
    gateway = receiver([503, 200])
    _gateway(settings, gateway.url)
    complaint = accepted(cast, body, preferred_contact="sms", complainant_email="")
    with django_capture_on_commit_callbacks(execute=True):
        [sms] = service.notify_consumer(complaint, "resolved")
    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == ("queued", 1) and "HTTP 503" in sms.last_error
    from notifications.sending import attempt

    assert attempt(sms.pk, now=sms.next_attempt_at) == "sent"
    assert Delivery.objects.get(pk=sms.pk).last_error == "" and len(gateway.requests) == 2


def test_an_unreachable_or_unset_gateway_raises_for_the_retry(settings):
    from .conftest import closed_port

    _gateway(settings, f"http://127.0.0.1:{closed_port()}/sms")
    for url in (settings.COMPLAINTDESK_SMS_GATEWAY_URL, ""):
        settings.COMPLAINTDESK_SMS_GATEWAY_URL = url
        try:
            HttpGatewaySmsBackend().send("+8613800138000", "hi")
        except SmsError as exc:
            assert "unreachable" in str(exc) or "not set" in str(exc)
        else:
            raise AssertionError("no error")


def test_the_logging_adapter_never_logs_the_text_or_its_link(caplog):
    from notifications.sms import LoggingSmsBackend, text_fingerprint

    text = "请评价我们的服务：https://desk.example.com/feedback/s/SIGNED-SURVEY-TOKEN/"
    with caplog.at_level("INFO", logger="complaintdesk.sms"):
        LoggingSmsBackend().send("+8613800138000", text)
    assert "SIGNED-SURVEY-TOKEN" not in caplog.text and "desk.example.com" not in caplog.text
    assert "+861380013****" in caplog.text and f"{len(text)} characters" in caplog.text
    assert text_fingerprint(text) in caplog.text and "13800138000" not in caplog.text


class _QuotingBackend:
    """An adapter whose error quotes the message, as some gateways' answers do."""

    def send(self, to: str, text: str) -> None:
        from notifications.sms import SmsError

        raise SmsError(f"rejected {to}: {text}")


def test_a_failed_send_logs_no_text_and_no_address(cast, body, settings, caplog, django_capture_on_commit_callbacks):
    settings.COMPLAINTDESK_SMS_BACKEND = "notifications.tests.test_sms._QuotingBackend"
    complaint = accepted(cast, body, preferred_contact="sms", complainant_email="")
    with caplog.at_level("INFO"), django_capture_on_commit_callbacks(execute=True):
        [sms] = service.notify_consumer(complaint, "resolved")
    sms.refresh_from_db()
    assert sms.status == "queued" and complaint.tracking_no in sms.last_error  # staff see the full error
    assert "notification" in caplog.text and "SmsError" in caplog.text
    assert complaint.tracking_no not in caplog.text and "13800138000" not in caplog.text
