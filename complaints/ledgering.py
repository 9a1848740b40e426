"""What of a case the ledger records, and how: the bridge between Complaint rows and ledger events."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from ledger import chain
from ledger.crypto import decrypt, encrypt

from .models import Complaint

# Every field whose value the ledger replay must reproduce; everything but derived data.
# The access-code verifier stays out too: the ledger is append-only and copied elsewhere, and a copy
# of a fast hash of a 60-bit code is an offline guessing target.
_NOT_LEDGERED = {"id", "search_text", "version", "risk_legal_media_safety", "access_code_hash"}
# The look-up hashes of phone and e-mail are derived too, and keyed: they change when the look-up key
# is rotated (core.fieldcrypt), which must not change what the chain says about a case.
_NOT_LEDGERED |= {"complainant_phone_hash", "complainant_email_hash"}
LEDGERED_FIELDS: list[models.Field] = [f for f in Complaint._meta.concrete_fields if f.name not in _NOT_LEDGERED]
LEDGERED_NAMES = [f.attname for f in LEDGERED_FIELDS]
_BY_ATTNAME = {f.attname: f for f in LEDGERED_FIELDS}

# Personal data: encrypted with the data subject's key, never in plain text in the ledger.
# Free text, which may hold anything a person writes about themselves.
FREE_TEXT_FIELDS = frozenset(
    {
        "title",
        "description",
        "reject_reason",
        "appeal_reason",
        "refusal_reason",
        "proposal_text",
        "outcome_note",
        "withdrawn_reason",
        "reply_text",
    }
)
PERSONAL_FIELDS = FREE_TEXT_FIELDS | {
    "complainant_name",
    "complainant_phone",
    "complainant_email",
    "complainant_address",
    "order_no",
    "staff_involved",
}


def serialise(field: models.Field, value: Any) -> Any:
    """A JSON value that compares equal however the database returned it."""
    if value is None:
        return None
    if isinstance(field, models.DecimalField):
        return format(Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places)), "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "hex") and field.get_internal_type() == "UUIDField":
        return str(value)
    if isinstance(value, (list, dict, bool, int, str)):
        return value
    return str(value)


def snapshot(complaint: Complaint) -> dict[str, Any]:
    return {name: serialise(_BY_ATTNAME[name], getattr(complaint, name)) for name in LEDGERED_NAMES}


def _protect(complaint: Complaint, name: str, value: Any) -> Any:
    if name in PERSONAL_FIELDS and value not in (None, ""):
        return encrypt(complaint.subject_key_id, value)
    return value


def record(
    complaint: Complaint,
    *,
    action: str,
    actor: "Actor",
    before: dict[str, Any] | None,
    data: dict[str, Any] | None = None,
    private: dict[str, Any] | None = None,
) -> chain.LedgerEvent:
    """Append the event for an action: the changed fields (before/after), facts, and private text
    (notes, reasons) encrypted with the complainant's key."""
    after = snapshot(complaint)
    if before is None:
        changes = {name: [None, _protect(complaint, name, value)] for name, value in after.items()}
    else:
        changes = {
            name: [_protect(complaint, name, before[name]), _protect(complaint, name, value)]
            for name, value in after.items()
            if before[name] != value
        }
    payload = dict(data or {})
    for key, value in (private or {}).items():
        if value not in (None, ""):
            payload[key] = encrypt(complaint.subject_key_id, value)
    return chain.append(
        complaint.pk,
        action=action,
        actor=actor.ref,
        actor_label=actor.label,
        changes=changes,
        data=payload,
        first=before is None,
    )


def replay(events: list[chain.LedgerEvent]) -> dict[str, Any]:
    """The recorded fields of a case as its events say they are (personal values decrypted)."""
    state: dict[str, Any] = {}
    for event in events:
        for name, (_before, after) in event.changes.items():
            state[name] = decrypt(after)
    return state


class Actor:
    """Who acts: a staff user, the consumer (with the access code), or the system (SLA ticks)."""

    def __init__(self, kind: str, user: Any = None) -> None:
        self.kind = kind
        self.user = user

    @classmethod
    def staff(cls, user: Any) -> "Actor":
        return cls("staff", user)

    @classmethod
    def consumer(cls) -> "Actor":
        return cls("consumer")

    @classmethod
    def system(cls) -> "Actor":
        return cls("system")

    @property
    def ref(self) -> str:
        return f"staff:{self.user.pk}" if self.kind == "staff" else self.kind

    @property
    def label(self) -> str:
        return self.user.get_username() if self.kind == "staff" else self.kind
