"""Reply templates (话术): the placeholders they may use, their check, and their rendering for a case.

Rendering substitutes `{name}`-style placeholders with a regular expression, never `str.format`: a
template is admin-written text, and format strings can reach attributes ({name.__class__})."""

import re
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from core.errors import ValidationError

PLACEHOLDERS = ("name", "tracking_no", "due_date", "remedy")
_TOKEN = re.compile(r"\{([^{}]*)\}")
BODY_MAX = 10_000


def check_body(body: str) -> str:
    """The body of a template, or ValidationError('body') naming the unknown placeholders."""
    body = (body or "").strip()
    if not body:
        raise ValidationError("body", _("请填写模板正文。"))
    if len(body) > BODY_MAX:
        raise ValidationError("body", _("内容过长（最多 %(n)d 字）。") % {"n": BODY_MAX})
    unknown = sorted({name for name in _TOKEN.findall(body) if name not in PLACEHOLDERS})
    if unknown:
        raise ValidationError(
            "body",
            _("未知的占位符：%(unknown)s。可用的占位符：%(known)s")
            % {
                "unknown": "、".join("{" + name + "}" for name in unknown),
                "known": " ".join("{" + name + "}" for name in PLACEHOLDERS),
            },
        )
    if "{" in _TOKEN.sub("", body) or "}" in _TOKEN.sub("", body):
        raise ValidationError("body", _("花括号不成对：占位符应写成 {name} 这样的形式。"))
    return body


def values_for(complaint: Any, language: str) -> dict[str, str]:
    """What the placeholders stand for in this case, in the template's language."""
    from resolutions.choices import RemedyStatus
    from resolutions.models import Remedy

    with translation.override(language):
        name = complaint.complainant_name if not complaint.anonymous else ""
        due = complaint.resolution_due_at or complaint.ack_due_at
        due_date = formats.date_format(timezone.localtime(due).date(), "DATE_FORMAT") if due else "—"
        # The remedies the organisation stands behind: not rejected, cancelled or still awaiting approval.
        remedies = Remedy.objects.filter(
            complaint=complaint, status__in=[RemedyStatus.PROPOSED, RemedyStatus.APPROVED, RemedyStatus.PAID]
        ).order_by("id")
        parts = []
        for remedy in remedies:
            text = str(remedy.get_kind_display())
            if remedy.amount is not None:
                text += (
                    f" {formats.number_format(remedy.amount, 2, use_l10n=True, force_grouping=True)} {remedy.currency}"
                )
            if remedy.description and len(remedy.description) <= 80:
                text += _("（%(d)s）") % {"d": remedy.description}
            parts.append(text)
        remedy_text = _("；").join(parts) if parts else (complaint.proposal_text or _("（暂无）"))
        return {
            "name": name or _("客户"),
            "tracking_no": complaint.tracking_no,
            "due_date": due_date,
            "remedy": remedy_text,
        }


def render(body: str, values: dict[str, str]) -> str:
    return _TOKEN.sub(lambda m: values.get(m.group(1), m.group(0)), body)
