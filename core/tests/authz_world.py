"""The fixture world of the authorisation matrix (core/tests/test_authorisation_matrix.py).

Two departments in two org units: "own" (客服中心 under 华南区, where every department-scoped user
sits) and "other" (物流部 under 华北区). In each, one case per matrix state, with the objects the
detail URLs need (evidence, task, remedy, offer, finding, proceeding, contact, delivery, call-back,
care action, duplicate link). One user per role; the legal/PR user's "own" cases are the ones shared
with them (DESIGN.md §1: legal/PR see cases at level 3, with a legal flag, or shared with them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from accounts.choices import OrgUnitKind, Role
from accounts.models import ApiToken, Department, OrgUnit, User
from complaints import actions
from complaints.choices import Status
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from conftest import complaint_body, ensure_reference_data, make_user

# The matrix's states, in the order of the letters of a state-dependent cell.
STATES = (Status.NEW, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED, Status.ARCHIVED)
SIDES = ("own", "other")
ROLES = (
    Role.AGENT,
    Role.SUPERVISOR,
    Role.DEPARTMENT_HANDLER,
    Role.LEGAL_PR,
    Role.MANAGER,
    Role.ANALYST,
    Role.AUDITOR,
    Role.ADMIN,
)
# The matrix's columns: anonymous, the consumer (access code), staff without a role, one per role.
SUBJECTS = ("anon", "consumer", "none", *ROLES)


def make(model: type[models.Model], **values: Any) -> Any:
    """A row with every required field filled with a plain value of its type (the first choice of a
    choice field): enough for a detail URL to resolve, never a realistic record."""
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in values or f.attname in values:
            continue
        if f.has_default() or f.null or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        if isinstance(f, models.ForeignKey):  # OneToOneField too
            existing = f.related_model._default_manager.first()
            if existing is None:
                raise TypeError(f"{model.__name__}.{f.name} needs a value")
            values[f.name] = existing
            continue
        if f.choices:
            values[f.name] = f.choices[0][0]
        elif isinstance(f, models.BooleanField):
            values[f.name] = False
        elif isinstance(f, (models.IntegerField, models.FloatField)):
            values[f.name] = 1
        elif isinstance(f, models.DecimalField):
            values[f.name] = Decimal("1")
        elif isinstance(f, models.DateTimeField):
            values[f.name] = timezone.now()
        elif isinstance(f, models.DateField):
            values[f.name] = date.today()
        elif isinstance(f, models.TimeField):
            values[f.name] = time(9, 0)
        elif isinstance(f, models.DurationField):
            values[f.name] = timedelta(hours=1)
        elif isinstance(f, models.JSONField):
            values[f.name] = {}
        elif isinstance(f, (models.CharField, models.TextField)):
            values[f.name] = "授权矩阵"[: f.max_length or 10]
        elif isinstance(f, models.BinaryField):
            values[f.name] = b""
        elif isinstance(f, models.FileField):
            values[f.name] = "authz/none.bin"
        else:
            raise TypeError(f"{model.__name__}.{f.name}: no filler for {type(f).__name__}")
    return model.objects.create(**values)


@dataclass
class Case:
    complaint: Complaint
    access_code: str
    objects: dict[str, int] = field(default_factory=dict)  # evidence, task, remedy, offer, …


@dataclass
class World:
    users: dict[str, User]  # subject → user (no entry for anon, consumer)
    tokens: dict[str, str]  # subject → raw API token
    token_ids: dict[str, int]  # subject → the id of that token
    cases: dict[tuple[str, str], Case]  # (side, state) → case
    objects: dict[tuple[str, str], int]  # (kind, side) → id of a non-case object
    departments: dict[str, Department]
    units: dict[str, OrgUnit]
    survey_tokens: dict[tuple[str, str], str]  # (side, state) → the survey link's token


def _advance(c: Complaint, state: str, sup: Actor, owner: User) -> Complaint:
    if state == Status.NEW:
        return c
    c = actions.accept(c, actor=sup)
    if c.owner_id != owner.pk:
        c = actions.assign(c, actor=sup, owner=owner)
    c = actions.start_work(c, actor=sup)
    if state == Status.IN_PROGRESS:
        return c
    c = actions.resolve(c, actor=sup, outcome="executed", note="已更换新品")
    if state == Status.RESOLVED:
        return c
    c = actions.close(c, actor=sup, reply_text="已书面答复", evidence_complete=True)
    if state == Status.CLOSED:
        return c
    return actions.archive(c, actor=sup)


def _case_objects(case: Case, staff: User, department: Department, customer_id: int | None) -> None:
    from casework.models import Contact
    from dossier.models import ExternalProceeding
    from feedback.models import Callback
    from investigation.models import CoordinationTask, Finding, RootCause
    from notifications.models import Delivery
    from resolutions.models import Offer, Remedy

    c = case.complaint
    ids = case.objects
    ids["task"] = make(CoordinationTask, complaint=c, department=department, created_by=staff).pk
    ids["remedy"] = make(Remedy, complaint=c, proposed_by=staff, status="pending_approval").pk
    ids["offer"] = make(Offer, complaint=c, made_by=staff).pk
    ids["finding"] = make(Finding, complaint=c, root_cause=RootCause.objects.first(), recorded_by=staff).pk
    ids["proceeding"] = make(ExternalProceeding, complaint=c, opened_by=staff).pk
    ids["contact"] = make(Contact, complaint=c, recorded_by=staff).pk
    ids["delivery"] = make(Delivery, complaint=c, status="failed").pk
    ids["callback"] = make(Callback, complaint=c, due_at=timezone.now() + timedelta(days=3)).pk


def build(tmp_settings: Any = None) -> World:
    """Create the world in the current transaction (the test's)."""
    from complaints.models import CaseShare, DuplicateLink
    from evidence.actions import add_evidence
    from evidence.demo_files import pdf

    ensure_reference_data()
    import importlib

    from django.apps import apps as django_apps

    from investigation.models import RootCause

    if not RootCause.objects.exists():
        importlib.import_module("investigation.migrations.0002_root_causes").seed(django_apps, None)

    own_dept = Department.objects.create(code="service", name="客服中心", name_en="Customer Service", is_default=True)
    other_dept = Department.objects.create(code="logistics", name="物流部", name_en="Logistics")
    company = OrgUnit.objects.create(name="示例集团", kind=OrgUnitKind.COMPANY)
    south = OrgUnit.objects.create(name="华南区", kind=OrgUnitKind.REGION, parent=company)
    north = OrgUnit.objects.create(name="华北区", kind=OrgUnitKind.REGION, parent=company)
    store_sz = OrgUnit.objects.create(
        name="深圳南山店", kind=OrgUnitKind.STORE, parent=south, province_code="440000", city_code="440300"
    )
    store_bj = OrgUnit.objects.create(
        name="北京朝阳店", kind=OrgUnitKind.STORE, parent=north, province_code="110000", city_code="110100"
    )
    scope = {
        Role.AGENT: own_dept,
        Role.SUPERVISOR: own_dept,
        Role.DEPARTMENT_HANDLER: own_dept,
        Role.MANAGER: south,
    }
    users: dict[str, User] = {"none": make_user("authz_none")}
    for role in ROLES:
        users[role] = make_user(f"authz_{role}", (role, scope.get(role)), is_staff=role == Role.ADMIN)
    # The other department's people: the owners of its cases, and the subjects of "other" scorecards.
    other_agent = make_user("authz_other_agent", (Role.AGENT, other_dept))
    other_sup = make_user("authz_other_supervisor", (Role.SUPERVISOR, other_dept))
    # Who proposed the remedies and recorded the findings: nobody approves their own (DESIGN.md §5).
    own_author = make_user("authz_own_author", (Role.AGENT, own_dept))
    issued = {name: ApiToken.issue(user, "authz") for name, user in users.items()}
    tokens = {name: raw for name, (_token, raw) in issued.items()}

    cases: dict[tuple[str, str], Case] = {}
    for side, dept, unit, sup_user, owner, author in (
        ("own", own_dept, store_sz, users[Role.SUPERVISOR], users[Role.AGENT], own_author),
        ("other", other_dept, store_bj, other_sup, other_agent, other_agent),
    ):
        for state in STATES:
            body = complaint_body(
                complainant_name=f"客户{side}",
                complainant_phone=f"1380013{8000 + (side == 'other')}",
                complainant_email=f"{side}@example.com",
                org_unit=unit.pk,
            )
            if side == "other":
                body.update(province_code="110000", city_code="110100", district_code="110105")
            c, code = actions.submit(check_intake(IntakeData(**body), staff=False), actor=Actor.consumer())
            Complaint.objects.filter(pk=c.pk).update(department=dept, org_unit=unit)
            c = Complaint.objects.select_related("org_unit").get(pk=c.pk)
            case = Case(c, code)
            case.objects["evidence"] = add_evidence(
                c,
                content=pdf(),
                filename="检测报告.pdf",
                kind="third_party_proof",
                actor=Actor.staff(sup_user),
                via="staff",
            ).pk
            case.complaint = _advance(c, state, Actor.staff(sup_user), owner)
            _case_objects(case, author, dept, c.customer_id)
            if side == "own":
                CaseShare.objects.create(complaint=c, user=users[Role.LEGAL_PR], shared_by=sup_user)
            cases[(side, state)] = case
    for case in cases.values():  # the versions the writes must send
        case.complaint = Complaint.objects.select_related("org_unit").get(pk=case.complaint.pk)
    # A suspected duplicate on each case: a link to its neighbour in the same department.
    for side in SIDES:
        for n, state in enumerate(STATES):
            case = cases[(side, state)]
            twin = cases[(side, STATES[(n + 1) % len(STATES)])].complaint
            case.objects["link"] = make(DuplicateLink, complaint=case.complaint, candidate=twin).pk

    from feedback.models import Survey
    from feedback.tokens import make_token

    survey_tokens = {}
    for key, case in cases.items():
        survey = make(Survey, complaint=case.complaint, status="sent", sent_at=timezone.now())
        survey_tokens[key] = make_token(survey.pk, survey.round)
    objects: dict[tuple[str, str], int] = {}
    _other_objects(objects, users, cases, own_dept, other_dept, south, north, other_agent, other_sup)
    return World(
        users=users,
        tokens=tokens,
        token_ids={name: token.pk for name, (token, _raw) in issued.items()},
        cases=cases,
        objects=objects,
        departments={"own": own_dept, "other": other_dept},
        units={"own": south, "other": north},
        survey_tokens=survey_tokens,
    )


def _other_objects(
    objects: dict[tuple[str, str], int],
    users: dict[str, User],
    cases: dict[tuple[str, str], Case],
    own_dept: Department,
    other_dept: Department,
    south: OrgUnit,
    north: OrgUnit,
    other_agent: User,
    other_sup: User,
) -> None:
    from customers.models import CareAction, Customer
    from imports.models import ImportJob
    from improvement.models import ImprovementPlan, LibraryEntry
    from intake.models import InboundMail
    from intelligence.models import SpikeAlert
    from notifications.models import WebhookSubscription
    from reports.models import ReportSubscription
    from risk.models import RiskAlert, RiskAssessment

    now = timezone.now()
    for side, dept, unit, sup, agent in (
        ("own", own_dept, south, users[Role.SUPERVISOR], users[Role.AGENT]),
        ("other", other_dept, north, other_sup, other_agent),
    ):
        customer = Customer.objects.get(pk=cases[(side, Status.IN_PROGRESS)].complaint.customer_id)
        objects[("customer", side)] = customer.pk
        objects[("care", side)] = make(
            CareAction, customer=customer, assignee=agent, created_by=sup, due_at=now + timedelta(days=2)
        ).pk
        objects[("plan", side)] = make(ImprovementPlan, owner=sup, org_unit=unit, created_by=sup).pk
        closed = cases[(side, Status.CLOSED)].complaint
        objects[("library", side)] = make(LibraryEntry, source_complaint=closed, added_by=sup).pk
        assessment = make(
            RiskAssessment, day=date.today(), kind="department", key=dept.code, department=dept, org_unit=unit
        )
        objects[("risk_alert", side)] = make(RiskAlert, assessment=assessment).pk
        objects[("person", side)] = agent.pk
        objects[("report_subscription", side)] = make(ReportSubscription, user=sup, department=dept).pk
        objects[("token", side)] = ApiToken.issue(agent if side == "other" else users[Role.AGENT], "authz-page")[0].pk
    try:
        from customers.models import CustomerDataImport
    except ImportError:  # another part of issue 9 may not have it yet
        CustomerDataImport = None
    if CustomerDataImport is not None:
        for side, who in (("own", users[Role.ADMIN]), ("other", other_sup)):
            objects[("customer_import", side)] = make(CustomerDataImport, created_by=who).pk
    objects[("spike", "any")] = make(SpikeAlert).pk
    objects[("import", "any")] = make(ImportJob, created_by=users[Role.ADMIN]).pk
    objects[("mail", "any")] = make(InboundMail).pk
    objects[("webhook_subscription", "any")] = make(WebhookSubscription).pk


def department_code(world: World, side: str) -> str:
    return world.departments[side].code


def as_of(value: datetime) -> str:
    return value.isoformat()
