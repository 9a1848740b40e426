"""Cases at each step, loopback HTTP receivers (SMS gateway, webhook receiver), helpers."""

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint


def new_case(body: Any, **overrides: Any) -> Complaint:
    complaint, _ = actions.submit(check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer())
    return fresh(complaint)


def fresh(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_related("org_unit", "department", "category", "owner").get(pk=complaint.pk)


def accepted(cast: Any, body: Any, **overrides: Any) -> Complaint:
    complaint = new_case(body, **overrides)
    return fresh(actions.accept(complaint, actor=Actor.staff(cast.supervisor)))


def in_progress(cast: Any, body: Any, **overrides: Any) -> Complaint:
    complaint = accepted(cast, body, **overrides)
    sup = Actor.staff(cast.supervisor)
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=sup, owner=cast.agent)
    return fresh(actions.start_work(complaint, actor=Actor.staff(cast.agent)))


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(user: Any, complaint: Complaint) -> str:
    return logged_in(user).get(f"/staff/cases/{complaint.tracking_no}/").content.decode()


class Receiver:
    """A real HTTP server on loopback that records requests and answers from a list of status codes
    (the last one repeats)."""

    def __init__(self, answers: list[int], location: str = "") -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                receiver.requests.append({"headers": self.headers, "body": raw, "path": self.path})
                code = receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                answer = json.dumps({"ok": 200 <= code < 300}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[[list[int]], Receiver]]:
    started: list[Receiver] = []

    def start(answers: list[int], location: str = "") -> Receiver:
        r = Receiver(answers, location)
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def smtp_down(settings):  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", closed_port(), False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2
    return settings
