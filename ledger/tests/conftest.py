"""Cases made through the real actions (every action appends one ledger event)."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint


@pytest.fixture
def make_case(cast: Any, body: Callable[..., dict[str, Any]]) -> Callable[..., Complaint]:
    def make(worked: bool = True, **overrides: Any) -> Complaint:
        """A received case; worked: also accepted, started, noted and a resolution proposed (5 events)."""
        data = check_intake(IntakeData(**body(**overrides)), staff=False)
        complaint, _code = actions.submit(data, actor=Actor.consumer())
        if worked:
            complaint = actions.accept(
                complaint, actor=Actor.staff(cast.agent), priority="P2", note="已受理，三日内答复。"
            )
            # Routing picked the first responsible person: they do the work. Outside working days
            # nobody is on shift and the case has no owner yet: the department's supervisor does it.
            staff = Actor.staff(complaint.owner or cast.supervisor)
            complaint = actions.start_work(complaint, actor=staff)
            complaint = actions.add_note(complaint, actor=staff, text="已联系张三，确认漏电情况。")
            complaint = actions.propose_resolution(
                complaint, actor=staff, text="退款并补偿 200 元。", amount=Decimal("200.00")
            )
        complaint.refresh_from_db()
        return complaint

    return make
