"""A case in progress in the service department (客服中心), owned by the service agent, and a quality
department (质量部) that is asked for tasks: its handler and agent cannot see the case otherwise."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.test import Client

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from evidence.actions import add_evidence
from evidence.demo_files import pdf, png
from evidence.models import Evidence
from investigation.models import RootCause


@pytest.fixture(autouse=True)
def root_causes(db):  # type: ignore[no-untyped-def]
    """The nine causes of the data migration (transactional tests flush them)."""
    if not RootCause.objects.exists():
        importlib.import_module("investigation.migrations.0002_root_causes").seed(django_apps, None)


def file_case(body, **overrides) -> tuple[Complaint, str]:  # type: ignore[no-untyped-def]
    return actions.submit(check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer())


def work_on(cast, complaint: Complaint) -> Complaint:  # type: ignore[no-untyped-def]
    sup = Actor.staff(cast.supervisor)
    complaint = actions.accept(complaint, actor=sup)
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=sup, owner=cast.agent)
    complaint = actions.start_work(complaint, actor=Actor.staff(cast.agent))
    return Complaint.objects.select_related("org_unit").get(pk=complaint.pk)


@pytest.fixture
def filed(cast, body, org):  # type: ignore[no-untyped-def]
    """(case in progress, access code): the complainant's case, in the service department."""
    complaint, code = file_case(body, org_unit=org.store_sz.pk)
    return work_on(cast, complaint), code


@pytest.fixture
def case(filed):  # type: ignore[no-untyped-def]
    return filed[0]


def fresh(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_related("org_unit").get(pk=complaint.pk)


def evidence_on(complaint: Complaint, user, name: str = "检测报告.pdf") -> Evidence:  # type: ignore[no-untyped-def]
    content = pdf() if name.endswith(".pdf") else png()
    return add_evidence(
        complaint, content=content, filename=name, kind="third_party_proof", actor=Actor.staff(user), via="staff"
    )


def logged_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client
