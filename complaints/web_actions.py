"""The lifecycle actions as HTML forms: which fields each one asks for, and how a posted form becomes
the keyword arguments of the action (the same functions the API calls)."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import Department, User
from core.errors import ValidationError
from core.validation import CONTROL

from .choices import ExternalRoute, Outcome, Priority
from .models import Category


@dataclass(frozen=True)
class Field:
    name: str
    label: Any
    kind: str = "text"  # text, textarea, select, multiselect, checkbox, money, user, department, category
    required: bool = False
    choices: tuple[tuple[str, Any], ...] = ()


_REASON = Field("reason", _("理由"), "textarea", True)
ACTION_FORMS: dict[str, list[Field]] = {
    "accept": [
        Field("priority", _("优先级"), "select", choices=tuple(Priority.choices)),
        Field("category", _("分类"), "category"),
        Field("note", _("告知投诉人的话"), "textarea"),
    ],
    "reject": [Field("reason", _("不予受理理由（将告知投诉人）"), "textarea", True)],
    "classify": [Field("priority", _("优先级"), "select", choices=tuple(Priority.choices))],
    "assign": [
        Field("department", _("部门"), "department"),
        Field("owner", _("第一责任人"), "user"),
        Field("note", _("备注"), "textarea"),
    ],
    "start_work": [],
    "wait_for_consumer": [Field("message", _("请投诉人补充的内容"), "textarea", True)],
    "resume": [Field("note", _("备注"), "textarea")],
    "propose_resolution": [Field("text", _("处理方案"), "textarea", True), Field("amount", _("金额（元）"), "money")],
    "accept_proposal": [Field("note", _("投诉人如何表示接受（电话、书面…）"), "textarea", True)],
    "refuse_proposal": [_REASON],
    "resolve": [
        Field(
            "outcome",
            _("结果"),
            "select",
            True,
            (
                (Outcome.EXECUTED.value, Outcome.EXECUTED.label),
                (Outcome.FINAL_DECISION.value, Outcome.FINAL_DECISION.label),
            ),
        ),
        Field("note", _("说明"), "textarea", True),
        Field("open_routes", _("可选外部途径（最终决定时必填）"), "multiselect", choices=tuple(ExternalRoute.choices)),
    ],
    "route_external": [
        Field("route", _("外部途径"), "select", True, tuple(ExternalRoute.choices)),
        Field("reference", _("案号")),
        Field("note", _("备注"), "textarea"),
    ],
    "record_external_outcome": [
        Field("resolved", _("外部程序已解决投诉"), "checkbox"),
        Field("note", _("结果说明"), "textarea", True),
    ],
    "withdraw": [_REASON],
    # The closing checklist (reply sent, remedies settled, evidence, survey) is shown item by item in
    # the casework panel above; a refused item comes back there by name (casework/_panel.html).
    "close": [
        Field("reply_text", _("书面答复（如尚未发送，填写后将先发送此答复）"), "textarea"),
        Field("evidence_complete", _("我已核对，证据已齐全"), "checkbox"),
    ],
    "reopen": [_REASON],
    "archive": [],
    "escalate": [_REASON],
    "de_escalate": [_REASON],
    "add_note": [
        Field("text", _("备注（用 @用户名 提醒同事）"), "textarea", True),
        Field("public", _("让投诉人看到这条备注"), "checkbox"),
    ],
    "share": [Field("user", _("法务/公关人员用户名"), "user", True)],
}
LABELS: dict[str, Any] = {
    "accept": _("受理"), "reject": _("不予受理"), "classify": _("调整优先级"), "assign": _("分派"),
    "start_work": _("开始处理"), "wait_for_consumer": _("请投诉人补充"), "resume": _("继续处理"),
    "propose_resolution": _("提出方案"), "accept_proposal": _("记录投诉人接受"), "refuse_proposal": _("记录投诉人拒绝"),
    "resolve": _("解决"), "route_external": _("转外部程序"), "record_external_outcome": _("记录外部结果"),
    "withdraw": _("记录撤回"), "close": _("结案"), "reopen": _("重开"), "archive": _("归档"),
    "escalate": _("升级"), "de_escalate": _("降级"), "add_note": _("添加备注"), "share": _("共享给法务/公关"),
}  # fmt: skip


def parse(action: str, post: Any) -> dict[str, Any]:
    """Keyword arguments for the action, or ValidationError naming the field."""
    kwargs: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in ACTION_FORMS[action]:
        raw = post.get(field.name, "")
        if isinstance(raw, str) and CONTROL.search(raw):
            errors[field.name] = str(_("含有不允许的控制字符。"))
            continue
        raw = raw.strip() if isinstance(raw, str) else raw
        if field.required and not raw and field.kind != "checkbox":
            errors[field.name] = str(_("此项必填。"))
            continue
        if field.kind == "checkbox":
            kwargs[field.name] = post.get(field.name) == "on"
        elif field.kind == "multiselect":
            kwargs[field.name] = [v for v in post.getlist(field.name) if v in dict(field.choices)]
        elif field.kind == "select":
            if raw and raw not in dict(field.choices):
                errors[field.name] = str(_("取值无效。"))
            elif raw:
                kwargs[field.name] = raw
        elif field.kind == "money":
            if raw:
                try:
                    kwargs[field.name] = Decimal(raw).quantize(Decimal("0.01"))
                except InvalidOperation:
                    errors[field.name] = str(_("应为数字。"))
        elif field.kind == "category":
            if raw:
                kwargs[field.name] = Category.objects.filter(code=raw, parent__isnull=True, active=True).first()
                if kwargs[field.name] is None:
                    errors[field.name] = str(_("取值无效。"))
        elif field.kind == "department":
            if raw:
                kwargs[field.name] = Department.objects.filter(code=raw).first()
                if kwargs[field.name] is None:
                    errors[field.name] = str(_("取值无效。"))
        elif field.kind == "user":
            if raw:
                kwargs[field.name] = User.objects.filter(username=raw, is_active=True).first()
                if kwargs[field.name] is None:
                    errors[field.name] = str(_("用户不存在：%(name)s") % {"name": raw})
        else:
            kwargs[field.name] = raw
    if errors:
        raise ValidationError(errors)
    if action == "add_note":
        kwargs["internal"] = not kwargs.pop("public")  # internal unless the agent says otherwise
    return kwargs
