"""Priority changes late in a clock's life, and the guards on appeal and reopening."""

from datetime import timedelta

import pytest
import time_machine

from complaints import actions
from complaints.choices import EscalationLevel
from complaints.ledgering import Actor
from complaints.tests.test_sla import Desk, at
from complaints.transitions import allowed_actions
from core.errors import TransitionNotAllowed


@pytest.fixture
def desk(cast, body) -> Desk:  # type: ignore[no-untyped-def]
    return Desk(cast, body)


def tick(now):  # type: ignore[no-untyped-def]
    with time_machine.travel(now, tick=False):
        return actions.sla_tick(now=now)


def test_a_priority_change_after_a_breach_does_not_escalate_again(desk):
    c = desk.in_progress(at(2026, 3, 2, 10), "P3")  # due Wed 3-11
    assert tick(at(2026, 3, 12, 9))["resolution_breach"] == 1
    c.refresh_from_db()
    assert c.escalation_level == EscalationLevel.SUPERVISOR
    c = desk.act(at(2026, 3, 12, 10), "classify", c, priority="P2")
    c = desk.act(at(2026, 3, 12, 11), "classify", c, priority="P1")
    assert tick(at(2026, 3, 12, 12))["resolution_breach"] == 0
    c.refresh_from_db()
    assert c.escalation_level == EscalationLevel.SUPERVISOR


def test_a_longer_deadline_after_a_breach_rearms_the_clock(desk):
    c = desk.in_progress(at(2026, 3, 2, 10), "P1")  # due Tue 3-03
    tick(at(2026, 3, 4, 9))
    c = desk.act(at(2026, 3, 4, 10), "classify", c, priority="P4")  # due 15 working days after 3-02
    assert c.resolution_breached_at is None and c.resolution_due_at > at(2026, 3, 20)


def test_marked_p1_after_intake_gets_two_hours_from_the_marking(desk):
    c = desk.receive(at(2026, 3, 2, 10))
    c = desk.act(at(2026, 3, 2, 13), "classify", c, priority="P1", user=desk.cast.agent)
    assert c.ack_due_at == at(2026, 3, 2, 15)
    assert c.ack_breached_at is None
    c = desk.act(at(2026, 3, 2, 13, 30), "classify", c, priority="P2", user=desk.cast.agent)
    assert c.ack_due_at == at(2026, 3, 3, 10)  # back to 24 clock hours from receipt


def test_reopen_is_not_offered_after_the_window(desk):
    c = desk.in_progress(at(2026, 3, 2, 10))
    c = desk.act(at(2026, 3, 3, 10), "resolve", c, outcome="executed", note="已更换新品")
    c = desk.act(at(2026, 3, 3, 11), "close", c, reply_text="已为您更换新品。", evidence_complete=True)
    with time_machine.travel(at(2026, 3, 20), tick=False):
        assert "reopen" in allowed_actions(c, Actor.consumer())
    with time_machine.travel(at(2026, 4, 3, 12), tick=False):
        assert "reopen" not in allowed_actions(c, Actor.consumer())
        with pytest.raises(TransitionNotAllowed) as error:
            actions.reopen(c, actor=Actor.consumer(), reason="又坏了")
        assert "30" in error.value.reason


def test_appeal_is_offered_once(desk):
    c = desk.act(at(2026, 3, 2, 11), "reject", desk.receive(at(2026, 3, 2, 10)), reason="不属于受理范围")
    with time_machine.travel(at(2026, 3, 2, 11, 30), tick=False):
        assert "appeal" in allowed_actions(c, Actor.consumer())
        assert "archive" not in allowed_actions(c, Actor.staff(desk.cast.supervisor))  # appeal window open
    with time_machine.travel(at(2026, 3, 2, 12), tick=False):
        c = actions.appeal(c, actor=Actor.consumer(), reason="请重新审核")
    c = desk.act(at(2026, 3, 2, 13), "reject", c, reason="经复核仍不予受理")
    with time_machine.travel(at(2026, 3, 2, 14), tick=False):
        assert "appeal" not in allowed_actions(c, Actor.consumer())
        assert "archive" in allowed_actions(c, Actor.staff(desk.cast.supervisor))
    assert c.ack_due_at == at(2026, 3, 2, 12) + timedelta(hours=24)


def test_a_rejection_can_be_appealed_only_within_the_window(desk):
    c = desk.act(at(2026, 3, 2, 11), "reject", desk.receive(at(2026, 3, 2, 10)), reason="不属于受理范围")
    with time_machine.travel(at(2026, 4, 2, 12), tick=False):
        assert "appeal" not in allowed_actions(c, Actor.consumer())
        with pytest.raises(TransitionNotAllowed):
            actions.appeal(c, actor=Actor.consumer(), reason="请重新审核")
