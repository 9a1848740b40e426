"""From a source row to a validated case draft: the intake rules (the `IntakeData` pydantic model and
`check_intake(staff=True)`), the state the source reports, and the SLA clocks that state implies."""

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticError

from accounts.models import OrgUnit
from complaints import routing, sla
from complaints.choices import RiskFlag, Status
from complaints.intake import IntakeData, check_intake
from complaints.models import Complaint
from core.api_errors import translate
from core.errors import ValidationError

# Imported cases are flagged so that no one takes their access code for one a consumer was given:
# it verifies nothing (core.secrets.verify_secret refuses it). Staff can issue a code later.
NO_ACCESS_CODE = "!imported"
EXTERNAL_ID_MAX = 100
# The flags that let legal/PR see a case (complaints.actions._set_flags keeps the same set).
LEGAL_MEDIA_SAFETY = frozenset({RiskFlag.LEGAL, RiskFlag.MEDIA, RiskFlag.SAFETY})


@dataclass(slots=True)
class RowError:
    row: int
    line: int
    field: str
    reason: str
    source_id: str = ""


@dataclass(slots=True)
class State:
    """Where the case stands, as the source says: the state, its dates and its outcome."""

    status: str = Status.NEW
    acknowledged_at: datetime | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str = ""
    outcome_note: str = ""
    reply_text: str = ""
    open_routes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Draft:
    row: int
    line: int
    external_id: str
    # Complaint attribute names -> values; the writer adds id, tracking number, keys, customer.
    values: dict[str, Any]
    # (name, phone, e-mail, address) when the complainant can be matched to a customer profile.
    contact: tuple[str, str, str, str] | None
    facts: dict[str, Any]
    note: str = ""


class Finisher:
    """Validates a row's intake values and completes them into a draft. One per import: it caches
    what every row would otherwise look up (org units, deadlines per start day)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        department = routing.default_department()
        self.department_id = department.pk if department else None
        self._units: dict[int, OrgUnit | None] = {}
        self._deadlines: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._ack: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        # What a row's values are compared with: a new Complaint's defaults, plus what every row of
        # this import shares (`share`). Only what differs travels on; the writer starts from these.
        blank = Complaint()
        self.defaults = {f.attname: getattr(blank, f.attname) for f in Complaint._meta.concrete_fields}
        del self.defaults["received_at"]
        self.share(department_id=self.department_id, access_code_hash=NO_ACCESS_CODE)

    def share(self, **values: Any) -> None:
        """Values most rows of this import have (a source, a country): the rows that differ say so."""
        self.defaults.update(values)

    # --- validation ---------------------------------------------------------------------------

    def validate(self, values: dict[str, Any]) -> IntakeData | list[tuple[str, str]]:
        """The intake rules for staff registration: [(field, reason)] when the row breaks them."""
        try:
            data = IntakeData.model_validate(values)
        except PydanticError as exc:
            return [(e["field"], e["message"]) for e in translate(exc.errors())]
        unit_id, data.org_unit = data.org_unit, None
        try:
            check_intake(data, staff=True)
        except ValidationError as exc:
            return [(name, str(message)) for name, message in exc.errors.items()]
        if unit_id is not None:
            if unit_id not in self._units:
                self._units[unit_id] = OrgUnit.objects.filter(pk=unit_id).first()
            unit = self._units[unit_id]
            if unit is None:
                return [("org_unit", _("组织单元不存在。"))]
            data.org_unit = unit_id
            data._resolved["org_unit"] = unit
        return data

    # --- the case -------------------------------------------------------------------------------

    def draft(
        self,
        data: IntakeData,
        *,
        row: int,
        line: int,
        external_id: str,
        source: str,
        received_at: datetime | None,
        state: State | None = None,
        facts: dict[str, Any] | None = None,
        note: str = "",
    ) -> Draft:
        values = complaint_values(data)
        flags = sorted({str(f) for f in data.risk_flags})
        values["risk_flags"] = flags
        values["risk_legal_media_safety"] = bool(LEGAL_MEDIA_SAFETY.intersection(flags))
        values["received_at"] = received_at or self.now
        values["external_source"] = source
        values["external_id"] = external_id
        values["department_id"] = self.department_id
        values["access_code_hash"] = NO_ACCESS_CODE
        self._apply_state(values, state or State())
        defaults = self.defaults
        values = {
            k: v for k, v in values.items() if k not in defaults or defaults[k] != v or type(v) is not type(defaults[k])
        }
        contact = None
        if not data.anonymous and (data.complainant_phone or data.complainant_email):
            contact = (data.complainant_name, data.complainant_phone, data.complainant_email, data.complainant_address)
        return Draft(row, line, external_id, values, contact, facts or {}, note)

    def _apply_state(self, values: dict[str, Any], state: State) -> None:
        """The state and its clocks, as the lifecycle actions would have left them: the
        acknowledgement clock from receipt (intake), the resolution clock from acceptance (accept),
        outcome and dates of resolution and closing (resolve, close)."""
        received = values["received_at"]
        values["status"] = state.status
        case = SimpleNamespace(
            priority=values["priority"],
            channel=values["channel"],
            received_at=received,
            regulator_due_at=values.get("regulator_due_at"),
        )
        ack_key = (received, case.priority, case.channel)
        ack = self._ack.get(ack_key)
        if ack is None:
            sla.set_ack_clock(case)  # type: ignore[arg-type]
            ack = (case.ack_due_at, case.ack_warn_at)
            if len(self._ack) > 20_000:
                self._ack.clear()
            self._ack[ack_key] = ack
        values["ack_due_at"], values["ack_warn_at"] = ack
        if state.status == Status.NEW:
            # The acknowledgement clock runs. One that ran out before the import is stamped as
            # warned and breached now: the queue shows it breached, but the SLA tick does not
            # notify and escalate history, case by case.
            if values["ack_warn_at"] <= self.now:
                values["ack_warned_at"] = self.now
            if values["ack_due_at"] < self.now:
                values["ack_breached_at"] = self.now
            return
        accepted = max(state.accepted_at or received, received)
        values["acknowledged_at"] = max(state.acknowledged_at or accepted, received)
        values["accepted_at"] = accepted
        values.update(self._resolution_clock(case, accepted))
        if state.status in (Status.ACCEPTED, Status.IN_PROGRESS):
            if values["resolution_warn_at"] <= self.now:
                values["resolution_warned_at"] = self.now
            if values["resolution_due_at"] < self.now:
                values["resolution_breached_at"] = self.now
            return
        resolved = max(state.resolved_at or accepted, accepted)
        values["resolved_at"] = resolved
        values["outcome"] = state.outcome
        values["outcome_note"] = state.outcome_note
        values["open_routes"] = list(state.open_routes)
        if state.status == Status.CLOSED:
            values["closed_at"] = max(state.closed_at or resolved, resolved)
            values["reply_text"] = state.reply_text

    def _resolution_clock(self, case: SimpleNamespace, start: datetime) -> dict[str, Any]:
        key = (start, case.priority, case.channel, case.regulator_due_at)
        cached = self._deadlines.get(key)
        if cached is None:
            clock = SimpleNamespace(
                priority=case.priority, channel=case.channel, regulator_due_at=case.regulator_due_at
            )
            sla.start_resolution_clock(clock, start)  # type: ignore[arg-type]
            cached = (clock.resolution_due_at, clock.resolution_warn_at)
            if len(self._deadlines) > 20_000:
                self._deadlines.clear()
            self._deadlines[key] = cached
        return {
            "resolution_clock_start": start,
            "sla_paused_seconds": 0,
            "resolution_due_at": cached[0],
            "resolution_warn_at": cached[1],
        }


def complaint_values(data: IntakeData) -> dict[str, Any]:
    """IntakeData.model_fields_for_complaint with the taxonomy and org unit as ids, read straight
    from the validated model (the tests compare the two)."""
    values = dict(data.__dict__)
    for name in ("category", "subcategory", "org_unit", "risk_flags"):
        del values[name]
    values["remedies_requested"] = [str(r) for r in data.remedies_requested]
    for name in ("preferred_contact", "channel", "priority", "severity"):
        values[name] = str(values[name])
    resolved = data.__pydantic_private__["_resolved"]  # type: ignore[index]
    for name in ("category", "subcategory", "org_unit"):
        found = resolved.get(name)
        values[name + "_id"] = found.pk if found is not None else None
    return values


def clip(text: str, limit: int) -> str:
    """Text we compose ourselves (titles from source columns) cut to a field's length."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
