"""The person's data as files: JSON (the document as is) and PDF (the same, laid out for reading)."""

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _

from core import pdf

# Values longer than this are laid out as paragraphs rather than table cells.
LONG_TEXT = 400


def render_json(document: dict[str, Any]) -> bytes:
    # Other apps' sections may hold dates and amounts as Python values: DjangoJSONEncoder writes them
    # as ISO 8601 and strings.
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, (list, dict)):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return str(value)


def _rows(record: dict[str, Any]) -> list[list[Any]]:
    return [[key, _cell(value)] for key, value in record.items()]


def _section(story: list[Any], title: str, value: Any, styles: dict[str, Any]) -> None:
    """Any JSON value as headings and two-column tables (field, value), nested lists one by one."""
    from reportlab.lib.units import mm

    story.append(pdf.para(title, styles["heading"]))
    if isinstance(value, dict):
        nested = {k: v for k, v in value.items() if isinstance(v, (list, dict)) and v and _has_records(v)}
        # A table row cannot break across pages: long text goes below the table, as paragraphs.
        long = {k: v for k, v in value.items() if k not in nested and len(_cell(v)) > LONG_TEXT}
        flat = {k: v for k, v in value.items() if k not in nested and k not in long}
        if flat:
            story.append(pdf.table(_rows(flat), widths=[45 * mm, 125 * mm]))
        for key, text in long.items():
            story.append(pdf.para(key, styles["small"]))
            story.extend(pdf.para(chunk, styles["body"]) for chunk in _cell(text).split("\n"))
        for key, inner in nested.items():
            _section(story, f"{title} · {key}", inner, styles)
    elif isinstance(value, list):
        if not value:
            story.append(pdf.para(_("无"), styles["body"]))
        for number, item in enumerate(value, start=1):
            if isinstance(item, dict):
                _section(story, f"{title} {number}", item, styles)
            else:
                story.append(pdf.para(_cell(item), styles["body"]))
    else:
        story.append(pdf.para(_cell(value), styles["body"]))


def _has_records(value: Any) -> bool:
    items = value if isinstance(value, list) else list(value.values())
    return any(isinstance(item, (dict, list)) for item in items)


def render_pdf(document: dict[str, Any]) -> bytes:
    styles = pdf.styles()
    meta = document["meta"]
    story: list[Any] = [
        pdf.para(_("个人信息副本"), styles["title"]),
        pdf.para(
            _("依据《个人信息保护法》第四十五条，本文件列出我们保存的您的个人信息。生成时间：%(at)s")
            % {"at": meta["generated_at"]},
            styles["small"],
        ),
    ]
    titles = {
        "customer": _("客户档案"),
        "complaints": _("投诉"),
        "contacts": _("沟通记录"),
        "replies": _("书面答复"),
        "evidence": _("证据（仅元数据）"),
        "inbound_mail": _("来信（仅元数据）"),
        "apps": _("其他业务数据"),
    }
    for key, value in document.items():
        if key == "meta":
            continue
        _section(story, str(titles.get(key, key)), value, styles)
    return pdf.render(story, title=_("个人信息副本"))
