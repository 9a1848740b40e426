"""A case in progress in the 深圳南山店, owned by the service agent, with evidence; a second legal/PR
user (the statement's approver must not be its drafter); helpers for dossiers."""

import pytest

from accounts.choices import Role
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from conftest import make_user
from evidence.actions import add_evidence
from evidence.choices import EvidenceKind, Via


def case_in_progress(cast, body, **overrides) -> Complaint:
    complaint, _ = actions.submit(check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer())
    sup = Actor.staff(cast.supervisor)
    complaint = actions.accept(complaint, actor=sup)
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=sup, owner=cast.agent)
    complaint = actions.start_work(complaint, actor=Actor.staff(cast.agent))
    return Complaint.objects.select_related("org_unit").get(pk=complaint.pk)


@pytest.fixture
def case(cast, body, org):  # type: ignore[no-untyped-def]
    return case_in_progress(cast, body, org_unit=org.store_sz.pk)


@pytest.fixture
def legal2(org):  # type: ignore[no-untyped-def]
    return make_user("legal2", (Role.LEGAL_PR, None))


def png(seed: int = 0) -> bytes:
    from evidence import demo_files

    return demo_files.png(40, 30, shade=seed)


def pdf_bytes() -> bytes:
    from evidence import demo_files

    return demo_files.pdf()


@pytest.fixture
def case_with_evidence(case, cast):  # type: ignore[no-untyped-def]
    add_evidence(
        case,
        content=png(1),
        filename="漏电照片.png",
        kind=EvidenceKind.PHYSICAL_ITEM,
        actor=Actor.staff(cast.agent),
        via=Via.STAFF,
        description="水壶底座烧焦",
    )
    add_evidence(
        case,
        content=pdf_bytes(),
        filename="购物凭证.pdf",
        kind=EvidenceKind.THIRD_PARTY_PROOF,
        actor=Actor.staff(cast.supervisor),
        via=Via.STAFF,
    )
    return Complaint.objects.select_related("org_unit").get(pk=case.pk)
