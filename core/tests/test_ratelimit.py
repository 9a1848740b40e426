"""The per-minute limits are sliding: a burst across a minute boundary is not let through twice."""

import pytest
from django.test import RequestFactory

from core import ratelimit
from core.errors import RateLimited

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    now = {"t": 1_800_000_000.0 - 1_800_000_000.0 % 60}  # the start of a minute

    monkeypatch.setattr(ratelimit.time, "time", lambda: now["t"])
    return now


def request(address="192.0.2.7"):
    return RequestFactory().post("/api/v1/complaints", REMOTE_ADDR=address)


def outcomes(n, address="192.0.2.7"):
    seen = []
    for _ in range(n):
        try:
            ratelimit.hit("test", request(address), 3)
            seen.append("ok")
        except RateLimited as limited:
            seen.append(limited.retry_after)
    return seen


def test_the_limit_holds_within_a_minute_and_per_address(clock):
    clock["t"] += 10
    assert outcomes(4) == ["ok", "ok", "ok", 50]
    assert outcomes(1, "192.0.2.8") == ["ok"]


def test_a_burst_across_the_minute_boundary_is_not_let_through_twice(clock):
    clock["t"] += 59.9
    assert outcomes(3) == ["ok", "ok", "ok"]
    clock["t"] += 0.2  # the next minute has begun
    assert outcomes(1)[0] != "ok"


def test_the_previous_minute_weighs_less_as_it_slides_out(clock):
    clock["t"] += 30
    assert outcomes(2) == ["ok", "ok"]
    clock["t"] += 60  # half-way into the next minute: the previous minute's 2 count as 1
    assert outcomes(3) == ["ok", "ok", 30]
    clock["t"] += 60  # refused hits count too: the 3 of that minute weigh 1.5 now
    assert outcomes(2) == ["ok", 30]
