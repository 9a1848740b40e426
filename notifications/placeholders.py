"""The placeholders notification templates may use, their check, and their rendering.

Like casework.placeholders, rendering substitutes `{name}` tokens with a regular expression and never
`str.format`: templates are admin-written text, and format strings can reach attributes."""

import re

from django.utils.translation import gettext as _

from core.errors import ValidationError

from . import registry

# Every template may use these; an app that registers a context function may add its own per event.
PLACEHOLDERS = (
    "name",  # the complainant's name ("客户" / "Customer" when anonymous)
    "tracking_no",
    "status",  # the case's status, in the template's language
    "due_date",  # the running deadline (acknowledgement or resolution)
    "department",
    "category",
    "priority",
    "remedy",  # the remedies the organisation stands behind, or the proposal's text
    "link",  # the consumer's status page (staff: the case page; survey: the survey page)
    "unsubscribe",  # the consumer's opt-out link (e-mail only; appended anyway when missing)
)
_TOKEN = re.compile(r"\{([^{}]*)\}")
SUBJECT_MAX = 200
BODY_MAX = 5_000
SMS_MAX = 500


def known_for(event: str) -> tuple[str, ...]:
    return PLACEHOLDERS + tuple(name for name in registry.placeholders(event) if name not in PLACEHOLDERS)


def check_text(field: str, text: str, event: str, *, required: bool = True, maximum: int = BODY_MAX) -> str:
    """The text of a template, or ValidationError(field) naming the unknown placeholders."""
    text = (text or "").strip()
    if not text:
        if required:
            raise ValidationError(field, _("必填。"))
        return text
    if len(text) > maximum:
        raise ValidationError(field, _("内容过长（最多 %(n)d 字）。") % {"n": maximum})
    known = known_for(event)
    unknown = sorted({name for name in _TOKEN.findall(text) if name not in known})
    if unknown:
        raise ValidationError(
            field,
            _("未知的占位符：%(unknown)s。可用的占位符：%(known)s")
            % {
                "unknown": "、".join("{" + name + "}" for name in unknown),
                "known": " ".join("{" + name + "}" for name in known),
            },
        )
    rest = _TOKEN.sub("", text)
    if "{" in rest or "}" in rest:
        raise ValidationError(field, _("花括号不成对：占位符应写成 {name} 这样的形式。"))
    return text


def render(text: str, values: dict[str, str]) -> str:
    return _TOKEN.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)
