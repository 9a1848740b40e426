"""Staff and department scorecards (issue 8 item 3): the KPIs of DESIGN.md §8 for one person or one
department over a period, beside the previous period of equal length, and a period ranking for
recognition.

Figures are the dashboard's: the cohort of the complaints RECEIVED in the period (organisation time
zone, inclusive dates, merged duplicates left out), read from CaseFact only, counted by
rollups.FACT_SUMS and turned into rates by the selectors' arithmetic (selectors._figures), so that a
scorecard and the dashboard never disagree. A person's cases are the CaseFact rows whose owner is the
person: the case's CURRENT owner (a reassigned case moves with it). A department's are the rows of
its current department.

Who sees what (this module is the chokepoint for scorecards; roles through Principal):
- one's own scorecard: every staff user (any role);
- a person's: a supervisor of one of the person's departments, or a manager of the person's org unit
  or of a unit above it. A person with no org unit works for the whole organisation: the managers of
  a root unit are above them. Readers who supervise nobody are refused by access.scorecard_scope.
- a department's: its supervisors, the managers of a root unit (a department has no org unit: it is
  organisation-wide), analysts and auditors.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.choices import WRITER_ROLES, Role
from accounts.models import Department, Membership, User
from complaints.permissions import Principal
from core.errors import ValidationError

from .access import check_reader, scorecard_scope
from .dashboard import case_list_url
from .filters import Filters
from .rollups import FACT_SUMS
from .selectors import _figures, facts

TOP = 3  # the places highlighted for recognition ("表彰")
PERIOD_PARAMS = ("from", "to")
RANKING_PARAMS = (*PERIOD_PARAMS, "by")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Kpi:
    key: str  # the key in selectors' figures
    label: Any  # lazy text
    higher_is_better: bool
    unit: str  # "rate" (0–1), "count" or "hours"
    part: str = ""  # for a rate, the counts it is made of
    whole: str = ""


KPIS = (
    Kpi("resolution_timeliness", gettext_lazy("办结及时率"), True, "rate", "resolved_in_sla", "resolved"),
    Kpi("resolution_rate", gettext_lazy("解决率"), True, "rate", "closed_resolved", "closed"),
    Kpi("satisfaction_rate", gettext_lazy("满意率"), True, "rate", "satisfied", "answers"),
    Kpi("reopen_rate", gettext_lazy("重开率"), False, "rate", "reopened", "ever_closed"),
    Kpi("received", gettext_lazy("承办案件数"), True, "count"),
    Kpi("handling_hours_working_mean", gettext_lazy("平均处理时长（工作小时）"), False, "hours"),
)
BY = {kpi.key: kpi for kpi in KPIS}
DEFAULT_BY = "resolution_timeliness"


def min_cases() -> int:
    """The fewest cases in the period for a rank (COMPLAINTDESK_SCORECARD_MIN_CASES)."""
    return max(int(getattr(settings, "COMPLAINTDESK_SCORECARD_MIN_CASES", 5)), 1)


# --- the period ----------------------------------------------------------------------------------


def _unknown(params: Iterable[str], allowed: tuple[str, ...]) -> dict[str, str]:
    message = _("未知的查询参数。可用：%(names)s。") % {"names": "、".join(allowed)}
    return {name: message for name in params if name not in allowed}


def _period(params: Mapping[str, Any], errors: dict[str, str]) -> Filters | None:
    try:
        return Filters.from_query({name: params.get(name) for name in PERIOD_PARAMS if name in params})
    except ValidationError as exc:
        errors.update({name: str(message) for name, message in exc.errors.items()})
        return None


def parse_period(params: Mapping[str, Any]) -> Filters:
    """The period of a scorecard from `from`/`to` (the dashboard's rules: both or neither, the last 30
    days by default); any other parameter is refused naming it."""
    errors = _unknown(params, PERIOD_PARAMS)
    filters = _period(params, errors)
    if errors or filters is None:
        raise ValidationError(errors)
    return filters


def parse_ranking(params: Mapping[str, Any]) -> tuple[Filters, Kpi]:
    """The period and the KPI to rank by (`by`, default resolution timeliness)."""
    errors = _unknown(params, RANKING_PARAMS)
    filters = _period(params, errors)
    by = (params.get("by") or DEFAULT_BY).strip()
    if by not in BY:
        errors["by"] = _("未知的排名指标：%(value)s。可用：%(names)s。") % {"value": by[:40], "names": "、".join(BY)}
    if errors or filters is None:
        raise ValidationError(errors)
    return filters, BY[by]


def previous_period(filters: Filters) -> Filters:
    """The period of equal length that ends the day before this one starts."""
    length = filters.date_to - filters.date_from
    end = filters.date_from - timedelta(days=1)
    return replace(filters, date_from=end - length, date_to=end)


def period_dict(filters: Filters) -> dict[str, str]:
    return {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()}


# --- figures -------------------------------------------------------------------------------------


def figures_by(filters: Filters, field: str, keys: Iterable[Any]) -> dict[Any, dict[str, Any]]:
    """The KPIs of the cases received in the period per owner_id or department_id (one grouped query
    on CaseFact); keys without a case get the empty figures (zero counts, rates None)."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    rows = (
        facts(replace(filters, scope_unit_paths=None, scope_departments=()))
        .filter(**{f"{field}__in": wanted})
        .values(field)
        .annotate(**FACT_SUMS)
        .order_by()
    )
    found = {row[field]: _figures(row) for row in rows}
    empty = _figures({})
    return {key: found.get(key, empty) for key in wanted}


def _shown(kpi: Kpi, value: float | int | None) -> str:
    if value is None:
        return "—"
    if kpi.unit == "rate":
        return f"{value * 100:.1f}%"
    if kpi.unit == "hours":
        return f"{value:.1f}"
    return str(value)


@dataclass(frozen=True)
class Line:
    """One KPI of a scorecard, this period and the previous one."""

    kpi: Kpi
    value: float | int | None
    previous: float | int | None
    part: int | None = None
    whole: int | None = None
    previous_part: int | None = None
    previous_whole: int | None = None

    @classmethod
    def of(cls, kpi: Kpi, now: dict[str, Any], before: dict[str, Any]) -> "Line":
        return cls(
            kpi=kpi,
            value=now[kpi.key],
            previous=before[kpi.key],
            part=now[kpi.part] if kpi.part else None,
            whole=now[kpi.whole] if kpi.whole else None,
            previous_part=before[kpi.part] if kpi.part else None,
            previous_whole=before[kpi.whole] if kpi.whole else None,
        )

    @property
    def change(self) -> float | int | None:
        if self.value is None or self.previous is None:
            return None
        difference = self.value - self.previous
        return difference if isinstance(difference, int) else round(difference, 4)

    @property
    def direction(self) -> str:
        """ "up", "down", "same", or "" when either period has no figure."""
        change = self.change
        if change is None:
            return ""
        return "up" if change > 0 else "down" if change < 0 else "same"

    @property
    def better(self) -> bool | None:
        """Whether the change is an improvement (None: no change or nothing to compare)."""
        if self.direction in ("", "same"):
            return None
        return (self.direction == "up") == self.kpi.higher_is_better

    @property
    def arrow(self) -> str:
        return {"up": "↑", "down": "↓", "same": "→"}.get(self.direction, "")

    @property
    def shown(self) -> str:
        return _shown(self.kpi, self.value)

    @property
    def previous_shown(self) -> str:
        return _shown(self.kpi, self.previous)

    @property
    def change_shown(self) -> str:
        change = self.change
        if change is None:
            return _("无可比数据")
        if self.kpi.unit == "rate":
            return _("%(n)s 个百分点") % {"n": f"{change * 100:+.1f}"}
        if self.kpi.unit == "hours":
            return _("%(n)s 小时") % {"n": f"{change:+.1f}"}
        return f"{change:+d}"

    @property
    def verdict(self) -> str:
        return {True: _("变好"), False: _("变差")}.get(self.better, _("持平") if self.direction == "same" else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi.key,
            "label": str(self.kpi.label),
            "value": self.value,
            "previous": self.previous,
            "part": self.part,
            "whole": self.whole,
            "previous_part": self.previous_part,
            "previous_whole": self.previous_whole,
            "change": self.change,
            "direction": self.direction,
            "better": self.better,
            "higher_is_better": self.kpi.higher_is_better,
        }


def _plain(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if k == "compensation_paid" else v) for k, v in figures.items()}


@dataclass(frozen=True)
class Scorecard:
    kind: str  # "person" or "department"
    key: int | str  # the user id or the department code
    name: str
    period: Filters
    previous: Filters
    figures: dict[str, Any]
    previous_figures: dict[str, Any]
    case_list: str

    @property
    def lines(self) -> list[Line]:
        return [Line.of(kpi, self.figures, self.previous_figures) for kpi in KPIS]

    @property
    def empty(self) -> bool:
        return not self.figures["received"]

    def chart(self) -> dict[str, Any]:
        """The rates, this period beside the previous one (drawn by analytics/dashboard.js)."""
        rates = [line for line in self.lines if line.kpi.unit == "rate"]
        return {
            "id": "chart-scorecard-rates",
            "title": str(_("本期与上期对比")),
            "type": "bar",
            "measure": "rate",
            "labels": [str(line.kpi.label) for line in rates],
            "values": [line.value for line in rates],
            "values2": [line.previous for line in rates],
            "series": [str(_("本期")), str(_("上期"))],
            "urls": [None for _line in rates],
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "name": self.name,
            "period": period_dict(self.period),
            "previous_period": period_dict(self.previous),
            "counted_by": "current_owner" if self.kind == "person" else "current_department",
            "empty": self.empty,
            "lines": [line.as_dict() for line in self.lines],
            "kpis": _plain(self.figures),
            "previous_kpis": _plain(self.previous_figures),
        }


def person_name(user: User) -> str:
    """The person's name as colleagues write it (family name first in Chinese), else the username."""
    first, last = user.first_name.strip(), user.last_name.strip()
    if _CJK.search(first + last):
        full = f"{last}{first}"
    else:
        full = f"{first} {last}".strip()
    return f"{full}（{user.username}）" if full else user.username


def department_name(department: Department) -> str:
    if (get_language() or "").startswith("en") and department.name_en:
        return department.name_en
    return department.name


def person_scorecard(filters: Filters, person: User) -> Scorecard:
    before = previous_period(filters)
    return Scorecard(
        kind="person",
        key=person.pk,
        name=person_name(person),
        period=filters,
        previous=before,
        figures=figures_by(filters, "owner_id", [person.pk])[person.pk],
        previous_figures=figures_by(before, "owner_id", [person.pk])[person.pk],
        case_list=case_list_url(filters, owner=person.username),
    )


def department_scorecard(filters: Filters, department: Department) -> Scorecard:
    before = previous_period(filters)
    return Scorecard(
        kind="department",
        key=department.code,
        name=department_name(department),
        period=filters,
        previous=before,
        figures=figures_by(filters, "department_id", [department.pk])[department.pk],
        previous_figures=figures_by(before, "department_id", [department.pk])[department.pk],
        case_list=case_list_url(filters, department=department.code),
    )


# --- access --------------------------------------------------------------------------------------


def _is_root(path: str) -> bool:
    return path.count("/") == 2  # "/7/": a unit without a parent


def check_staff(user: Any) -> None:
    """One's own scorecard: any staff user (a user with a role)."""
    if not Principal.of(user).roles:
        raise PermissionDenied(_("只有员工可以查看绩效记分卡。"))


def may_view_person(reader: Any, person: User) -> bool:
    """Whether the reader supervises the person: a supervisor of one of the person's departments, or a
    manager of the person's org unit or above (of a root unit for a person without one)."""
    if reader.pk == person.pk:
        return True
    principal = Principal.of(reader)
    memberships = list(person.memberships.select_related("org_unit"))
    if not memberships:
        return False  # not staff (no role anywhere): nobody's report, whoever manages the root
    departments = {m.department_id for m in memberships if m.department_id}
    if principal.has(Role.SUPERVISOR) and departments & principal.supervised_departments:
        return True
    if principal.has(Role.MANAGER):
        paths = [m.org_unit.path for m in memberships if m.org_unit_id]
        managed = principal.manager_unit_paths
        if paths:
            return any(path.startswith(top) for path in paths for top in managed)
        return any(_is_root(top) for top in managed)
    return False


def check_person(reader: Any, person: User, filters: Filters) -> None:
    """403 unless the person is the reader or someone the reader supervises."""
    if reader.pk == person.pk:
        check_staff(reader)
        return
    scorecard_scope(filters, reader)  # refuses those who supervise nobody (analysts and auditors too)
    if not may_view_person(reader, person):
        raise PermissionDenied(_("只有此员工所在部门的主管、其组织单元或上级单元的经理可以查看其绩效。"))


def check_person_reader(reader: Any, filters: Filters) -> None:
    """The role check that comes before looking a person up (so that an id's existence does not leak)."""
    scorecard_scope(filters, reader)


def supervised_people(reader: Any, filters: Filters) -> QuerySet[User]:
    """The staff the reader supervises (access.scorecard_scope: the departments a supervisor holds, the
    org units a manager holds): active users with a case-handling role there, the reader left out."""
    scope = scorecard_scope(filters, reader)
    paths = scope.scope_unit_paths or ()
    where = Q(pk__in=[])
    if scope.scope_departments:
        where |= Q(department_id__in=scope.scope_departments)
    for path in paths:
        where |= Q(org_unit__path__startswith=path)
    if any(_is_root(path) for path in paths):
        placed = Membership.objects.filter(org_unit__isnull=False).values("user_id")
        where |= Q(org_unit__isnull=True) & ~Q(user_id__in=placed)
    members = Membership.objects.filter(where, role__in=WRITER_ROLES).values("user_id")
    return User.objects.filter(pk__in=members, is_active=True).exclude(pk=reader.pk).order_by("username")


def visible_departments(reader: Any) -> QuerySet[Department]:
    principal = Principal.of(reader)
    if principal.has(Role.ANALYST, Role.AUDITOR) or (
        principal.has(Role.MANAGER) and any(_is_root(path) for path in principal.manager_unit_paths)
    ):
        return Department.objects.all()
    if principal.has(Role.SUPERVISOR):
        return Department.objects.filter(pk__in=principal.supervised_departments)
    return Department.objects.none()


def check_department(reader: Any, department: Department) -> None:
    check_reader(reader)
    if not visible_departments(reader).filter(pk=department.pk).exists():
        raise PermissionDenied(_("只有该部门的主管、上级经理、分析和监督角色可以查看部门绩效。"))


def may_rank_people(reader: Any) -> bool:
    return Principal.of(reader).has(Role.SUPERVISOR, Role.MANAGER)


# --- the ranking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    key: int | str
    name: str
    url: str
    figures: dict[str, Any]
    line: Line  # the KPI ranked by, with the previous period
    rank: int | None
    note: str  # why unranked

    @property
    def cases(self) -> int:
        return int(self.figures["received"])

    @property
    def top(self) -> bool:
        return self.rank is not None and self.rank <= TOP

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "rank": self.rank,
            "top": self.top,
            "cases": self.cases,
            "note": self.note,
            **{k: v for k, v in self.line.as_dict().items() if k not in ("kpi", "label", "higher_is_better")},
            "kpis": _plain(self.figures),
        }


@dataclass(frozen=True)
class Candidate:
    key: int | str  # the user id or the department code
    name: str
    url: str  # the candidate's scorecard


def rank(candidates: list[Candidate], now: dict[Any, Any], before: dict[Any, Any], kpi: Kpi) -> list[Entry]:
    """Ranked entries first (best first; equal values share a place: 1, 2, 2, 4; then more cases, then
    the name), then the unranked ones (fewer cases than the minimum, or no figure for the KPI) by
    cases handled. `now` and `before` hold each candidate's figures by key."""
    minimum = min_cases()
    lines = {c.key: Line.of(kpi, now[c.key], before[c.key]) for c in candidates}

    def rankable(candidate: Candidate) -> bool:
        return now[candidate.key]["received"] >= minimum and lines[candidate.key].value is not None

    sign = -1 if kpi.higher_is_better else 1
    ranked = sorted(
        filter(rankable, candidates),
        key=lambda c: (sign * lines[c.key].value, -now[c.key]["received"], c.name),  # type: ignore[operator]
    )
    entries: list[Entry] = []
    place, place_value = 0, None
    for position, candidate in enumerate(ranked, start=1):
        value = lines[candidate.key].value
        if position == 1 or value != place_value:
            place, place_value = position, value
        entries.append(
            Entry(candidate.key, candidate.name, candidate.url, now[candidate.key], lines[candidate.key], place, "")
        )
    others = sorted((c for c in candidates if not rankable(c)), key=lambda c: (-now[c.key]["received"], c.name))
    for candidate in others:
        if now[candidate.key]["received"] < minimum:
            note = _("本期案件少于 %(n)d 件，不参与排名。") % {"n": minimum}
        else:
            note = _("本期没有“%(kpi)s”的数据。") % {"kpi": kpi.label}
        entries.append(
            Entry(candidate.key, candidate.name, candidate.url, now[candidate.key], lines[candidate.key], None, note)
        )
    return entries


@dataclass(frozen=True)
class Ranking:
    period: Filters
    previous: Filters
    kpi: Kpi
    minimum: int
    people: list[Entry] | None  # None: the reader supervises nobody
    departments: list[Entry]

    def charts(self) -> list[dict[str, Any]]:
        """One bar chart per ranked list (drawn by analytics/dashboard.js); a bar opens the scorecard."""
        charts = []
        for chart_id, title, entries in (
            ("chart-ranking-people", _("员工排名"), self.people or []),
            ("chart-ranking-departments", _("部门排名"), self.departments),
        ):
            ranked = [e for e in entries if e.rank is not None]
            if not ranked:
                continue
            charts.append(
                {
                    "id": chart_id,
                    "title": f"{title} · {self.kpi.label}",
                    "type": "bar",
                    "measure": "rate" if self.kpi.unit == "rate" else self.kpi.key,
                    "labels": [e.name for e in ranked],
                    "values": [e.line.value for e in ranked],
                    "urls": [e.url for e in ranked],
                }
            )
        return charts

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": period_dict(self.period),
            "previous_period": period_dict(self.previous),
            "by": self.kpi.key,
            "higher_is_better": self.kpi.higher_is_better,
            "min_cases": self.minimum,
            "people": None if self.people is None else [e.as_dict() for e in self.people],
            "departments": [e.as_dict() for e in self.departments],
        }


def ranking(filters: Filters, reader: Any, kpi: Kpi) -> Ranking:
    """The people the reader supervises and the departments the reader may see, ranked by the KPI.
    403 for readers of neither (agents, department handlers, legal/PR, admins)."""
    check_reader(reader)
    before = previous_period(filters)
    people: list[Entry] | None = None
    if may_rank_people(reader):
        users = list(supervised_people(reader, filters))
        candidates = [
            Candidate(u.pk, person_name(u), reverse("analytics:scorecard_person", args=[u.pk])) for u in users
        ]
        ids = [u.pk for u in users]
        people = rank(candidates, figures_by(filters, "owner_id", ids), figures_by(before, "owner_id", ids), kpi)
    departments = list(visible_departments(reader).order_by("pk"))
    department_candidates = [
        Candidate(d.code, department_name(d), reverse("analytics:scorecard_department", args=[d.code]))
        for d in departments
    ]
    by_pk = {d.code: d.pk for d in departments}
    now = figures_by(filters, "department_id", by_pk.values())
    earlier = figures_by(before, "department_id", by_pk.values())
    ranked_departments = rank(
        department_candidates,
        {code: now[pk] for code, pk in by_pk.items()},
        {code: earlier[pk] for code, pk in by_pk.items()},
        kpi,
    )
    return Ranking(filters, before, kpi, min_cases(), people, ranked_departments)
