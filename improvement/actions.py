"""The writes of the improvement app: plans (check → create / update / complete, each audited in
PlanEvent), the once-only overdue notice, and library entries (a snapshot, never a change to the case)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Notification, User
from complaints import calendar
from complaints.models import Category, Complaint
from complaints.permissions import Principal
from core.errors import TransitionNotAllowed, ValidationError

from . import access
from .anonymise import anonymise
from .choices import ACTIVE_STATES, PlanAction, PlanSource, PlanStatus
from .models import ImprovementPlan, LibraryEntry, LibraryEvent, PlanEvent

MAX_LINKED = 500
TEXT_MAX = 5000
EDITABLE = (
    "title", "root_cause", "action", "owner", "due_date", "expected_effect", "expected_reduction",
    "category", "product_sku", "org_unit", "status",
)  # fmt: skip
# Status changes a PATCH may make (done only by complete, which starts the effect measurement).
MOVES = {
    PlanStatus.PROPOSED: {PlanStatus.OPEN, PlanStatus.CANCELLED},
    PlanStatus.OPEN: {PlanStatus.IN_PROGRESS, PlanStatus.CANCELLED},
    PlanStatus.IN_PROGRESS: {PlanStatus.OPEN, PlanStatus.CANCELLED},
}


def _local_today() -> date:
    return timezone.localdate(timezone.now(), timezone.get_default_timezone())


def _text(errors: dict[str, str], raw: dict[str, Any], name: str, *, required: bool, limit: int = TEXT_MAX) -> str:
    value = str(raw.get(name) or "").strip()
    if required and not value:
        errors[name] = _("此项必填。")
    elif len(value) > limit:
        errors[name] = _("过长：最多 %(max_length)s 个字符。") % {"max_length": limit}
    return value


def linked_complaints(actor: User, raw: dict[str, Any], errors: dict[str, str]) -> tuple[list[Complaint], Any]:
    """The cluster the plan comes from, only cases the actor may see: tracking numbers, a spike alert's
    complaints, or a case and its similar cases. Returns (cases, spike alert or None)."""
    visible = Complaint.objects.visible_to(actor)
    spike = None
    numbers = raw.get("tracking_numbers") or []
    if isinstance(numbers, str):
        numbers = [n for n in numbers.replace("，", ",").replace("\n", ",").replace(" ", ",").split(",") if n]
    numbers = [str(n).strip().upper() for n in numbers]
    cases: list[Complaint] = []
    if numbers:
        if len(numbers) > MAX_LINKED:
            errors["tracking_numbers"] = _("项目过多：最多 %(max_length)s 项。") % {"max_length": MAX_LINKED}
            return [], None
        found = {c.tracking_no: c for c in visible.filter(tracking_no__in=numbers)}
        missing = [n for n in numbers if n not in found]
        if missing:
            errors["tracking_numbers"] = _("找不到这些投诉，或您无权查看：%(numbers)s") % {
                "numbers": "、".join(missing[:10])
            }
        cases.extend(found.values())
    spike_id = raw.get("spike_alert")
    if spike_id not in (None, ""):
        from intelligence.models import SpikeAlert

        try:
            spike = SpikeAlert.objects.get(pk=int(spike_id))
        except (ValueError, TypeError, SpikeAlert.DoesNotExist):
            errors["spike_alert"] = _("找不到此异常预警。")
        else:
            cases.extend(visible.filter(pk__in=spike.complaint_ids[:MAX_LINKED]))
    similar_to = str(raw.get("similar_to") or "").strip().upper()
    if similar_to:
        case = visible.filter(tracking_no=similar_to).first()
        if case is None:
            errors["similar_to"] = _("找不到此投诉，或您无权查看。")
        else:
            from intelligence.similar import similar_for

            found = similar_for(case, actor, limit=20)
            nos = [row["tracking_no"] for row in found["resolved"] + found["duplicates"]]
            cases.append(case)
            cases.extend(visible.filter(tracking_no__in=nos))
    unique = {c.pk: c for c in cases}
    return list(unique.values()), spike


def check_plan(raw: dict[str, Any], *, actor: User, plan: ImprovementPlan | None = None) -> dict[str, Any]:
    """Validate a new plan (plan=None: every required field) or the fields a change sends."""
    from accounts.models import OrgUnit
    from investigation.models import RootCause

    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    creating = plan is None
    unknown = set(raw) - set(EDITABLE) - {"tracking_numbers", "spike_alert", "similar_to", "due_in_working_days"}
    for name in sorted(unknown):
        errors[name] = _("未知字段。")

    def given(name: str) -> bool:
        return creating or name in raw

    if given("title"):
        clean["title"] = _text(errors, raw, "title", required=True, limit=200)
    if given("action"):
        clean["action"] = _text(errors, raw, "action", required=True)
    if given("expected_effect"):
        clean["expected_effect"] = _text(errors, raw, "expected_effect", required=False)
    if given("product_sku"):
        clean["product_sku"] = _text(errors, raw, "product_sku", required=False, limit=64)
    if given("root_cause"):
        code = str(raw.get("root_cause") or "").strip()
        cause = RootCause.objects.filter(code=code, active=True).first() if code else None
        if cause is None:
            errors["root_cause"] = (
                _("请选择根本原因分类中的一项。") if not code else _("未知的根本原因：%(value)s") % {"value": code}
            )
        clean["root_cause"] = cause
    if given("expected_reduction"):
        value = raw.get("expected_reduction")
        try:
            number = int(value) if value not in (None, "") else 0
        except (TypeError, ValueError):
            errors["expected_reduction"] = _("应为整数。")
        else:
            if not 0 <= number <= 100:
                errors["expected_reduction"] = _("预期降幅应在 0 到 100 之间。")
            clean["expected_reduction"] = number
    if given("category"):
        code = str(raw.get("category") or "").strip()
        clean["category"] = None
        if code:
            clean["category"] = Category.objects.filter(code=code).first()
            if clean["category"] is None:
                errors["category"] = _("未知的类别：%(value)s") % {"value": code}
    if given("org_unit"):
        value = raw.get("org_unit")
        clean["org_unit"] = None
        if value not in (None, ""):
            try:
                clean["org_unit"] = OrgUnit.objects.get(pk=int(value))
            except (TypeError, ValueError, OrgUnit.DoesNotExist):
                errors["org_unit"] = _("未知的组织单元：%(value)s") % {"value": value}
    if given("due_date") or "due_in_working_days" in raw:
        clean["due_date"] = _due(raw, errors, creating)
    cases: list[Complaint] = []
    if creating:
        cases, spike = linked_complaints(actor, raw, errors)
        clean["spike_alert"] = spike
        clean["source"] = (
            PlanSource.SPIKE if spike else PlanSource.SIMILAR if raw.get("similar_to") else PlanSource.CASES
        )
        if (
            not cases
            and not errors.get("tracking_numbers")
            and not errors.get("spike_alert")
            and not errors.get("similar_to")
        ):
            errors["tracking_numbers"] = _("请指定计划针对的投诉：投诉编号、异常预警或相似案件。")
        clean["complaints"] = cases
    else:
        cases = list(plan.complaints.all())
    if given("owner"):
        clean["owner"] = _owner(raw.get("owner"), cases, errors)
    if "status" in raw:
        clean["status"] = _status(raw.get("status"), actor, plan, errors)
    if errors:
        raise ValidationError(errors)
    return clean


def _due(raw: dict[str, Any], errors: dict[str, str], creating: bool) -> date | None:
    days = raw.get("due_in_working_days")
    text = raw.get("due_date")
    if days not in (None, "") and text not in (None, ""):
        errors["due_date"] = _("请只填写完成期限或工作日数中的一项。")
        return None
    if days not in (None, ""):
        try:
            count = int(days)
        except (TypeError, ValueError):
            errors["due_in_working_days"] = _("应为整数。")
            return None
        if not 1 <= count <= 250:
            errors["due_in_working_days"] = _("工作日数应在 1 到 250 之间。")
            return None
        return timezone.localtime(calendar.add_working_days(timezone.now(), count)).date()
    if text in (None, ""):
        errors["due_date"] = _("此项必填。")
        return None
    try:
        due = text if isinstance(text, date) else date.fromisoformat(str(text))
    except ValueError:
        errors["due_date"] = _("应为日期（YYYY-MM-DD）。")
        return None
    if creating and due < _local_today():
        errors["due_date"] = _("完成期限不能早于今天。")
    elif (due - _local_today()).days > 3 * 366:
        errors["due_date"] = _("完成期限不能超过三年。")
    return due


def _owner(value: Any, cases: list[Complaint], errors: dict[str, str]) -> User | None:
    if value in (None, ""):
        errors["owner"] = _("此项必填。")
        return None
    owner = (
        User.objects.filter(is_active=True)
        .filter(**({"pk": int(value)} if str(value).isdigit() else {"username": str(value)}))
        .first()
    )
    if owner is None or not Principal.of(owner).has(*access.OWNER_ROLES):
        errors["owner"] = _("负责人应为在职的主管或经理。")
        return None
    if cases:
        seen = Complaint.objects.visible_to(owner).filter(pk__in=[c.pk for c in cases]).count()
        if seen < len(cases):
            errors["owner"] = _("负责人无权查看计划关联的全部投诉，请选择能查看这些投诉的人。")
            return None
    return owner


def _status(value: Any, actor: User, plan: ImprovementPlan | None, errors: dict[str, str]) -> str | None:
    if value not in PlanStatus.values:
        errors["status"] = _("取值无效，可选：%(expected)s。") % {"expected": ", ".join(PlanStatus.values)}
        return None
    if plan is None or value == plan.status:
        return value
    if value == PlanStatus.DONE:
        errors["status"] = _("请用“完成”操作结束计划，以便开始衡量效果。")
    elif value not in MOVES.get(plan.status, set()):
        errors["status"] = _("计划已%(state)s，不能再改为“%(value)s”。") % {
            "state": plan.get_status_display(),
            "value": PlanStatus(value).label,
        }
    elif plan.status == PlanStatus.PROPOSED and value == PlanStatus.OPEN and access.proposes_only(actor):
        errors["status"] = _("提议须由主管或经理确认后才能实施。")
    return value


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, date):
        return value.isoformat()
    return value


def create_plan(clean: dict[str, Any], *, actor: User) -> ImprovementPlan:
    complaints = clean.pop("complaints")
    if access.proposes_only(actor):
        clean["status"] = PlanStatus.PROPOSED
    clean.setdefault("status", PlanStatus.OPEN)
    with transaction.atomic():
        plan = ImprovementPlan.objects.create(created_by=actor, **clean)
        plan.complaints.set(complaints)
        PlanEvent.objects.create(
            plan=plan,
            action=PlanAction.CREATED,
            actor=actor,
            changes={k: [None, _plain(v)] for k, v in clean.items()} | {"complaints": [None, len(complaints)]},
        )
    return plan


def update_plan(plan: ImprovementPlan, clean: dict[str, Any], *, actor: User) -> ImprovementPlan:
    with transaction.atomic():
        plan = ImprovementPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status not in ACTIVE_STATES:
            raise TransitionNotAllowed("update", plan.status, [], _("计划已结束，不能再修改。"))
        changes = {}
        for name, value in clean.items():
            before = getattr(plan, name)
            if before != value:
                changes[name] = [_plain(before), _plain(value)]
                setattr(plan, name, value)
        if changes:
            if "due_date" in changes:
                plan.overdue_notified_at = None  # a new due date earns a new notice if missed again
            plan.updated_at = timezone.now()
            plan.save()
            PlanEvent.objects.create(plan=plan, action=PlanAction.UPDATED, actor=actor, changes=changes)
    return plan


def complete_plan(plan: ImprovementPlan, *, actor: User, note: str = "") -> ImprovementPlan:
    if len(note) > TEXT_MAX:
        raise ValidationError("note", _("过长：最多 %(max_length)s 个字符。") % {"max_length": TEXT_MAX})
    with transaction.atomic():
        plan = ImprovementPlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status not in (PlanStatus.OPEN, PlanStatus.IN_PROGRESS):
            raise TransitionNotAllowed(
                "complete",
                plan.status,
                [PlanStatus.OPEN, PlanStatus.IN_PROGRESS],
                _("只有待实施或实施中的计划可以完成。"),
            )
        now = timezone.now()
        before = plan.status
        plan.status, plan.completed_at, plan.completion_note, plan.updated_at = PlanStatus.DONE, now, note, now
        plan.save(update_fields=["status", "completed_at", "completion_note", "updated_at"])
        PlanEvent.objects.create(
            plan=plan,
            action=PlanAction.COMPLETED,
            actor=actor,
            changes={"status": [before, PlanStatus.DONE], "completion_note": ["", note]},
        )
    return plan


def notify_overdue_plans() -> int:
    """The periodic job: tell each owner once about each plan past its due date."""
    today = _local_today()
    sent = 0
    for plan in ImprovementPlan.objects.filter(
        status__in=ACTIVE_STATES, due_date__lt=today, overdue_notified_at__isnull=True
    ).select_related("owner"):
        with transaction.atomic():
            claimed = ImprovementPlan.objects.filter(pk=plan.pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=timezone.now()
            )
            if not claimed:
                continue  # another worker sent it
            Notification.objects.create(
                recipient=plan.owner,
                kind="improvement_plan_overdue",
                message=(_("改进计划已超期：%(title)s（期限 %(due)s）") % {"title": plan.title, "due": plan.due_date})[
                    :500
                ],
            )
            PlanEvent.objects.create(plan=plan, action=PlanAction.OVERDUE_NOTIFIED, changes={})
        sent += 1
    return sent


# --- the case library -----------------------------------------------------------------------------------

LIBRARY_STATES = ("closed", "archived")


def check_library_entry(raw: dict[str, Any], *, actor: User) -> dict[str, Any]:
    errors: dict[str, str] = {}
    number = str(raw.get("tracking_no") or "").strip().upper()
    complaint = None
    if not number:
        errors["tracking_no"] = _("此项必填。")
    else:
        complaint = (
            Complaint.objects.visible_to(actor)
            .select_related("category", "customer")
            .filter(tracking_no=number)
            .first()
        )
        if complaint is None:
            errors["tracking_no"] = _("找不到此投诉，或您无权查看。")
        elif complaint.status not in LIBRARY_STATES:
            errors["tracking_no"] = _("只有已结案的投诉可以收入案例库。")
        elif LibraryEntry.objects.filter(source_complaint=complaint).exists():
            errors["tracking_no"] = _("此投诉已在案例库中。")
    lessons = _text(errors, raw, "lessons", required=True)
    title = _text(errors, raw, "title", required=False, limit=200)
    tags_raw = raw.get("tags") or []
    if isinstance(tags_raw, str):
        tags_raw = tags_raw.replace("，", ",").split(",")
    tags = list(dict.fromkeys(str(t).strip()[:30] for t in tags_raw if str(t).strip()))
    if len(tags) > 20:
        errors["tags"] = _("项目过多：最多 %(max_length)s 项。") % {"max_length": 20}
    if errors:
        raise ValidationError(errors)
    return {"complaint": complaint, "lessons": lessons, "title": title, "tags": tags}


def _search_text(entry: LibraryEntry) -> str:
    category = entry.category.name if entry.category_id else ""
    return "\n".join(
        [entry.title, entry.summary, entry.handling, entry.lessons, category, " ".join(entry.tags)]
    ).lower()


def library_draft(clean: dict[str, Any], *, actor: User) -> LibraryEntry:
    """The anonymised entry as it would be saved (unsaved): what the curator checks in the preview."""
    complaint: Complaint = clean["complaint"]
    handling = "\n\n".join(t for t in (complaint.outcome_note, complaint.reply_text) if t)
    tags = [anonymise(tag, complaint)[:30] for tag in clean["tags"]]
    entry = LibraryEntry(
        source_complaint=complaint,
        title=anonymise(clean["title"] or complaint.title or complaint.description[:40], complaint)[:200],
        category=complaint.category,
        summary=anonymise(complaint.description, complaint),
        handling=anonymise(handling, complaint),
        outcome=complaint.get_outcome_display() if complaint.outcome else "",
        remedies=sorted({str(r.get_kind_display()) for r in complaint.remedies.all()}),
        lessons=anonymise(clean["lessons"], complaint),
        tags=list(dict.fromkeys(t for t in tags if t)),
        received_month=timezone.localtime(complaint.received_at).strftime("%Y-%m"),
        added_by=actor,
    )
    entry.search_text = _search_text(entry)
    return entry


def add_to_library(clean: dict[str, Any], *, actor: User) -> LibraryEntry:
    """Save the anonymised copy; a second curator adding the same case at the same moment gets the
    same "already in the library" error as a later one (the one-to-one is the arbiter, not the check)."""
    entry = library_draft(clean, actor=actor)
    try:
        with transaction.atomic():
            entry.save()
            LibraryEvent.objects.create(
                entry_id=entry.pk, title=entry.title, action=LibraryEvent.Action.ADDED, actor=actor
            )
    except IntegrityError:
        raise ValidationError("tracking_no", _("此投诉已在案例库中。")) from None
    return entry


def remove_from_library(entry: LibraryEntry, *, actor: User, reason: str = "") -> None:
    """Delete the entry and keep who removed it, when and why (LibraryEvent outlives the entry)."""
    if len(reason) > TEXT_MAX:
        raise ValidationError("reason", _("过长：最多 %(max_length)s 个字符。") % {"max_length": TEXT_MAX})
    with transaction.atomic():
        locked = LibraryEntry.objects.select_for_update().filter(pk=entry.pk).first()
        if locked is None:
            return  # removed by someone else a moment ago; their event stands
        LibraryEvent.objects.create(
            entry_id=locked.pk, title=locked.title, action=LibraryEvent.Action.REMOVED, actor=actor, reason=reason
        )
        locked.delete()


def erase_library_entries(customer_id: int) -> int:
    """Erasure (PIPL): delete the entries copied from the person's cases. Re-anonymising is not enough:
    the entry's text was written about them, and the curator's lessons may retell it. Returns how many."""
    with transaction.atomic():
        entries = list(LibraryEntry.objects.select_for_update().filter(source_complaint__customer_id=customer_id))
        LibraryEvent.objects.bulk_create(
            LibraryEvent(entry_id=e.pk, title=e.title, action=LibraryEvent.Action.ERASED) for e in entries
        )
        LibraryEntry.objects.filter(pk__in=[e.pk for e in entries]).delete()
    return len(entries)
