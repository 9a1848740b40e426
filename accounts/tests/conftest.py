"""Helpers of the sign-in tests: signing in through the pages, a TOTP app in the test's hand."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts import actions, sessions, totp
from accounts.models import TotpDevice, User

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A fixed moment for every clock-dependent test (a working Monday morning).
T0 = datetime(2026, 11, 23, 9, 0, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    """A frozen clock at T0 that the test moves on (`clock.shift(seconds)`)."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def sign_in(user: User, client: Client | None = None, **extra: str):  # type: ignore[no-untyped-def]
    """The password step through the login page; returns (client, response)."""
    client = client or Client()
    response = client.post("/staff/login/", {"username": user.username, "password": "pw-" + user.username}, **extra)
    return client, response


def unverified(client: Client) -> Client:
    """Take away the conftest's "second step passed" mark of a force_login'd client."""
    session = client.session
    session.pop(sessions.TWO_FACTOR_AT, None)
    session.save()
    return client


def now_code(secret: str, steps_ago: int = 0) -> str:
    return totp.code_at(secret, totp.current_step() - steps_ago)


def enrol(user: User) -> str:
    """A confirmed authenticator for the user (as the enrolment page makes it); returns its secret.
    The code used for confirming is from the previous step, so the current step's code stays good."""
    device, secret = actions.start_enrolment(user)
    device.confirmed_at = device.created_at
    device.last_step = totp.current_step() - 1
    device.save(update_fields=["confirmed_at", "last_step"])
    return secret


def confirmed(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def make_role_less_user() -> User:
    return User.objects.create_user(username="nobody", password="pw-nobody")
