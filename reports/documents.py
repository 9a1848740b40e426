"""Monthly and quarterly reports: findings written from the figures, diagnosis, recommendations,
as PDF (core.pdf, Chinese embedded) and Excel (one sheet per view)."""

import io
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from core.spreadsheet import safe_row

from .figures import Scope, report_figures
from .inputs import Period


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _category_name(row: dict[str, Any]) -> str:
    if not row["code"]:
        return _("未分类")
    english = translation.get_language() == "en"
    return (row["name_en"] if english and row["name_en"] else row["name"]) or row["code"]


def _place(region: str, unit: str) -> str:
    if not unit:
        return _("未指定单元")
    return f"{region} {unit}".strip() if translation.get_language() == "en" else f"{region}{unit}"


def _change(now: int, before: int, days_now: int, days_before: int) -> float | None:
    """Relative change of the per-day rate: a 31-day month against a 30-day one (or a 90-day quarter
    against a 92-day one) is not read as a rise because it has more days."""
    if not before:
        return None
    return (now / days_now) / (before / days_before) - 1


def findings(f: dict[str, Any]) -> list[str]:
    """Statements from the data: a rise or fall only past the threshold and with enough cases, the
    unit that contributed most named. Changes compare per-day rates when the periods differ in length."""
    k = f["kpis"]
    if not k["received"]:
        return [_("本期无投诉。")]
    threshold = settings.COMPLAINTDESK_REPORTS_CHANGE_THRESHOLD
    least = settings.COMPLAINTDESK_REPORTS_MIN_CASES
    days_now, days_before = f["period"].days, f["previous_period"].days
    lines = [_("本期共收到投诉 %(n)d 件。") % {"n": k["received"]}]
    before = f["previous_kpis"]["received"]
    if before >= least or k["received"] >= least:
        change = _change(k["received"], before, days_now, days_before)
        if change is not None and abs(change) >= threshold:
            if days_now == days_before:
                message = (
                    _("投诉总量环比上升 %(pct)d%%（%(before)d → %(now)d）。")
                    if change > 0
                    else _("投诉总量环比下降 %(pct)d%%（%(before)d → %(now)d）。")
                )
            else:
                message = (
                    _("投诉总量环比上升 %(pct)d%%（按日均计：%(before)d 件/%(days_before)d 天 → "
                      "%(now)d 件/%(days_now)d 天）。")
                    if change > 0
                    else _("投诉总量环比下降 %(pct)d%%（按日均计：%(before)d 件/%(days_before)d 天 → "
                           "%(now)d 件/%(days_now)d 天）。")
                )  # fmt: skip
            lines.append(
                message
                % {
                    "pct": round(abs(change) * 100),
                    "before": before,
                    "now": k["received"],
                    "days_before": days_before,
                    "days_now": days_now,
                }
            )
    now_cu, before_cu = f["by_category_and_unit"], f["previous_by_category_and_unit"]
    for row in f["by_category"]:
        now, prior = row["n"], f["previous_by_category"].get(row["code"], 0)
        if max(now, prior) < least or not prior:
            continue
        change = _change(now, prior, days_now, days_before)
        if change is None or abs(change) < threshold:
            continue
        name = _category_name(row)
        if change > 0:
            growth = {
                (region, unit): n / days_now - before_cu.get((row["code"], region, unit), 0) / days_before
                for (code, region, unit), n in now_cu.items()
                if code == row["code"]
            }
            (region, unit), _grown = max(growth.items(), key=lambda item: (item[1], item[0]))
            lines.append(
                _("%(category)s类投诉环比上升 %(pct)d%%，主要来自%(place)s。")
                % {"category": name, "pct": round(change * 100), "place": _place(region, unit)}
            )
        else:
            lines.append(_("%(category)s类投诉环比下降 %(pct)d%%。") % {"category": name, "pct": round(-change * 100)})
    if f["by_unit"] and f["by_unit"][0]["n"] >= least:
        top = f["by_unit"][0]
        lines.append(
            _("投诉最多的单元是%(place)s（%(n)d 件，占 %(share)s）。")
            % {"place": _place(top["region"], top["unit"]), "n": top["n"], "share": _pct(top["n"] / k["received"])}
        )
    return lines


def diagnosis_and_recommendations(f: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Rule-based: each KPI below (or, for reopenings, above) its target gives a diagnosis and a
    recommendation; a category holding too large a share gives one too."""
    k = f["kpis"]
    if not k["received"]:
        return [], []
    diagnosis: list[str] = []
    advice: list[str] = []
    targets = settings.COMPLAINTDESK_REPORTS_TARGETS
    if k["ack_timeliness"] is not None and k["ack_timeliness"] < targets["ack_timeliness"]:
        diagnosis.append(
            _("受理及时率 %(value)s，低于目标 %(target)s。")
            % {"value": _pct(k["ack_timeliness"]), "target": _pct(targets["ack_timeliness"])}
        )
        advice.append(_("加强受理环节：高峰时段增加值守人员，启用受理超时预警并每日检查。"))
    if k["resolution_timeliness"] is not None and k["resolution_timeliness"] < targets["resolution_timeliness"]:
        diagnosis.append(
            _("办结及时率 %(value)s，低于目标 %(target)s。")
            % {"value": _pct(k["resolution_timeliness"]), "target": _pct(targets["resolution_timeliness"])}
        )
        advice.append(_("梳理超时案件的卡点（协办部门、审批），对临近时限的案件提前升级。"))
    if k["satisfaction_rate"] is not None and k["satisfaction_rate"] < targets["satisfaction_rate"]:
        diagnosis.append(
            _("满意率 %(value)s，低于目标 %(target)s。")
            % {"value": _pct(k["satisfaction_rate"]), "target": _pct(targets["satisfaction_rate"])}
        )
        advice.append(_("对不满意的回访逐件复盘，改进答复话术并跟进补救措施的落实。"))
    if k["reopen_rate"] is not None and k["reopen_rate"] > targets["reopen_rate"]:
        diagnosis.append(
            _("重开率 %(value)s，高于目标上限 %(target)s。")
            % {"value": _pct(k["reopen_rate"]), "target": _pct(targets["reopen_rate"])}
        )
        advice.append(_("结案前与投诉人确认问题已解决，抽查重开案件的结案质量。"))
    top = f["by_category"][0] if f["by_category"] else None
    if top and top["code"] and top["n"] >= settings.COMPLAINTDESK_REPORTS_MIN_CASES and top["n"] / k["received"] >= 0.4:
        name = _category_name(top)
        diagnosis.append(
            _("%(category)s类投诉占 %(share)s，问题集中。")
            % {"category": name, "share": _pct(top["n"] / k["received"])}
        )
        advice.append(_("针对%(category)s类问题开展根因分析并制定整改计划。") % {"category": name})
    if not advice:
        advice.append(_("各项指标达到目标，保持现有做法。"))
    return diagnosis, advice


def kpi_rows(k: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (_("收到投诉"), str(k["received"])),
        (_("受理及时率"), _pct(k["ack_timeliness"])),
        (_("办结及时率"), _pct(k["resolution_timeliness"])),
        (_("解决率"), _pct(k["resolution_rate"])),
        (_("满意率"), _pct(k["satisfaction_rate"])),
        (_("重开率"), _pct(k["reopen_rate"])),
        (_("平均处理时长（自然小时）"), "—" if k["handling_hours_mean"] is None else str(k["handling_hours_mean"])),
        (_("升级件数"), str(k["escalated"])),
    ]


def title(period: Period) -> str:
    kind = _("月度投诉分析报告") if period.kind == "monthly" else _("季度投诉分析报告")
    return f"{period.label} {kind}"


def scope_text(scope: Scope) -> str:
    parts = [scope.org_unit.name if scope.org_unit else "", scope.department.name if scope.department else ""]
    scoped = " · ".join(p for p in parts if p)
    return _("范围：%(scope)s（仅含您有权查看的投诉）") % {"scope": scoped or _("全部")}


def render_pdf(scope: Scope, period: Period, language: str) -> bytes:
    from core import pdf

    f = report_figures(scope, period)
    with translation.override(language):
        s = pdf.styles()
        heading = title(period)
        story: list[Any] = [pdf.para(heading, s["title"]), pdf.para(scope_text(scope), s["small"])]
        story.append(pdf.para(_("主要发现"), s["heading"]))
        story += [pdf.para("· " + line, s["body"]) for line in findings(f)]
        if f["kpis"]["received"]:
            diagnosis, advice = diagnosis_and_recommendations(f)
            story.append(pdf.para(_("关键指标"), s["heading"]))
            story.append(pdf.table([list(r) for r in kpi_rows(f["kpis"])]))
            story.append(pdf.para(_("诊断"), s["heading"]))
            story += [pdf.para("· " + line, s["body"]) for line in diagnosis or [_("未发现低于目标的指标。")]]
            story.append(pdf.para(_("建议"), s["heading"]))
            story += [pdf.para("· " + line, s["body"]) for line in advice]
            story.append(pdf.para(_("按分类"), s["heading"]))
            story.append(pdf.table([[_("分类"), _("件数")]] + [[_category_name(r), r["n"]] for r in f["by_category"]]))
            story.append(pdf.para(_("按单元/区域"), s["heading"]))
            story.append(
                pdf.table(
                    [[_("区域"), _("单元"), _("件数")]]
                    + [[r["region"] or "—", r["unit"] or _("未指定单元"), r["n"]] for r in f["by_unit"]]
                )
            )
            story.append(pdf.para(_("按周趋势"), s["heading"]))
            story.append(pdf.table([[_("周（起始日）"), _("件数")]] + [[d.isoformat(), n] for d, n in f["by_week"]]))
        return pdf.render(story, title=heading)


def render_xlsx(scope: Scope, period: Period, language: str) -> bytes:
    from openpyxl import Workbook

    f = report_figures(scope, period)
    with translation.override(language):
        workbook = Workbook(write_only=True)
        summary = workbook.create_sheet(_("摘要"))
        summary.append(safe_row([title(period)]))
        summary.append(safe_row([scope_text(scope)]))
        summary.append([])
        for line in findings(f):
            summary.append(safe_row([line]))
        if f["kpis"]["received"]:
            summary.append([])
            for label, value in kpi_rows(f["kpis"]):
                summary.append(safe_row([label, value]))
            diagnosis, advice = diagnosis_and_recommendations(f)
            summary.append([])
            summary.append(safe_row([_("诊断")]))
            for line in diagnosis:
                summary.append(safe_row([line]))
            summary.append(safe_row([_("建议")]))
            for line in advice:
                summary.append(safe_row([line]))
        categories = workbook.create_sheet(_("按分类"))
        categories.append(safe_row([_("分类代码"), _("分类"), _("件数"), _("上期件数")]))
        for r in f["by_category"]:
            categories.append(
                safe_row([r["code"], _category_name(r), r["n"], f["previous_by_category"].get(r["code"], 0)])
            )
        units = workbook.create_sheet(_("按单元区域"))
        units.append(safe_row([_("区域"), _("单元"), _("件数")]))
        for r in f["by_unit"]:
            units.append(safe_row([r["region"], r["unit"], r["n"]]))
        days = workbook.create_sheet(_("按日趋势"))
        days.append(safe_row([_("日期"), _("件数")]))
        for d, n in f["by_day"]:
            days.append([d, n])
        weeks = workbook.create_sheet(_("按周趋势"))
        weeks.append(safe_row([_("周（起始日）"), _("件数")]))
        for d, n in f["by_week"]:
            weeks.append([d, n])
        buffer = io.BytesIO()
        workbook.save(buffer)
    return buffer.getvalue()


def render(scope: Scope, period: Period, fmt: str, language: str) -> tuple[str, str, bytes]:
    """(filename, content type, bytes)."""
    name = f"report-{period.label}"
    if fmt == "xlsx":
        return (
            f"{name}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            render_xlsx(scope, period, language),
        )
    return f"{name}.pdf", "application/pdf", render_pdf(scope, period, language)
