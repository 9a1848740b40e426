"""Staff endpoints: token auth (tokens stored hashed) or the UI's session with CSRF.

Writes carry the case version, as `If-Match: "<version>"` or a `version` field; a stale write gets
412 (If-Match) or 409 (version field) and changes nothing."""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.security import HttpBearer, SessionAuth
from pydantic import ConfigDict, Field

from accounts.choices import CASE_ROLES
from accounts.models import ApiToken, Department, Notification, User, hash_token
from core.errors import ValidationError
from core.http import json_response
from core.validation import BoundedDatetime, CleanText

from . import actions
from .choices import (
    Channel,
    ComplainantType,
    ExternalRoute,
    Nature,
    Outcome,
    Priority,
    RiskFlag,
    Severity,
    SlaState,
    Status,
)
from .intake import IntakeData, active_category, check_intake
from .ledgering import Actor
from .models import Category, Complaint
from .permissions import Principal, get_complaint_for_user
from .selectors import decode_cursor, encode_cursor, filtered, staff_timeline, staff_view


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        record = ApiToken.objects.select_related("user").filter(key_hash=hash_token(token), revoked=False).first()
        if record is None or not record.user.is_active:
            return None
        now = timezone.now()
        if record.expires_at and record.expires_at <= now:
            return None
        if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
        request.user = record.user
        return record.user


class StaffSession(SessionAuth):
    """The UI's session (CSRF checked on writes); only staff with a role get in."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and Principal.of(user).roles else None


router = Router(tags=["staff"], auth=[TokenAuth(), StaffSession()])


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    if not Principal.of(user).roles & CASE_ROLES:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(_("您没有任何投诉处理角色。"))
    return user


def _expected_version(request: HttpRequest, version: int | None) -> int:
    header = request.headers.get("If-Match", "").strip()
    if header:
        match = re.fullmatch(r'(?:W/)?"?([0-9]{1,9})"?', header)
        if match is None:
            raise ValidationError("If-Match", _('应为 ETag，例如 "3"。'))
        return int(match.group(1))
    if version is None:
        raise ValidationError("version", _("写操作须带上投诉的版本号（If-Match 请求头或 version 字段）。"))
    return version


def _detail_response(
    request: HttpRequest, complaint: Complaint, user: User, status: int = 200, extra: dict[str, Any] | None = None
) -> HttpResponse:
    complaint = Complaint.objects.select_related("category", "subcategory", "department", "owner", "org_unit").get(
        pk=complaint.pk
    )
    response = json_response({**staff_view(complaint, user), **(extra or {})}, status=status)
    response["ETag"] = f'"{complaint.version}"'
    return response


# --- lists and detail ------------------------------------------------------------------------


class ListFilters(Schema):
    model_config = ConfigDict(extra="forbid")
    state: list[Status] = []
    priority: list[Priority] = []
    category: list[CleanText] = []
    department: list[CleanText] = []
    owner: list[CleanText] = []
    channel: list[Channel] = []
    sla: SlaState | None = None
    received_from: BoundedDatetime | None = None
    received_to: BoundedDatetime | None = None
    q: CleanText = Field("", max_length=200)
    cursor: CleanText = ""
    limit: int = Field(50, ge=1, le=200)


@router.get("/complaints", summary="List the cases you may see")
def list_complaints(request: HttpRequest, filters: Query[ListFilters]) -> dict[str, Any]:
    user = _user(request)
    queryset = Complaint.objects.visible_to(user).select_related("category", "subcategory", "department", "owner")
    values = filters.dict()
    for key in ("received_from", "received_to"):
        if values[key] is not None and timezone.is_naive(values[key]):
            values[key] = timezone.make_aware(values[key], timezone.get_default_timezone())
    queryset = filtered(queryset, values)
    if filters.cursor:
        after = decode_cursor(filters.cursor)
        if after is None:
            raise ValidationError("cursor", _("游标无效。"))
        queryset = queryset.filter(pk__lt=after)
    page = list(queryset.order_by("-pk")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {
        "items": [staff_view(c, user, detail=False) for c in page],
        "next_cursor": encode_cursor(page[-1].pk) if more else None,
    }


def register_complaint(request: HttpRequest, user: User, payload: IntakeData) -> HttpResponse:
    """Staff registration, reached through POST /complaints with a staff token (intake.api)."""
    if "channel" not in payload.model_fields_set:
        payload.channel = Channel.PHONE
    check_intake(payload, staff=True)
    complaint, access_code = actions.submit(payload, actor=Actor.staff(user))
    return _detail_response(request, complaint, user, status=201, extra={"access_code": access_code})


def _add_public_intake() -> None:
    # POST and GET /complaints must live on one router: Django resolves the path once.
    from core.api_schema import documented
    from intake.api import Receipt, file_complaint

    router.add_api_operation(
        "/complaints",
        ["POST"],
        file_complaint,
        auth=None,
        response={201: Receipt},
        summary="File a complaint (public intake; staff registration with a token)",
        openapi_extra=documented(
            401,
            403,
            parameters=[
                {
                    "in": "header",
                    "name": "Idempotency-Key",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 200},
                    "description": "A retry with the same key within 24 hours returns the first answer",
                }
            ],
        ),
        tags=["public"],
    )


_add_public_intake()


@router.get("/complaints/{tracking_no}", summary="One case, with the actions you may take")
def complaint_detail(request: HttpRequest, tracking_no: str) -> HttpResponse:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    if not Principal.of(user).masked_for(complaint):  # issue 6 (privacy): an unmasked read is a ledger event
        from privacy.audit import record_personal_access  # issue 6 (privacy)

        record_personal_access([complaint.pk], actor=Actor.staff(user), how="case_api")  # issue 6 (privacy)
    return _detail_response(request, complaint, user)


@router.get("/complaints/{tracking_no}/timeline", summary="The case's ledger events")
def complaint_timeline(request: HttpRequest, tracking_no: str) -> list[dict[str, Any]]:
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no)
    from privacy.audit import record_case_read  # issue 9: a read of personal data is a ledger event

    record_case_read(user, complaint, "timeline")
    return staff_timeline(complaint, user)


# --- lifecycle actions -----------------------------------------------------------------------


class Versioned(Schema):
    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(None, ge=1)


class AcceptIn(Versioned):
    priority: Priority | None = None
    severity: Severity | None = None
    category: CleanText = ""
    subcategory: CleanText = ""
    note: CleanText = Field("", max_length=2000)


class ReasonIn(Versioned):
    reason: CleanText = Field(max_length=2000)


class NoteIn(Versioned):
    note: CleanText = Field("", max_length=2000)


class ClassifyIn(Versioned):
    priority: Priority | None = None
    severity: Severity | None = None
    category: CleanText | None = None
    subcategory: CleanText = ""
    nature: Nature | None = None
    complainant_type: ComplainantType | None = None
    risk_flags: list[RiskFlag] | None = None


class AssignIn(Versioned):
    department: CleanText = ""
    owner: CleanText = ""
    note: CleanText = Field("", max_length=2000)


class RequestIn(Versioned):
    request: CleanText = Field(max_length=5000)


class ProposalIn(Versioned):
    text: CleanText = Field(max_length=10_000)
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)


class ResolveIn(Versioned):
    outcome: Outcome
    note: CleanText = Field(max_length=10_000)
    open_routes: list[ExternalRoute] = []


class ExternalIn(Versioned):
    route: ExternalRoute
    reference: CleanText = Field("", max_length=100)
    due_at: BoundedDatetime | None = None
    note: CleanText = Field("", max_length=2000)


class ExternalOutcomeIn(Versioned):
    resolved: bool
    note: CleanText = Field(max_length=10_000)


class CloseIn(Versioned):
    # Sent as the written reply first (casework.send_reply); empty when a reply was sent already.
    reply_text: CleanText = Field("", max_length=20_000)
    # The closer confirms the evidence is complete (an item of the closing checklist).
    evidence_complete: bool = False


class StaffNoteIn(Versioned):
    text: CleanText = Field(max_length=10_000)
    internal: bool = True


def _categories(category: str | None, subcategory: str) -> tuple[Category | None, Category | None]:
    if not category:
        if subcategory:
            raise ValidationError("category", _("填写子分类时必须同时填写分类。"))
        return None, None
    cat = active_category(category)
    if cat is None:
        raise ValidationError("category", _("不在投诉分类中：%(code)s") % {"code": category})
    sub = None
    if subcategory:
        sub = active_category(subcategory, parent=cat)
        if sub is None:
            raise ValidationError("subcategory", _("不是所选分类下的子分类：%(code)s") % {"code": subcategory})
    return cat, sub


def _category_kwargs(category: str | None, subcategory: str) -> dict[str, Any]:
    cat, sub = _categories(category, subcategory)
    return {"category": cat, "subcategory": sub}


def _act(
    request: HttpRequest,
    tracking_no: str,
    payload: Versioned,
    action: str,
    prepare: Callable[[], dict[str, Any]] | None = None,
    **kwargs: Any,
) -> HttpResponse:
    """Parse → check access → act. `prepare` resolves names (users, departments, categories) only
    after the access check, so that nothing about them leaks to someone without the right."""
    user = _user(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    actor = Actor.staff(user)
    actions.check_may(complaint, actor, action)
    expected = _expected_version(request, payload.version)
    if prepare is not None:
        kwargs.update(prepare())
    updated = getattr(actions, action)(complaint, actor=actor, expected_version=expected, **kwargs)
    # The actor may no longer see the case (reassigned away): answer with what was done.
    if not Complaint.objects.visible_to(user).filter(pk=updated.pk).exists():
        return json_response({"tracking_no": updated.tracking_no, "status": updated.status, "version": updated.version})
    return _detail_response(request, updated, user)


@router.post("/complaints/{tracking_no}/accept", summary="Accept (初步判断): classify, prioritise, route")
def accept(request: HttpRequest, tracking_no: str, payload: AcceptIn) -> HttpResponse:
    return _act(
        request,
        tracking_no,
        payload,
        "accept",
        prepare=lambda: _category_kwargs(payload.category, payload.subcategory),
        priority=payload.priority,
        severity=payload.severity,
        note=payload.note,
    )


@router.post("/complaints/{tracking_no}/reject", summary="Reject (不予受理) with a reason")
def reject(request: HttpRequest, tracking_no: str, payload: ReasonIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "reject", reason=payload.reason)


@router.post("/complaints/{tracking_no}/classify", summary="Change classification and priority")
def classify(request: HttpRequest, tracking_no: str, payload: ClassifyIn) -> HttpResponse:
    def prepare() -> dict[str, Any]:
        if payload.category is None:
            return {"category": None, "subcategory": None}
        return _category_kwargs(payload.category, payload.subcategory)

    return _act(
        request,
        tracking_no,
        payload,
        "classify",
        prepare=prepare,
        priority=payload.priority,
        severity=payload.severity,
        nature=payload.nature,
        complainant_type=payload.complainant_type,
        risk_flags=payload.risk_flags,
    )


@router.post("/complaints/{tracking_no}/assign", summary="Assign or reassign department and owner")
def assign(request: HttpRequest, tracking_no: str, payload: AssignIn) -> HttpResponse:
    def prepare() -> dict[str, Any]:
        department = None
        if payload.department:
            department = Department.objects.filter(code=payload.department).first()
            if department is None:
                raise ValidationError("department", _("部门不存在：%(code)s") % {"code": payload.department})
        owner = None
        if payload.owner:
            owner = User.objects.filter(username=payload.owner, is_active=True).first()
            if owner is None:
                raise ValidationError("owner", _("用户不存在：%(name)s") % {"name": payload.owner})
        return {"department": department, "owner": owner}

    return _act(request, tracking_no, payload, "assign", prepare=prepare, note=payload.note)


@router.post("/complaints/{tracking_no}/start", summary="Start work")
def start(request: HttpRequest, tracking_no: str, payload: Versioned) -> HttpResponse:
    return _act(request, tracking_no, payload, "start_work")


@router.post("/complaints/{tracking_no}/wait-for-consumer", summary="Ask the consumer for information")
def wait_for_consumer(request: HttpRequest, tracking_no: str, payload: RequestIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "wait_for_consumer", message=payload.request)


@router.post("/complaints/{tracking_no}/resume", summary="Resume work (the clock runs again)")
def resume(request: HttpRequest, tracking_no: str, payload: NoteIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "resume", note=payload.note)


@router.post("/complaints/{tracking_no}/propose", summary="Propose a resolution")
def propose(request: HttpRequest, tracking_no: str, payload: ProposalIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "propose_resolution", text=payload.text, amount=payload.amount)


@router.post("/complaints/{tracking_no}/consumer-accepted", summary="Record the consumer's acceptance")
def consumer_accepted(request: HttpRequest, tracking_no: str, payload: NoteIn) -> HttpResponse:
    """`note` says how the consumer gave their agreement (required)."""
    return _act(request, tracking_no, payload, "accept_proposal", note=payload.note)


@router.post("/complaints/{tracking_no}/consumer-refused", summary="Record the consumer's refusal")
def consumer_refused(request: HttpRequest, tracking_no: str, payload: ReasonIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "refuse_proposal", reason=payload.reason)


@router.post("/complaints/{tracking_no}/resolve", summary="Resolve: remedy executed, or final decision")
def resolve(request: HttpRequest, tracking_no: str, payload: ResolveIn) -> HttpResponse:
    return _act(
        request,
        tracking_no,
        payload,
        "resolve",
        outcome=payload.outcome,
        note=payload.note,
        open_routes=[str(r) for r in payload.open_routes],
    )


@router.post("/complaints/{tracking_no}/external", summary="Route to mediation, arbitration, court or regulator")
def external(request: HttpRequest, tracking_no: str, payload: ExternalIn) -> HttpResponse:
    due = payload.due_at
    if due is not None and timezone.is_naive(due):
        due = timezone.make_aware(due, timezone.get_default_timezone())
    return _act(
        request,
        tracking_no,
        payload,
        "route_external",
        route=payload.route,
        reference=payload.reference,
        due_at=due,
        note=payload.note,
    )


@router.post("/complaints/{tracking_no}/external-outcome", summary="Record the outcome of the external route")
def external_outcome(request: HttpRequest, tracking_no: str, payload: ExternalOutcomeIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "record_external_outcome", resolved=payload.resolved, note=payload.note)


@router.post("/complaints/{tracking_no}/withdraw", summary="Record the consumer's withdrawal")
def withdraw(request: HttpRequest, tracking_no: str, payload: ReasonIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "withdraw", reason=payload.reason)


@router.post("/complaints/{tracking_no}/close", summary="Close (结案) when the closing checklist is met")
def close(request: HttpRequest, tracking_no: str, payload: CloseIn) -> HttpResponse:
    """422 names each unmet item of the checklist as a field: reply_sent, remedies_settled,
    evidence_complete, survey_scheduled (docs/casework.md)."""
    return _act(
        request,
        tracking_no,
        payload,
        "close",
        reply_text=payload.reply_text,
        evidence_complete=payload.evidence_complete,
    )


@router.post("/complaints/{tracking_no}/reopen", summary="Reopen within the window")
def reopen(request: HttpRequest, tracking_no: str, payload: ReasonIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "reopen", reason=payload.reason)


@router.post("/complaints/{tracking_no}/archive", summary="Archive (read-only afterwards)")
def archive(request: HttpRequest, tracking_no: str, payload: Versioned) -> HttpResponse:
    return _act(request, tracking_no, payload, "archive")


@router.post("/complaints/{tracking_no}/escalate", summary="Raise the escalation level")
def escalate(request: HttpRequest, tracking_no: str, payload: ReasonIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "escalate", reason=payload.reason)


@router.post("/complaints/{tracking_no}/de-escalate", summary="Lower the escalation level")
def de_escalate(request: HttpRequest, tracking_no: str, payload: ReasonIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "de_escalate", reason=payload.reason)


@router.post("/complaints/{tracking_no}/notes", summary="Add a note (internal by default)")
def add_note(request: HttpRequest, tracking_no: str, payload: StaffNoteIn) -> HttpResponse:
    return _act(request, tracking_no, payload, "add_note", text=payload.text, internal=payload.internal)


class ShareIn(Versioned):
    user: CleanText = Field(max_length=150)
    note: CleanText = Field("", max_length=2000)


@router.post("/complaints/{tracking_no}/share", summary="Share the case with a legal/PR user")
def share(request: HttpRequest, tracking_no: str, payload: ShareIn) -> HttpResponse:
    def prepare() -> dict[str, Any]:
        target = User.objects.filter(username=payload.user, is_active=True).first()
        if target is None:
            raise ValidationError("user", _("用户不存在：%(name)s") % {"name": payload.user})
        return {"user": target}

    return _act(request, tracking_no, payload, "share", prepare=prepare, note=payload.note)


@router.get("/notifications", summary="Your in-app notifications")
def notifications(request: HttpRequest, unread: bool = False) -> list[dict[str, Any]]:
    user = _user(request)
    rows = Notification.objects.filter(recipient=user).select_related("complaint")
    if unread:
        rows = rows.filter(read_at__isnull=True)
    return [
        {
            "id": n.id,
            "kind": n.kind,
            "message": n.message,
            "created_at": n.created_at.isoformat(),
            "tracking_no": n.complaint.tracking_no if n.complaint_id else None,
            "read": n.read_at is not None,
        }
        for n in rows[:200]
    ]
