"""A case in progress in the 深圳南山店 (company → 华南区 → store), owned by the service agent, and an
executive (a manager of the company, the top-level org unit)."""

import pytest

from accounts.choices import Role
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from conftest import make_user


def case_in_progress(cast, body, **overrides) -> Complaint:
    complaint, _ = actions.submit(check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer())
    sup = Actor.staff(cast.supervisor)
    complaint = actions.accept(complaint, actor=sup)
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=sup, owner=cast.agent)
    complaint = actions.start_work(complaint, actor=Actor.staff(cast.agent))
    return Complaint.objects.select_related("org_unit").get(pk=complaint.pk)


@pytest.fixture
def executive(org):  # type: ignore[no-untyped-def]
    return make_user("executive", (Role.MANAGER, org.company))


@pytest.fixture
def case(cast, body, org):  # type: ignore[no-untyped-def]
    return case_in_progress(cast, body, org_unit=org.store_sz.pk)
