"""`actions.sla_tick` on real dates: a warning at 80 % and a breach at the deadline, each given once,
with its notification and ledger event; paused cases left alone; closed cases archived after 90 days;
unowned accepted cases given to an agent who comes on shift."""

from datetime import datetime, timedelta

import pytest
import time_machine

from accounts.models import Notification
from complaints import actions, calendar, sla
from complaints.choices import EscalationLevel, SlaState, Status
from complaints.models import Complaint
from complaints.tests.test_sla import Desk, at, eod
from ledger.models import LedgerEvent

NOTHING = {
    "ack_warning": 0,
    "ack_breach": 0,
    "resolution_warning": 0,
    "resolution_breach": 0,
    "archived": 0,
    "assigned": 0,
}


@pytest.fixture(autouse=True)
def _fresh_calendar(db):  # type: ignore[no-untyped-def]
    calendar.invalidate()
    yield
    calendar.invalidate()


@pytest.fixture
def desk(cast, body) -> Desk:  # type: ignore[no-untyped-def]
    return Desk(cast, body)


def tick(when: datetime) -> dict[str, int]:
    """The tick as the scheduler runs it: at the current time."""
    with time_machine.travel(when, tick=False):
        return actions.sla_tick(now=when)


def events(c: Complaint, action: str) -> list[LedgerEvent]:
    return list(LedgerEvent.objects.filter(complaint=c, action=action).order_by("seq"))


def notices(c: Complaint, kind: str) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(complaint=c, kind=kind).values_list("recipient__username", "message"))


def test_resolution_warning_at_80_percent_is_given_once(desk, cast, org):
    c = desk.accepted(at(2026, 9, 30, 9), at(2026, 9, 30, 17), "P3")
    assert c.department == org.service
    assert c.owner == cast.agent
    # Due Thu 2026-10-15 23:59:59; 80 % of the working time falls on Wed 2026-10-14 12:59:59.2.
    assert tick(at(2026, 10, 14, 12, 59, 59)) == NOTHING
    c.refresh_from_db()
    assert c.resolution_warned_at is None

    counts = tick(at(2026, 10, 14, 13))
    assert counts == {**NOTHING, "resolution_warning": 1}
    c.refresh_from_db()
    assert c.resolution_warned_at == at(2026, 10, 14, 13)
    assert c.resolution_breached_at is None
    assert c.escalation_level == EscalationLevel.FRONTLINE
    assert sla.state(c, at(2026, 10, 14, 13)) == SlaState.WARNING
    assert [u for u, _m in notices(c, "sla_warning")] == ["agent"]  # the owner
    [event] = events(c, "sla_warning")
    assert event.actor == "system"
    assert event.data == {"clock": "resolution"}
    assert event.changes["resolution_warned_at"][0] is None

    # A second tick (and a third) does nothing more.
    version = c.version
    assert tick(at(2026, 10, 14, 14)) == NOTHING
    assert tick(at(2026, 10, 15, 9)) == NOTHING
    c.refresh_from_db()
    assert c.resolution_warned_at == at(2026, 10, 14, 13)
    assert c.version == version
    assert len(notices(c, "sla_warning")) == 1
    assert len(events(c, "sla_warning")) == 1


def test_breach_escalates_one_level_and_tells_the_supervisors_once(desk, cast):
    c = desk.accepted(at(2026, 9, 30, 9), at(2026, 9, 30, 17), "P3")
    tick(at(2026, 10, 14, 13))  # the warning
    # At the very end of the last working day the deadline is not yet passed.
    assert tick(eod(2026, 10, 15)) == NOTHING

    counts = tick(at(2026, 10, 16, 0, 0, 0))
    assert counts == {**NOTHING, "resolution_breach": 1}
    c.refresh_from_db()
    assert c.resolution_breached_at == at(2026, 10, 16)
    assert c.escalation_level == EscalationLevel.SUPERVISOR
    assert sla.state(c, at(2026, 10, 16)) == SlaState.BREACHED
    breach_notices = notices(c, "sla_breach")
    assert [u for u, _m in breach_notices] == ["supervisor"]  # cast.supervisor, of org.service
    assert "L1" in breach_notices[0][1]
    [event] = events(c, "sla_breach")
    assert event.actor == "system"
    assert event.data == {"clock": "resolution"}
    assert event.changes["escalation_level"] == [0, 1]

    assert tick(at(2026, 10, 16, 9)) == NOTHING
    assert tick(at(2026, 10, 20, 9)) == NOTHING
    c.refresh_from_db()
    assert c.escalation_level == EscalationLevel.SUPERVISOR
    assert c.resolution_breached_at == at(2026, 10, 16)
    assert len(notices(c, "sla_breach")) == 1
    assert len(events(c, "sla_breach")) == 1


def test_a_late_tick_warns_then_breaches(desk):
    # The worker was down: the first tick after the deadline gives the warning and the breach.
    c = desk.accepted(at(2026, 3, 6, 9), at(2026, 3, 6, 16), "P1")  # due Mon 2026-03-09
    counts = tick(at(2026, 3, 10, 9))
    assert counts == {**NOTHING, "resolution_warning": 1, "resolution_breach": 1}
    assert [e.action for e in LedgerEvent.objects.filter(complaint=c).order_by("seq")][-2:] == [
        "sla_warning",
        "sla_breach",
    ]
    c.refresh_from_db()
    assert c.escalation_level == 1


def test_ack_warning_and_breach(desk, cast):
    # Received Fri 2026-03-06 10:00 and not decided: warn Sat 05:12, due Sat 10:00 (clock hours).
    c = desk.receive(at(2026, 3, 6, 10))
    assert c.owner is None
    assert tick(at(2026, 3, 7, 5, 11, 59)) == NOTHING
    assert tick(at(2026, 3, 7, 5, 12)) == {**NOTHING, "ack_warning": 1}
    c.refresh_from_db()
    assert c.ack_warned_at == at(2026, 3, 7, 5, 12)
    assert [u for u, _m in notices(c, "sla_warning")] == ["supervisor"]  # no owner yet
    assert events(c, "sla_warning")[0].data == {"clock": "ack"}

    assert tick(at(2026, 3, 7, 10)) == NOTHING
    assert tick(at(2026, 3, 7, 10, 0, 1)) == {**NOTHING, "ack_breach": 1}
    c.refresh_from_db()
    assert c.ack_breached_at == at(2026, 3, 7, 10, 0, 1)
    assert c.escalation_level == 1
    assert [u for u, _m in notices(c, "sla_breach")] == ["supervisor"]
    assert events(c, "sla_breach")[0].data == {"clock": "ack"}
    assert tick(at(2026, 3, 7, 11)) == NOTHING
    c.refresh_from_db()
    assert c.escalation_level == 1


def test_p1_at_intake_breaches_the_ack_after_2_hours(desk):
    c = desk.receive(at(2026, 3, 6, 10), staff=True, priority="P1", risk_flags=["safety"])
    assert tick(at(2026, 3, 6, 11, 36)) == {**NOTHING, "ack_warning": 1}
    assert tick(at(2026, 3, 6, 12, 0, 1)) == {**NOTHING, "ack_breach": 1}
    c.refresh_from_db()
    assert c.escalation_level == 1


def test_an_acknowledged_case_gets_no_ack_warning(desk):
    c = desk.accepted(at(2026, 3, 9, 9), at(2026, 3, 9, 10), "P3")  # due Wed 3-18
    assert tick(at(2026, 3, 10, 12)) == NOTHING  # the ack clock would have run out long ago
    c.refresh_from_db()
    assert c.ack_warned_at is None and c.ack_breached_at is None


def test_paused_cases_are_neither_warned_nor_breached(desk):
    # P1 accepted Mon 2026-03-02 10:00: due Tue 3-03 23:59:59. Paused at Mon 12:00.
    c = desk.in_progress(at(2026, 3, 2, 10), "P1")
    c = desk.act(at(2026, 3, 2, 12), "wait_for_consumer", c, message="请提供发票照片")
    assert tick(at(2026, 3, 10, 9)) == NOTHING
    c.refresh_from_db()
    assert c.resolution_warned_at is None and c.resolution_breached_at is None
    assert c.escalation_level == 0
    assert sla.state(c, at(2026, 3, 10, 9)) == SlaState.PAUSED

    # Resumed Tue 3-10 10:00: paused 12 h Mon + Tue–Fri, Mon 3-09 (5 days) + 10 h = 511 200 s of working
    # time. Tue 3-03 23:59:59 + 511 200 s: Wed 4, Thu 5, Fri 6, Mon 9, Tue 10 and 79 199 s into
    # Wed 3-11 = 21:59:59.
    c = desk.act(at(2026, 3, 10, 10), "resume", c)
    assert c.resolution_due_at == at(2026, 3, 11, 21, 59, 59)
    assert tick(at(2026, 3, 10, 11)) == NOTHING
    assert tick(at(2026, 3, 11, 22)) == {**NOTHING, "resolution_warning": 1, "resolution_breach": 1}


def test_cases_in_an_external_procedure_are_not_breached(desk):
    c = desk.in_progress(at(2026, 3, 2, 10), "P1")
    c = desk.act(at(2026, 3, 2, 12), "route_external", c, route="mediation", reference="(2026)调字第12号")
    assert c.status == Status.EXTERNAL
    assert tick(at(2026, 3, 20, 9)) == NOTHING
    c.refresh_from_db()
    assert c.resolution_breached_at is None


def test_escalation_stops_at_the_crisis_level(desk, cast):
    c = desk.accepted(at(2026, 3, 6, 9), at(2026, 3, 6, 10), "P1")
    for _ in range(3):
        c = desk.act(at(2026, 3, 6, 11), "escalate", c, reason="媒体曝光威胁")
    assert c.escalation_level == EscalationLevel.CRISIS
    assert tick(at(2026, 3, 10, 9))["resolution_breach"] == 1
    c.refresh_from_db()
    assert c.escalation_level == EscalationLevel.CRISIS
    assert c.resolution_breached_at == at(2026, 3, 10, 9)
    assert len(notices(c, "sla_breach")) == 1


def test_closed_cases_are_archived_after_90_days(desk, cast):
    c = desk.in_progress(at(2026, 3, 2, 10), "P3")
    c = desk.act(at(2026, 3, 5, 10), "resolve", c, outcome="executed", note="已退款 500 元")
    c = desk.act(
        at(2026, 3, 5, 12), "close", c, reply_text="您好，退款 500 元已到账，感谢您的反馈。", evidence_complete=True
    )
    assert c.status == Status.CLOSED
    closed = at(2026, 3, 5, 12)
    rejected = desk.act(at(2026, 3, 1, 11), "reject", desk.receive(at(2026, 3, 1, 10)), reason="重复投诉")

    # The rejection (3-01) is 90 days old first; its appeal window closed long before.
    assert tick(closed + timedelta(days=89, hours=23))["archived"] == 1
    rejected.refresh_from_db()
    assert rejected.status == Status.ARCHIVED
    c.refresh_from_db()
    assert c.status == Status.CLOSED

    counts = tick(closed + timedelta(days=90))
    assert counts["archived"] == 1
    c.refresh_from_db()
    assert c.status == Status.ARCHIVED
    assert c.archived_at == closed + timedelta(days=90)
    [event] = events(c, "archive")
    assert event.actor == "system"
    assert tick(closed + timedelta(days=91))["archived"] == 0


def test_an_unowned_accepted_case_goes_to_an_agent_who_comes_on_shift(desk, cast):
    # Accepted on Sat 2026-03-07: nobody is on shift on a day off, so nobody owns it.
    c = desk.accepted(at(2026, 3, 7, 9), at(2026, 3, 7, 10), "P3")
    assert c.owner is None
    assert tick(at(2026, 3, 8, 10))["assigned"] == 0  # Sunday
    assert tick(at(2026, 3, 9, 0, 30))["assigned"] == 1  # Monday, the cast works all day
    c.refresh_from_db()
    assert c.owner == cast.agent
    assert len(events(c, "assign")) == 1


def test_the_tick_uses_the_instant_it_is_given(desk):
    c = desk.accepted(at(2026, 3, 6, 9), at(2026, 3, 6, 16), "P1")  # due Mon 2026-03-09
    with time_machine.travel(at(2026, 3, 6, 17), tick=False):
        counts = actions.sla_tick(now=at(2026, 3, 10, 9))
    assert counts["resolution_breach"] == 1
    c.refresh_from_db()
    assert c.resolution_breached_at == at(2026, 3, 10, 9)


def test_a_case_back_from_an_external_procedure_before_acceptance_has_a_clock(desk):
    c = desk.receive(at(2026, 3, 2, 10))
    c = desk.act(
        at(2026, 3, 2, 11),
        "route_external",
        c,
        route="regulator",
        reference="12315-0001",
        due_at=at(2026, 3, 20, 17),
    )
    c = desk.act(at(2026, 3, 9, 10), "record_external_outcome", c, resolved=False, note="市场监管局退回企业处理")
    assert c.status == Status.IN_PROGRESS
    assert sla.state(c, at(2026, 6, 1)) == SlaState.BREACHED
    counts = tick(at(2026, 6, 1))
    assert counts["resolution_breach"] + counts["ack_breach"] == 1
