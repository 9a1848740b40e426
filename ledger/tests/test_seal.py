"""Checkpoints seal every case head, also one whose event committed after an earlier checkpoint ran."""

from datetime import timedelta

import time_machine
from django.utils import timezone

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from ledger import chain
from ledger.models import LedgerEvent, SealedHead
from ledger.verify import verify


def _case(body):
    return actions.submit(check_intake(IntakeData(**body()), staff=False), actor=Actor.consumer())[0]


def test_an_event_older_than_the_last_checkpoint_is_still_sealed(cast, body):
    start = timezone.now()
    first = _case(body)
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        cp1 = chain.seal(now=start + timedelta(minutes=2))
    assert [h[0] for h in cp1.heads] == [first.pk]
    # An event stamped before that checkpoint but visible only now (a slow commit).
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        late = _case(body)
    cp2 = chain.seal(now=start + timedelta(minutes=3))
    assert [h[0] for h in cp2.heads] == [late.pk]
    assert chain.seal(now=start + timedelta(minutes=4)) is None  # nothing moved since
    assert SealedHead.objects.get(complaint=late).seq == 1
    assert verify().ok


def test_a_moving_case_is_sealed_again_at_its_new_head(cast, body):
    case = _case(body)
    chain.seal(settle=timedelta(0))
    actions.escalate(case, actor=Actor.staff(cast.agent), reason="客户情绪激动")
    cp = chain.seal(settle=timedelta(0))
    head = LedgerEvent.objects.get(complaint=case, seq=2)
    assert cp.heads == [[case.pk, 2, head.hash]]
