"""SLA clocks on real dates (DESIGN.md §4): acknowledgement in clock hours, resolution in working
days from acceptance, pauses while the case awaits the consumer, and `sla.state` / `sla.state_filter`
agreeing on every state. Cases are made through the real actions under a frozen clock."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from complaints import actions, calendar, sla
from complaints.choices import Priority, SlaState, Status
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint, SlaPolicy
from complaints.tests.clock import CST, _fresh_calendar, at, eod  # noqa: F401


class Desk:
    """Cases through the real actions, each step at a given instant (the clock frozen there)."""

    def __init__(self, cast, body) -> None:  # type: ignore[no-untyped-def]
        self.cast = cast
        self.body = body

    def receive(self, when: datetime, *, staff: bool = False, **fields) -> Complaint:  # type: ignore[no-untyped-def]
        with time_machine.travel(when, tick=False):
            data = check_intake(IntakeData(**self.body(**fields)), staff=staff)
            actor = Actor.staff(self.cast.agent) if staff else Actor.consumer()
            complaint, _code = actions.submit(data, actor=actor, received_at=when)
        return complaint

    def act(self, when: datetime, action: str, complaint: Complaint, user=None, **kwargs) -> Complaint:  # type: ignore[no-untyped-def]
        """A staff action; by default the department's supervisor, who may take every one of them."""
        with time_machine.travel(when, tick=False):
            return getattr(actions, action)(complaint, actor=Actor.staff(user or self.cast.supervisor), **kwargs)

    def accepted(self, received: datetime, accepted: datetime, priority: str = "P3", **fields) -> Complaint:  # type: ignore[no-untyped-def]
        return self.act(accepted, "accept", self.receive(received, **fields), priority=priority, user=self.cast.agent)

    def in_progress(self, accepted: datetime, priority: str = "P3") -> Complaint:
        c = self.accepted(accepted - timedelta(hours=1), accepted, priority)
        return self.act(accepted + timedelta(minutes=5), "start_work", c)


@pytest.fixture
def desk(cast, body) -> Desk:  # type: ignore[no-untyped-def]
    return Desk(cast, body)


# --- policies ---------------------------------------------------------------------------------


def test_default_policies():
    assert sla.policy_for("P1", "web") == sla.Policy(2, 1, Decimal("0.80"))
    assert [sla.policy_for(p, "web").resolution_working_days for p in ("P1", "P2", "P3", "P4")] == [1, 3, 7, 15]
    assert [sla.policy_for(p, "web").ack_hours for p in ("P1", "P2", "P3", "P4")] == [2, 24, 24, 24]


def test_configured_policies_override_the_defaults(db):
    # The P3 default row comes with the migrations; admins edit it.
    SlaPolicy.objects.update_or_create(
        priority=Priority.P3, channel="", defaults={"ack_hours": 48, "resolution_working_days": 5}
    )
    SlaPolicy.objects.create(
        priority=Priority.P3, channel="phone", ack_hours=12, resolution_working_days=2, warn_ratio=Decimal("0.50")
    )
    assert sla.policy_for("P3", "web") == sla.Policy(48, 5, Decimal("0.80"))
    assert sla.policy_for("P3", "phone") == sla.Policy(12, 2, Decimal("0.50"))
    assert sla.policy_for("P2", "phone") == sla.DEFAULTS[Priority.P2]


# --- the acknowledgement clock (clock hours) --------------------------------------------------


def test_ack_is_due_24_clock_hours_after_receipt(desk):
    # Received Fri 2026-03-06 18:00: due Sat 18:00 — clock hours, the weekend counts.
    c = desk.receive(at(2026, 3, 6, 18))
    assert c.received_at == at(2026, 3, 6, 18)
    assert c.ack_due_at == at(2026, 3, 7, 18)
    assert c.ack_warn_at == at(2026, 3, 7, 13, 12)  # 80 % of 24 h = 19 h 12 min
    assert sla.state(c, at(2026, 3, 7, 13, 11)) == SlaState.ON_TRACK
    assert sla.state(c, at(2026, 3, 7, 13, 12)) == SlaState.WARNING
    assert sla.state(c, at(2026, 3, 7, 18)) == SlaState.WARNING
    assert sla.state(c, at(2026, 3, 7, 18, 0, 1)) == SlaState.BREACHED


def test_ack_over_national_day_is_still_24_clock_hours(desk):
    c = desk.receive(at(2026, 9, 30, 20))
    assert c.ack_due_at == at(2026, 10, 1, 20)


def test_p1_at_intake_is_acknowledged_within_2_hours(desk):
    c = desk.receive(at(2026, 3, 6, 10), staff=True, priority="P1", channel="phone", risk_flags=["safety"])
    assert c.priority == Priority.P1
    assert c.ack_due_at == at(2026, 3, 6, 12)
    assert c.ack_warn_at == at(2026, 3, 6, 11, 36)  # 80 % of 2 h


def test_marking_a_new_case_p1_moves_the_ack_clock_from_receipt(desk):
    c = desk.receive(at(2026, 3, 6, 10))
    c = desk.act(at(2026, 3, 6, 10, 30), "classify", c, priority="P1")
    assert c.ack_due_at == at(2026, 3, 6, 12)
    assert c.resolution_due_at is None


def test_consumers_cannot_set_the_priority(db, body):
    from core.errors import ValidationError

    with pytest.raises(ValidationError):
        check_intake(IntakeData(**body(priority="P1")), staff=False)


# --- the resolution clock (working days from acceptance) --------------------------------------


def test_p3_accepted_before_national_day_2026(desk):
    c = desk.accepted(at(2026, 9, 30, 9), at(2026, 9, 30, 17), "P3")
    assert c.status == Status.ACCEPTED
    assert c.accepted_at == c.acknowledged_at == at(2026, 9, 30, 17)
    # Oct 1–7 off; Oct 8 = 1, 9 = 2, Sat 10 (make-up) = 3, 12 = 4, 13 = 5, 14 = 6, Thu 15 = 7.
    assert c.resolution_due_at == eod(2026, 10, 15)
    assert c.resolution_due_at.astimezone(CST).isoformat() == "2026-10-15T23:59:59+08:00"
    # Working time available: Sep 30 17:00–24:00 (25 200 s) + Oct 8, 9, 10, 12, 13, 14 (6 × 86 400 s)
    # + Oct 15 until 23:59:59 (86 399 s) = 629 999 s; 80 % = 503 999.2 s. From Sep 30 17:00: 25 200 s
    # to midnight, Oct 8, 9, 10, 12, 13 use 432 000 s, and 46 799.2 s into Oct 14 is 12:59:59.2.
    assert c.resolution_warn_at == at(2026, 10, 14, 12, 59, 59, 200000)
    c.refresh_from_db()  # and the database keeps it exactly
    assert c.resolution_due_at == eod(2026, 10, 15)
    assert c.resolution_warn_at == at(2026, 10, 14, 12, 59, 59, 200000)


def test_p1_accepted_on_a_friday_is_due_monday(desk):
    c = desk.accepted(at(2026, 3, 6, 9), at(2026, 3, 6, 16), "P1")
    assert c.resolution_due_at == eod(2026, 3, 9)


def test_p1_accepted_the_day_before_national_day(desk):
    c = desk.accepted(at(2026, 9, 30, 9), at(2026, 9, 30, 10), "P1")
    assert c.resolution_due_at == eod(2026, 10, 8)


def test_p2_across_spring_festival(desk):
    # Thu 2026-02-12: Fri 13 = 1, Sat 14 (make-up) = 2, Feb 15–23 off, Tue 24 = 3.
    c = desk.accepted(at(2026, 2, 12, 9), at(2026, 2, 12, 11), "P2")
    assert c.resolution_due_at == eod(2026, 2, 24)


def test_p4_across_spring_festival(desk):
    # Wed 2026-02-11 + 15 working days (see test_calendar) = Tue 2026-03-10.
    c = desk.accepted(at(2026, 2, 11, 9), at(2026, 2, 11, 14), "P4")
    assert c.resolution_due_at == eod(2026, 3, 10)


def test_acceptance_late_in_the_day_does_not_count_the_day(desk):
    # Accepted Mon 2026-03-09 23:30: P1 is due at the end of Tue 3-10, not Mon.
    c = desk.accepted(at(2026, 3, 9, 22), at(2026, 3, 9, 23, 30), "P1")
    assert c.resolution_due_at == eod(2026, 3, 10)


def test_reprioritising_an_accepted_case_restarts_from_acceptance(desk):
    c = desk.accepted(at(2026, 3, 9, 9), at(2026, 3, 9, 10), "P3")
    assert c.resolution_due_at == eod(2026, 3, 18)  # 10, 11, 12, 13, 16, 17, 18
    c = desk.act(at(2026, 3, 10, 9), "classify", c, priority="P1")
    assert c.resolution_due_at == eod(2026, 3, 10)


def test_a_regulator_due_date_governs(desk):
    due = at(2026, 3, 13, 17)
    c = desk.receive(at(2026, 3, 9, 9), staff=True, channel="regulator_referral", regulator_due_at=due)
    c = desk.act(at(2026, 3, 9, 10), "accept", c, priority="P4")
    assert c.resolution_due_at == due
    # 80 % of Mon 10:00 → Fri 17:00 of working time (14 h + 3 × 24 h + 17 h = 103 h) = 82.4 h:
    # 14 h to Monday midnight, Tue and Wed 48 h, then 20.4 h into Thursday = 20:24.
    assert c.resolution_warn_at == at(2026, 3, 12, 20, 24)


def test_a_regulator_due_date_already_past_warns_no_later_than_due(desk):
    # Accepted on a Saturday with a due date that has passed: the warning is never after the deadline.
    due = at(2026, 3, 6, 17)
    c = desk.receive(at(2026, 3, 6, 9), staff=True, channel="regulator_referral", regulator_due_at=due)
    c = desk.act(at(2026, 3, 7, 10), "accept", c)
    assert c.resolution_due_at == due
    assert c.resolution_warn_at <= c.resolution_due_at
    assert sla.state(c, at(2026, 3, 7, 10, 1)) == SlaState.BREACHED


def test_a_2027_acceptance_counts_weekends_only_and_warns(desk):
    # Spring Festival 2027 (Sat Feb 6) is unknown: Fri Feb 5 + 3 = Wed Feb 10.
    c = desk.accepted(at(2027, 2, 5, 9), at(2027, 2, 5, 10), "P2")
    assert c.resolution_due_at == eod(2027, 2, 10)
    assert calendar.coverage_warning(2027) is not None


def test_an_admin_entered_2027_and_a_closure_govern(desk):
    from datetime import date

    from complaints.models import CalendarDay, CalendarYear

    CalendarYear.objects.create(year=2027, source="test")
    for d in range(8, 13):
        CalendarDay.objects.create(date=date(2027, 2, d), kind=CalendarDay.Kind.HOLIDAY)
    CalendarDay.objects.create(date=date(2027, 2, 16), kind=CalendarDay.Kind.CLOSURE)
    calendar.invalidate()
    # Fri Feb 5 → Feb 8–12 off → Mon 15 = 1, Tue 16 closed, Wed 17 = 2, Thu 18 = 3.
    c = desk.accepted(at(2027, 2, 5, 9), at(2027, 2, 5, 10), "P2")
    assert c.resolution_due_at == eod(2027, 2, 18)


# --- pausing while awaiting the consumer -------------------------------------------------------


def test_three_working_days_awaiting_the_consumer_move_the_deadline_three_working_days(desk):
    # Accepted Mon 2026-03-02 10:00, P3: due Wed 3-11 (3, 4, 5, 6, 9, 10, 11).
    c = desk.in_progress(at(2026, 3, 2, 10))
    assert c.resolution_due_at == eod(2026, 3, 11)
    warn_before = c.resolution_warn_at
    c = desk.act(at(2026, 3, 3, 10), "wait_for_consumer", c, message="请提供发票照片")
    assert c.status == Status.AWAITING_CONSUMER
    assert c.sla_paused_at == at(2026, 3, 3, 10)
    assert sla.state(c, at(2026, 3, 30)) == SlaState.PAUSED  # far past the deadline: paused, not breached
    # Tue 10:00 → Fri 10:00: three working days.
    c = desk.act(at(2026, 3, 6, 10), "resume", c)
    assert c.status == Status.IN_PROGRESS
    assert c.sla_paused_at is None
    # Wed 3-11 + 3 working days: Thu 12, Fri 13, Mon 16.
    assert c.resolution_due_at == eod(2026, 3, 16)
    assert c.resolution_warn_at == calendar.add_working_seconds(warn_before, 3 * 86400)
    c.refresh_from_db()
    assert c.resolution_due_at == eod(2026, 3, 16)


def test_a_pause_over_a_weekend_moves_the_deadline_by_the_working_time_only(desk):
    c = desk.in_progress(at(2026, 3, 2, 10))
    c = desk.act(at(2026, 3, 6, 17), "wait_for_consumer", c, message="请提供发票照片")
    c = desk.act(at(2026, 3, 9, 9), "resume", c)
    # Fri 17:00 → Mon 09:00 is 64 clock hours but 16 working hours (7 h Friday, 9 h Monday):
    # Wed 3-11 23:59:59 + 16 h of working time = Thu 3-12 15:59:59.
    assert c.resolution_due_at == at(2026, 3, 12, 15, 59, 59)


def test_a_pause_over_national_day_counts_no_holiday(desk):
    # Accepted Mon 2026-09-28 10:00, P3: 29, 30, Oct 8, 9, 10, 12, 13 → due Tue 10-13.
    c = desk.in_progress(at(2026, 9, 28, 10))
    assert c.resolution_due_at == eod(2026, 10, 13)
    c = desk.act(at(2026, 9, 30, 12), "wait_for_consumer", c, message="请提供发票照片")
    c = desk.act(at(2026, 10, 8, 12), "resume", c)
    # Sep 30 12:00 → Oct 8 12:00 is 24 working hours: one working day, Tue 10-13 → Wed 10-14.
    assert c.resolution_due_at == eod(2026, 10, 14)


def test_the_consumer_adding_information_resumes_the_clock(desk):
    c = desk.in_progress(at(2026, 3, 2, 10))
    c = desk.act(at(2026, 3, 3, 10), "wait_for_consumer", c, message="请提供发票照片")
    with time_machine.travel(at(2026, 3, 4, 10), tick=False):
        c = actions.add_information(c, actor=Actor.consumer(), text="发票照片已上传")
    assert c.status == Status.IN_PROGRESS
    assert c.sla_paused_at is None
    assert c.resolution_due_at == eod(2026, 3, 12)


def test_a_pause_entirely_on_days_off_moves_nothing(desk):
    c = desk.in_progress(at(2026, 3, 2, 10))
    c = desk.act(at(2026, 3, 7, 10), "wait_for_consumer", c, message="请提供发票照片")
    c = desk.act(at(2026, 3, 8, 20), "resume", c)
    assert c.resolution_due_at == eod(2026, 3, 11)


def test_pause_and_resume_directly():
    c = Complaint(resolution_due_at=eod(2026, 3, 11), resolution_warn_at=at(2026, 3, 10, 1))
    sla.pause(c, at(2026, 3, 3, 10))
    sla.pause(c, at(2026, 3, 4, 10))  # a second pause keeps the first instant
    assert c.sla_paused_at == at(2026, 3, 3, 10)
    sla.resume(c, at(2026, 3, 4, 10))
    assert c.sla_paused_at is None
    assert c.resolution_due_at == eod(2026, 3, 12)
    assert c.resolution_warn_at == at(2026, 3, 11, 1)
    sla.resume(c, at(2026, 3, 5, 10))  # not paused: nothing moves
    assert c.resolution_due_at == eod(2026, 3, 12)


def test_an_already_given_warning_is_not_moved_by_a_pause():
    warned = at(2026, 3, 10, 1)
    c = Complaint(resolution_due_at=eod(2026, 3, 11), resolution_warn_at=warned, resolution_warned_at=warned)
    sla.pause(c, at(2026, 3, 10, 10))
    sla.resume(c, at(2026, 3, 11, 10))
    assert c.resolution_due_at == eod(2026, 3, 12)
    assert c.resolution_warn_at == warned


# --- sla.state and sla.state_filter agree -------------------------------------------------------


def test_state_and_state_filter_agree(desk, cast):
    now = at(2026, 3, 11, 12)  # Wed
    cases = {
        # acknowledgement clock
        "new_on_track": desk.receive(at(2026, 3, 11, 10)),  # due Thu 10:00, warn Thu 05:12
        "new_warning": desk.receive(at(2026, 3, 10, 15)),  # due Wed 15:00, warn Wed 10:12
        "new_breached": desk.receive(at(2026, 3, 9, 10)),  # due Tue 10:00
        # resolution clock
        "accepted_on_track": desk.accepted(at(2026, 3, 10, 9), at(2026, 3, 10, 10), "P3"),  # due 3-19
        # P2 accepted Fri 3-06 10:00: due Wed 3-11 EOD; 80 % of 309 599 s falls on Wed 06:47:59.2.
        "accepted_warning": desk.accepted(at(2026, 3, 6, 9), at(2026, 3, 6, 10), "P2"),
        "accepted_breached": desk.accepted(at(2026, 3, 6, 9), at(2026, 3, 6, 10), "P1"),  # due Mon 3-09
        "in_progress_breached": desk.in_progress(at(2026, 3, 6, 10), "P1"),
    }
    assert cases["accepted_warning"].resolution_warn_at == at(2026, 3, 11, 6, 47, 59, 200000)
    paused = desk.in_progress(at(2026, 3, 2, 10), "P1")
    cases["paused"] = desk.act(at(2026, 3, 2, 12), "wait_for_consumer", paused, message="请提供发票照片")
    proposed = desk.in_progress(at(2026, 3, 10, 10), "P3")
    cases["proposed_on_track"] = desk.act(at(2026, 3, 10, 12), "propose_resolution", proposed, text="退款 500 元")
    cases["rejected"] = desk.act(
        at(2026, 3, 9, 11), "reject", desk.receive(at(2026, 3, 9, 10)), reason="不属于本公司产品"
    )
    resolved = desk.in_progress(at(2026, 3, 6, 10), "P1")
    cases["resolved"] = desk.act(at(2026, 3, 9, 10), "resolve", resolved, outcome="executed", note="已退款 500 元")
    cases["withdrawn"] = desk.act(
        at(2026, 3, 9, 12), "withdraw", desk.accepted(at(2026, 3, 6, 9), at(2026, 3, 6, 10), "P1"), reason="已私下解决"
    )

    expected = {
        "new_on_track": SlaState.ON_TRACK,
        "new_warning": SlaState.WARNING,
        "new_breached": SlaState.BREACHED,
        "accepted_on_track": SlaState.ON_TRACK,
        "accepted_warning": SlaState.WARNING,
        "accepted_breached": SlaState.BREACHED,
        "in_progress_breached": SlaState.BREACHED,
        "paused": SlaState.PAUSED,
        "proposed_on_track": SlaState.ON_TRACK,
        "rejected": SlaState.STOPPED,
        "resolved": SlaState.STOPPED,
        "withdrawn": SlaState.STOPPED,
    }
    fresh = {name: Complaint.objects.get(pk=c.pk) for name, c in cases.items()}
    assert {name: sla.state(c, now) for name, c in fresh.items()} == expected
    _assert_agreement(fresh, now)


def _assert_agreement(cases: dict[str, Complaint], now: datetime) -> None:
    ids = [c.pk for c in cases.values()]
    for sla_state in SlaState:
        by_state = {name for name, c in cases.items() if sla.state(c, now) == sla_state}
        by_query = set(
            Complaint.objects.filter(pk__in=ids).filter(sla.state_filter(sla_state, now)).values_list("pk", flat=True)
        )
        assert by_query == {cases[name].pk for name in by_state}, (sla_state, now, by_state)


def test_state_and_state_filter_agree_at_the_boundaries(desk):
    new = desk.receive(at(2026, 3, 9, 10))
    accepted = desk.accepted(at(2026, 9, 30, 9), at(2026, 9, 30, 17), "P3")
    cases = {"new": Complaint.objects.get(pk=new.pk), "accepted": Complaint.objects.get(pk=accepted.pk)}
    for c in cases.values():
        for moment in (
            (c.ack_warn_at if c.status == Status.NEW else c.resolution_warn_at) - timedelta(microseconds=1),
            c.ack_warn_at if c.status == Status.NEW else c.resolution_warn_at,
            c.ack_due_at if c.status == Status.NEW else c.resolution_due_at,
            (c.ack_due_at if c.status == Status.NEW else c.resolution_due_at) + timedelta(microseconds=1),
        ):
            _assert_agreement(cases, moment)
    # exactly at the warning: warning; exactly at the deadline: still warning; a moment later: breached
    assert sla.state(cases["accepted"], at(2026, 10, 14, 12, 59, 59, 199999)) == SlaState.ON_TRACK
    assert sla.state(cases["accepted"], at(2026, 10, 14, 12, 59, 59, 200000)) == SlaState.WARNING
    assert sla.state(cases["accepted"], eod(2026, 10, 15)) == SlaState.WARNING
    assert sla.state(cases["accepted"], eod(2026, 10, 15) + timedelta(microseconds=1)) == SlaState.BREACHED


def test_reprioritising_after_a_pause_keeps_the_paused_time(desk):
    c = desk.in_progress(at(2026, 3, 2, 10))  # P3 due Wed 3-11
    c = desk.act(at(2026, 3, 3, 10), "wait_for_consumer", c, message="请提供发票照片")
    c = desk.act(at(2026, 3, 6, 10), "resume", c)  # three working days paused: due Mon 3-16
    c = desk.act(at(2026, 3, 6, 11), "classify", c, priority="P4")
    # P4 from Mon 3-02 is Mon 3-23; with the three paused working days it is Thu 3-26.
    assert c.resolution_due_at == eod(2026, 3, 26)


def _closed_and_reopened(desk: Desk) -> Complaint:
    c = desk.in_progress(at(2026, 3, 2, 10), "P3")  # due Wed 3-11
    c = desk.act(at(2026, 3, 5, 10), "resolve", c, outcome="executed", note="已退款 500 元")
    c = desk.act(at(2026, 3, 5, 12), "close", c, reply_text="您好，退款 500 元已到账。", evidence_complete=True)
    with time_machine.travel(at(2026, 3, 20, 10), tick=False):
        return actions.reopen(c, actor=Actor.consumer(), reason="退款未到账")


def test_a_reopened_case_gets_a_new_clock_from_the_reopening(desk):
    c = _closed_and_reopened(desk)
    assert c.status == Status.REOPENED
    # Fri 3-20 + 7 working days: 23, 24, 25, 26, 27, 30, 31.
    assert c.resolution_due_at == eod(2026, 3, 31)
    assert sla.state(c, at(2026, 3, 20, 11)) == SlaState.ON_TRACK


def test_reprioritising_a_reopened_case_counts_from_the_reopening(desk):
    c = _closed_and_reopened(desk)
    c = desk.act(at(2026, 3, 20, 11), "classify", c, priority="P2")
    # Fri 3-20 + 3 working days: 23, 24, 25.
    assert c.resolution_due_at == eod(2026, 3, 25)
