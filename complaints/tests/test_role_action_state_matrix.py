"""Role x action x state: for every state and persona, the actions the API offers are exactly the
ones the actions layer lets through, and the fixed rules hold (read-only roles never act, archived
cases are read-only, the consumer acts only on their own few actions)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from complaints import actions, duplicates
from complaints.choices import Status
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.transitions import CONSUMER_ACTIONS, FROM_STATES, INTERNAL_ACTIONS, allowed_actions
from core.errors import TransitionNotAllowed, ValidationError

ARGS = {
    "accept": {},
    "reject": {"reason": "不属于受理范围"},
    "classify": {"priority": "P2"},
    "assign": {},
    "start_work": {},
    "wait_for_consumer": {"message": "请补充购买凭证"},
    "resume": {},
    "add_information": {"text": "补充的凭证"},
    "propose_resolution": {"text": "全额退款", "amount": None},
    "accept_proposal": {"note": "电话确认接受"},
    "refuse_proposal": {"reason": "金额太少"},
    "resolve": {"outcome": "executed", "note": "已更换新品"},
    "route_external": {"route": "mediation"},
    "record_external_outcome": {"resolved": True, "note": "调解结束"},
    "withdraw": {"reason": "不再需要"},
    "close": {"reply_text": "已书面答复", "evidence_complete": True},
    "reopen": {"reason": "仍未解决"},
    "archive": {},
    "appeal": {"reason": "请重新审核"},
    "escalate": {"reason": "情绪激动"},
    "de_escalate": {"reason": "已安抚"},
    "add_note": {"text": "备注"},
    "share": {},
}
ACTION_FUNCTIONS = {"add_note": actions.add_note}


def build(state: str, cast, body) -> Complaint:
    sup = Actor.staff(cast.supervisor)
    c, _ = actions.submit(check_intake(IntakeData(**body()), staff=False), actor=Actor.consumer())
    c = actions.escalate(c, actor=sup, reason="测试")  # level 1, so de-escalation is possible
    if state == Status.NEW:
        return c
    if state == Status.REJECTED:
        return actions.reject(c, actor=sup, reason="不属于受理范围")
    if state == Status.WITHDRAWN:
        return actions.withdraw(c, actor=Actor.consumer(), reason="不再需要")
    if state == Status.MERGED:
        other, _ = actions.submit(check_intake(IntakeData(**body()), staff=False), actor=Actor.consumer())
        return duplicates.merge(c, actor=sup, into=other)
    c = actions.accept(c, actor=sup)
    if c.owner_id != cast.agent.pk:
        c = actions.assign(c, actor=sup, owner=cast.agent)
    if state == Status.ACCEPTED:
        return c
    if state == Status.EXTERNAL:
        return actions.route_external(c, actor=sup, route="mediation")
    c = actions.start_work(c, actor=sup)
    if state == Status.IN_PROGRESS:
        return c
    if state == Status.AWAITING_CONSUMER:
        return actions.wait_for_consumer(c, actor=sup, message="请补充凭证")
    if state == Status.RESOLUTION_PROPOSED:
        return actions.propose_resolution(c, actor=sup, text="全额退款")
    c = actions.resolve(c, actor=sup, outcome="executed", note="已更换新品")
    if state == Status.RESOLVED:
        return c
    c = actions.close(c, actor=sup, reply_text="已书面答复", evidence_complete=True)
    if state == Status.CLOSED:
        return c
    if state == Status.REOPENED:
        return actions.reopen(c, actor=Actor.consumer(), reason="仍未解决")
    return actions.archive(c, actor=sup)


class _Undo(Exception):
    pass


def attempt(complaint: Complaint, actor: Actor, action: str) -> str:
    """'done', 'invalid' (allowed but the input was refused), or 'refused' (state or role)."""
    function = getattr(actions, action)
    kwargs = dict(ARGS[action])
    if action == "assign":
        kwargs["owner"] = None
    if action == "share":
        kwargs["user"] = User.objects.get(username="legal")
    try:
        with transaction.atomic():
            function(complaint, actor=actor, **kwargs)
            raise _Undo
    except _Undo:
        return "done"
    except (TransitionNotAllowed, PermissionDenied):
        return "refused"
    except ValidationError:
        return "invalid"


PERSONAS = [
    "agent",
    "agent2",
    "supervisor",
    "quality_agent",
    "handler",
    "legal",
    "manager",
    "analyst",
    "auditor",
    "admin",
    "outsider",
    "consumer",
]


@pytest.mark.parametrize("state", [s.value for s in Status])
def test_offered_actions_are_exactly_the_permitted_ones(state, cast, body):
    complaint = build(state, cast, body)
    assert complaint.status == state
    complaint = Complaint.objects.select_related("org_unit").get(pk=complaint.pk)
    for persona in PERSONAS:
        actor = Actor.consumer() if persona == "consumer" else Actor.staff(getattr(cast, persona))
        offered = set(allowed_actions(complaint, actor))
        for action in set(FROM_STATES) - INTERNAL_ACTIONS:
            outcome = attempt(complaint, actor, action)
            if action in offered:
                assert outcome in {"done", "invalid"}, (state, persona, action, outcome)
            else:
                assert outcome == "refused", (state, persona, action, outcome)
        if persona in {"analyst", "auditor", "admin", "outsider"}:
            assert offered == set(), (state, persona)
        if persona == "consumer":
            assert offered <= CONSUMER_ACTIONS
        if state == Status.ARCHIVED:
            assert offered == set()
    if state in {Status.ACCEPTED, Status.REOPENED}:
        assert "start_work" in allowed_actions(complaint, Actor.staff(cast.agent))  # the owner
        assert "start_work" not in allowed_actions(complaint, Actor.staff(cast.agent2))
    if state == Status.NEW:
        assert "accept" in allowed_actions(complaint, Actor.staff(cast.agent))
        assert "accept" not in allowed_actions(complaint, Actor.staff(cast.quality_agent))


def test_reopen_window_is_enforced_for_consumer_and_staff(cast, body):
    complaint = build(Status.CLOSED, cast, body)
    complaint = Complaint.objects.get(pk=complaint.pk)
    Complaint.objects.filter(pk=complaint.pk).update(closed_at=timezone.now() - timedelta(days=31))
    for actor in (Actor.consumer(), Actor.staff(cast.supervisor)):
        with pytest.raises(TransitionNotAllowed):
            actions.reopen(complaint, actor=actor, reason="还是坏的")
