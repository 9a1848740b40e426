"""The staff workbench: the queue and the case page. Thin views: parse → check access → action."""

from datetime import datetime
from typing import Any

from django.apps import apps as django_apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.choices import CASE_ROLES, Role
from accounts.models import Department, SavedView, User
from core.errors import DomainError, TransitionNotAllowed, ValidationError, VersionConflict
from core.validation import CONTROL

from . import actions, duplicates, search, sla
from .api_duplicates import visible_links
from .choices import OPEN_STATES, Priority, SlaState, Status
from .ledgering import Actor
from .models import Category, Complaint
from .permissions import Principal, get_complaint_for_user
from .selectors import page_of, search_count_cap, staff_timeline, staff_view
from .web_actions import ACTION_FORMS, LABELS, parse

PAGE_SIZE = 50


def _staff(request: HttpRequest) -> Any:
    principal = Principal.of(request.user)
    if not principal.roles & CASE_ROLES:
        raise PermissionDenied
    return request.user


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    cases = Complaint.objects.visible_to(user).select_related("category", "department", "owner")
    scope = request.GET.get("scope", "mine")
    if scope == "mine":
        cases = cases.filter(owner=user)
    state = request.GET.get("state", "open")
    if state == "open":
        cases = cases.filter(status__in=OPEN_STATES)
    elif state in Status.values:
        cases = cases.filter(status=state)
    priority = request.GET.get("priority", "")
    if priority in Priority.values:
        cases = cases.filter(priority=priority)
    sla_state = request.GET.get("sla", "")
    if sla_state in SlaState.values:
        cases = cases.filter(sla.state_filter(sla_state))
    q = request.GET.get("q", "").strip()[:200]
    if q:
        cases = search.filter_text(cases, q)
    cases, drill, drill_errors = _drill_filters(cases, request.GET)
    order = request.GET.get("order", "due")
    ordering = {"due": ["resolution_due_at", "ack_due_at", "-pk"], "new": ["-pk"], "priority": ["priority", "-pk"]}
    cases = cases.order_by(*ordering.get(order, ordering["due"]))
    page = page_of(cases, request.GET.get("page"), PAGE_SIZE, cap=search_count_cap() if q else None)
    now = timezone.now()
    rows = [
        {"case": c, "sla": sla.state(c, now), "due": _due(c), "age_days": (now - c.received_at).days}
        for c in page.object_list
    ]
    return render(
        request,
        "complaints/queue.html",
        {
            "rows": rows,
            "page": page,
            "scope": scope,
            "state": state,
            "priority": priority,
            "q": q,
            "order": order,
            "sla_state": sla_state,
            "priorities": Priority.choices,
            "states": Status.choices,
            "sla_states": SlaState.choices,
            "saved_views": SavedView.objects.filter(user=user),
            "query": request.GET.urlencode(),
            "page_query": _without_page(request.GET),
            "assignees": _assignees(user),
            "drill": drill,
            "drill_errors": drill_errors,
        },
    )


# The filters a dashboard chart passes when it drills down to its cases (analytics.dashboard.case_list_url),
# with the same meaning as the analytics figures: received dates in the organisation's time zone
# (inclusive), a category or sub-category code, an org unit with its subtree, the region (province code
# or US state), the product key (SKU, else model, else name), acknowledgement and resolution against their
# SLA (`ack`, `resolution`: late or in_time) and a handling-time bucket as the histograms count it
# (`handling`: working or calendar hours, "working:24-48", "calendar:480-"; read from analytics' CaseFact).
DRILL_FILTERS = (
    "from", "to", "category", "channel", "org_unit", "department", "owner", "region", "product",
    "ack", "resolution", "handling",
)  # fmt: skip
_SLA_RESULTS = ("late", "in_time")


def _handling_filter(cases: Any, value: str, params: Any) -> Any:
    """The cases whose handling time (receipt → resolution) lies in [low, high) hours, by the figures
    the analytics histograms count (analytics.models.CaseFact); None when the value is malformed."""
    from datetime import date as date_type

    from analytics.models import CaseFact

    kind, _sep, bounds = value.partition(":")
    low, _sep, high = bounds.partition("-")
    if kind not in ("working", "calendar") or not low.isdigit() or (high and not high.isdigit()):
        return None
    field = f"handling_{kind}_seconds"
    facts = CaseFact.objects.filter(**{f"{field}__gte": int(low) * 3600})
    if high:
        facts = facts.filter(**{f"{field}__lt": int(high) * 3600})
    for name, lookup in (("from", "received_date__gte"), ("to", "received_date__lte")):
        try:  # the received period bounds the subquery too (CaseFact is indexed by received date)
            facts = facts.filter(**{lookup: date_type.fromisoformat(params.get(name, "").strip())})
        except ValueError:
            pass
    return cases.filter(pk__in=facts.values("complaint_id"))


def _drill_filters(cases: Any, params: Any) -> tuple[Any, list[tuple[str, str]], list[str]]:
    """Apply the drill-down filters; returns (cases, [(name, value)] applied, [errors])."""
    from datetime import date as date_type
    from datetime import datetime as datetime_type
    from datetime import time as time_type
    from datetime import timedelta

    from django.db.models import F, Q

    from accounts.models import OrgUnit

    applied: list[tuple[str, str]] = []
    errors: list[str] = []
    zone = timezone.get_default_timezone()
    for name in DRILL_FILTERS:
        value = params.get(name, "").strip()[:200]
        if not value:
            continue
        if name in ("from", "to"):
            try:
                day = date_type.fromisoformat(value)
            except ValueError:
                errors.append(_("“%(name)s”不是有效日期（YYYY-MM-DD）：%(value)s") % {"name": name, "value": value})
                continue
            start = datetime_type.combine(day, time_type.min, tzinfo=zone)
            if name == "from":
                cases = cases.filter(received_at__gte=start)
            else:
                cases = cases.filter(received_at__lt=start + timedelta(days=1))
        elif name == "category":
            cases = cases.filter(_category_q(value))
        elif name == "channel":
            cases = cases.filter(channel=value)
        elif name == "org_unit":
            unit = OrgUnit.objects.filter(pk=int(value)).first() if value.isdigit() else None
            if unit is None:
                errors.append(_("找不到该组织单元：%(value)s") % {"value": value})
                continue
            cases = cases.filter(org_unit__path__startswith=unit.path)
        elif name == "department":
            cases = cases.filter(department__code=value)
        elif name == "owner":
            cases = cases.filter(owner__username=value)
        elif name == "region":
            cases = cases.filter(Q(province_code=value) | Q(us_state=value))
        elif name == "product":
            cases = cases.filter(
                Q(product_sku=value)
                | Q(product_sku="", product_model=value)
                | Q(product_sku="", product_model="", product_name=value)
            )
        elif name in ("ack", "resolution"):
            done, due = ("acknowledged_at", "ack_due_at") if name == "ack" else ("resolved_at", "resolution_due_at")
            if value not in _SLA_RESULTS:
                errors.append(_("“%(name)s”应为 late 或 in_time：%(value)s") % {"name": name, "value": value})
                continue
            late = Q(**{f"{due}__isnull": False, f"{done}__gt": F(due)})
            cases = cases.filter(**{f"{done}__isnull": False})
            cases = cases.filter(late) if value == "late" else cases.exclude(late)
        elif name == "handling":
            narrowed = _handling_filter(cases, value, params)
            if narrowed is None:
                errors.append(
                    _("“handling”应写作 working:24-48 或 calendar:480-（小时）：%(value)s") % {"value": value}
                )
                continue
            cases = narrowed
        applied.append((name, value))
    return cases, applied, errors


def _category_q(code: str) -> Any:
    """A category code matches the cases of that category, a sub-category code those of that
    sub-category (a case's category is always a top-level one: actions.check_classification). The
    code is resolved first, so that the list filters on the case's own indexed column instead of
    joining the taxonomy twice (issue 8: that join made PostgreSQL scan every case)."""
    from django.db.models import Q

    found = Category.objects.filter(code=code).values_list("pk", "parent_id").first()
    if found is None:
        return Q(pk__in=[])
    pk, parent_id = found
    return Q(category_id=pk) if parent_id is None else Q(subcategory_id=pk)


def _without_page(params: Any) -> str:
    """The list's address without its page number: the pager's links keep every filter."""
    kept = params.copy()
    kept.pop("page", None)
    return kept.urlencode()


def _assignees(user: User) -> Any:
    """The agents a supervisor may hand cases to (their departments' agents); none for others."""
    departments = Principal.of(user).supervised_departments
    if not departments:
        return []
    return (
        User.objects.filter(is_active=True, memberships__role=Role.AGENT, memberships__department_id__in=departments)
        .distinct()
        .order_by("username")
    )


def _history(complaint: Complaint, user: User, view: dict[str, Any]) -> list[Complaint]:
    """The complainant's other cases this user may see (none when their identity is masked)."""
    if complaint.customer_id is None or view.get("customer_id") is None:
        return []
    return list(
        Complaint.objects.visible_to(user)
        .filter(customer_id=complaint.customer_id)
        .exclude(pk=complaint.pk)
        .select_related("category")
        .order_by("-received_at")[:20]
    )


def _complaint_count(complaint: Complaint, view: dict[str, Any]) -> dict[str, Any] | None:
    """How many complaints the complainant filed and when (all of them, seen or not: counts only)."""
    if complaint.customer_id is None or view.get("customer_id") is None:
        return None
    return Complaint.objects.filter(customer_id=complaint.customer_id).aggregate(
        total=Count("id"), first=Min("received_at"), last=Max("received_at")
    )


def _may(complaint: Complaint, actor: Actor, action: str) -> bool:
    try:
        actions.check_may(complaint, actor, action)
    except (TransitionNotAllowed, PermissionDenied):
        return False
    return True


def _due(c: Complaint) -> Any:
    return c.ack_due_at if c.status == Status.NEW else c.resolution_due_at


@login_required
def case(request: HttpRequest, tracking_no: str, action_error: dict[str, Any] | None = None) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no)
    complaint = Complaint.objects.select_related(
        "category", "subcategory", "department", "owner", "org_unit", "merged_into"
    ).get(pk=complaint.pk)
    data = staff_view(complaint, user)
    data["sla_label"] = SlaState(data["sla"]["state"]).label
    timeline = staff_timeline(complaint, user)
    names = {
        **LABELS,
        "receive": _("登记"),
        "sla_warning": _("时限预警"),
        "sla_breach": _("超时升级"),
        "appeal": _("申诉"),
        "add_information": _("投诉人补充信息"),
        "add_evidence": _("上传证据"),
        "view_evidence": _("查看证据"),
        "download_evidence": _("下载证据"),
        "delete_evidence": _("删除证据文件"),
        "set_legal_hold": _("法律保全"),
        "suspect_duplicate": _("发现疑似重复"),
        "merge": _("合并至其他投诉"),
        "absorb": _("并入重复投诉"),
        "dismiss_duplicate": _("排除重复"),
        "share": _("共享"),
        "reissue_access_code": _("重新发放查询码"),
        "add_remedy": _("提出补救措施"),
        "approve_remedy": _("批准补救措施"),
        "reject_remedy": _("驳回补救措施"),
        "mark_remedy_paid": _("补救措施已执行/支付"),
        "cancel_remedy": _("取消补救措施"),
    }
    for app in django_apps.get_app_configs():  # labels of the actions other apps record on the case
        names.update(getattr(app, "timeline_labels", {}))
    for entry in timeline:
        entry["at"] = datetime.fromisoformat(entry["at"])
        entry["label"] = names.get(entry["action"], entry["action"])
    # Every reading of the personal data is in the chain (privacy); the page folds them apart from
    # the handling, which they would otherwise drown.
    personal_views = [entry for entry in timeline if entry["action"] == "view_personal"]
    timeline = [entry for entry in timeline if entry["action"] != "view_personal"]
    forms = [
        {"action": a, "label": LABELS[a], "fields": ACTION_FORMS[a]}
        for a in data["allowed_actions"]
        if a in ACTION_FORMS
    ]
    from evidence.choices import EvidenceKind
    from evidence.selectors import items_for_staff
    from intelligence.selectors import predictions_for
    from resolutions.selectors import panel_for

    actor = Actor.staff(user)
    masked = Principal.of(user).masked_for(complaint)
    if not masked:  # issue 6 (privacy): every unmasked view of personal data is a ledger event
        from privacy.audit import record_personal_access  # issue 6 (privacy)

        record_personal_access([complaint.pk], actor=actor, how="case_page")  # issue 6 (privacy)
    return render(
        request,
        "complaints/case.html",
        {
            "c": data,
            "complaint": complaint,
            "timeline": timeline,
            "personal_views": personal_views,
            "history": _history(complaint, user, data),
            "complaint_count": _complaint_count(complaint, data),
            "forms": forms,
            "error": action_error or {},
            "categories": Category.objects.filter(parent__isnull=True, active=True),
            "departments": Department.objects.all(),
            "evidence": list(items_for_staff(complaint)),
            "evidence_kinds": EvidenceKind.choices,
            "masked": masked,
            "may_add_evidence": _may(complaint, actor, "add_evidence"),
            "may_hold": _may(complaint, actor, "set_legal_hold"),
            "may_merge": _may(complaint, actor, "merge"),
            "duplicates": visible_links(complaint, user),
            "merged_cases": list(complaint.merged_cases.visible_to(user).only("tracking_no", "received_at")),
            "remedies": panel_for(complaint, user),
            "predictions": predictions_for(complaint),
        },
        status=422 if action_error else 200,
    )


@login_required
@require_POST
def merge(request: HttpRequest, tracking_no: str) -> HttpResponse:
    """Confirm a duplicate: this case is folded into the one named in `into`."""
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    into_no = request.POST.get("into", "").strip().upper()
    into = Complaint.objects.visible_to(user).filter(tracking_no=into_no).first() if into_no else None
    try:
        if into is None:
            raise ValidationError("into", _("找不到该投诉，或您无权查看：%(no)s") % {"no": into_no or "—"})
        version = int(request.POST.get("version", "0") or 0)
        duplicates.merge(
            complaint, actor=Actor.staff(user), into=into, note=request.POST.get("note", ""), expected_version=version
        )
    except ValidationError as exc:
        return case(request, tracking_no, {"action": "merge", "fields": {k: str(v) for k, v in exc.errors.items()}})
    except VersionConflict:
        return case(request, tracking_no, {"action": "merge", "message": _conflict()})
    except (TransitionNotAllowed, DomainError, ValueError) as exc:
        return case(request, tracking_no, {"action": "merge", "message": getattr(exc, "reason", "") or str(exc)})
    return redirect(reverse("complaints:case", args=[into.tracking_no]))


@login_required
@require_POST
def dismiss_duplicate(request: HttpRequest, tracking_no: str, link_id: int) -> HttpResponse:
    user = _staff(request)
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    link = next((link for link in visible_links(complaint, user) if link.pk == link_id), None)
    if link is None:
        raise Http404
    try:
        duplicates.dismiss(link, actor=Actor.staff(user), note=request.POST.get("note", ""))
    except (ValidationError, TransitionNotAllowed, DomainError) as exc:
        return case(request, tracking_no, {"action": "merge", "message": getattr(exc, "reason", "") or str(exc)})
    return redirect(reverse("complaints:case", args=[tracking_no]) + "#duplicates")


@login_required
@require_POST
def act(request: HttpRequest, tracking_no: str, action: str) -> HttpResponse:
    user = _staff(request)
    if action not in ACTION_FORMS:
        raise Http404
    complaint = get_complaint_for_user(user, tracking_no, write=True)
    actor = Actor.staff(user)
    try:
        actions.check_may(complaint, actor, action)
        version = int(request.POST.get("version", "0") or 0)
        kwargs = parse(action, request.POST)
        getattr(actions, action)(complaint, actor=actor, expected_version=version, **kwargs)
    except ValidationError as exc:
        return case(request, tracking_no, {"action": action, "fields": {k: str(v) for k, v in exc.errors.items()}})
    except VersionConflict:
        return case(request, tracking_no, {"action": action, "message": _conflict()})
    except TransitionNotAllowed as exc:
        return case(request, tracking_no, {"action": action, "message": exc.reason or str(exc)})
    except (DomainError, ValueError) as exc:
        return case(request, tracking_no, {"action": action, "message": str(exc)})
    if Complaint.objects.visible_to(user).filter(pk=complaint.pk).exists():
        return redirect(reverse("complaints:case", args=[tracking_no]))
    return redirect(reverse("complaints:queue"))


def _conflict() -> str:
    return _("该投诉已被他人修改，请查看最新内容后重试。")


@login_required
@require_GET
def supervisor(request: HttpRequest) -> HttpResponse:
    """Team load, cases at risk or breached, escalations: for supervisors and managers."""
    user = _staff(request)
    principal = Principal.of(user)
    if not (principal.supervised_departments or principal.manager_unit_paths):
        raise PermissionDenied
    scope = Complaint.objects.filter(principal.scope_q()).filter(status__in=OPEN_STATES)
    now = timezone.now()
    load = (
        scope.exclude(owner__isnull=True)
        .values("owner__username", "owner__given_name", "owner__is_available")
        .annotate(
            open_cases=Count("pk"),
            breached=Count("pk", filter=sla.state_filter(SlaState.BREACHED, now)),
            warning=Count("pk", filter=sla.state_filter(SlaState.WARNING, now)),
        )
        .order_by("-open_cases")
    )
    related = scope.select_related("owner", "department", "category")
    context = {
        "load": list(load),
        "unassigned": related.filter(owner__isnull=True).exclude(status=Status.NEW).order_by("pk")[:50],
        "breached": related.filter(sla.state_filter(SlaState.BREACHED, now)).order_by("resolution_due_at")[:50],
        "at_risk": related.filter(sla.state_filter(SlaState.WARNING, now)).order_by("resolution_due_at")[:50],
        "escalated": related.filter(escalation_level__gte=1).order_by("-escalation_level", "pk")[:50],
        "team": User.objects.filter(is_active=True, memberships__department_id__in=principal.supervised_departments)
        .distinct()
        .order_by("username"),
    }
    # --- investigation: begin ---
    from investigation.selectors import overdue_for_supervisor

    context["overdue_tasks"] = overdue_for_supervisor(principal, now)[:50]
    # --- investigation: end ---
    return render(request, "complaints/supervisor.html", context)


@login_required
@require_POST
def bulk_assign(request: HttpRequest) -> HttpResponse:
    """Assign the ticked cases to one agent; each case goes through the same action, one by one."""
    user = _staff(request)
    owner = User.objects.filter(username=request.POST.get("owner", ""), is_active=True).first()
    done, refused = 0, []
    for tracking_no in request.POST.getlist("cases")[:200]:
        try:
            complaint = get_complaint_for_user(user, tracking_no, write=True)
            if owner is None:
                raise ValidationError("owner", _("请选择负责人。"))
            department = complaint.department if complaint.department_id else None
            actions.assign(complaint, actor=Actor.staff(user), department=department, owner=owner)
            done += 1
        except (DomainError, PermissionDenied, Http404) as exc:
            refused.append(f"{tracking_no}: {getattr(exc, 'reason', '') or exc}")
    if done:
        messages.success(request, _("已分派 %(n)d 件投诉。") % {"n": done})
    for line in refused:
        messages.error(request, line)
    return redirect(request.POST.get("next") or reverse("complaints:queue"))


@login_required
@require_POST
def save_view(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    name = request.POST.get("name", "").strip()[:60]
    query = request.POST.get("query", "")[:500]
    if name and not CONTROL.search(name + query):
        SavedView.objects.update_or_create(user=user, name=name, defaults={"query": query})
        messages.success(request, _("已保存视图“%(name)s”。") % {"name": name})
    else:
        messages.error(request, _("请给视图起个名字。"))
    return redirect(reverse("complaints:queue") + "?" + query)


@login_required
@require_POST
def hand_over(request: HttpRequest) -> HttpResponse:
    """Deactivate a colleague and give their open cases to another (supervisors, for their departments)."""
    user = _staff(request)
    departments = Principal.of(user).supervised_departments
    leaving = User.objects.filter(username=request.POST.get("leaving", ""), is_active=True).first()
    successor = User.objects.filter(username=request.POST.get("successor", ""), is_active=True).first()
    in_team = User.objects.filter(memberships__department_id__in=departments).distinct()
    if (
        not departments
        or leaving is None
        or successor is None
        or leaving == successor
        or not (in_team.filter(pk=leaving.pk).exists() and in_team.filter(pk=successor.pk).exists())
    ):
        messages.error(request, _("请选择本部门的两位不同同事。"))
        return redirect(reverse("complaints:supervisor"))
    moved = 0
    for complaint in Complaint.objects.filter(owner=leaving, status__in=OPEN_STATES):
        department = complaint.department if complaint.department_id in departments else None
        try:
            actions.assign(
                complaint,
                actor=Actor.staff(user),
                department=department,
                owner=successor,
                note=_("%(who)s 停用，案件移交。") % {"who": leaving.get_username()},
            )
            moved += 1
        except (DomainError, PermissionDenied) as exc:
            messages.error(request, f"{complaint.tracking_no}: {getattr(exc, 'reason', '') or exc}")
    left = Complaint.objects.filter(owner=leaving, status__in=OPEN_STATES).count()
    if left == 0:
        User.objects.filter(pk=leaving.pk).update(is_active=False, is_available=False)
        messages.success(
            request, _("%(who)s 已停用，%(n)d 件投诉已移交。") % {"who": leaving.get_username(), "n": moved}
        )
    else:
        messages.error(request, _("还有 %(n)d 件投诉未能移交，账户未停用。") % {"n": left})
    return redirect(reverse("complaints:supervisor"))
