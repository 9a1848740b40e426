"""Writing batches of drafts as complete cases, fast.

Each case gets what `complaints.actions.submit` gives it (tracking number, subject key, customer
match, search text, clocks) and one ledger event, exactly what `complaints.ledgering.record` and
`ledger.chain.append` write for a first event: seq 1, linked to genesis, every recorded field in
`changes` with personal and free-text values encrypted with the case's subject key, the hash over the
canonical JSON. `verify_ledger` checks all of it, and the tests compare with the slow path.

A batch is prepared (ids, tracking numbers, customers, rows) and then stored in one transaction:
on PostgreSQL as COPY text built here, so that storing is little more than sending bytes (and can
run in a thread while the next batch is prepared); on SQLite with executemany."""

import base64
import hashlib
import json
import os
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from complaints.choices import OPEN_STATES
from complaints.ledgering import LEDGERED_FIELDS, PERSONAL_FIELDS, Actor, serialise
from complaints.models import Complaint
from complaints.search import _MAX_TOKENS, index_text
from core.fieldcrypt import encrypt, encrypted_fields, hash_fields, keyring, lookup_hash
from customers.models import Customer
from ledger.chain import GENESIS
from ledger.models import LedgerEvent, SubjectKey

from .drafts import Draft

ACTION = "import"
# Set on every case by the writer itself (the drafts carry the rest).
_ASSIGNED = ("id", "tracking_no", "subject_key_id", "customer_id", "search_text")
# Values unique to a case: never cached (the caches hold values that repeat from row to row).
_UNIQUE = frozenset({*_ASSIGNED, "external_id"})
# Entries per cache; each is cleared when full, so memory stays bounded however long the file.
_CACHE_SIZE = 10_000
_canonical = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode

# What a ledgered field's value becomes in the snapshot (ledgering.serialise, specialised).
_PLAIN, _DATETIME, _DATE, _DECIMAL, _UUID = range(5)
# COPY text format: these characters are written as backslash escapes.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _kind(f: models.Field) -> int:
    if isinstance(f, models.DecimalField):
        return _DECIMAL
    if isinstance(f, models.DateTimeField):
        return _DATETIME
    if isinstance(f, models.DateField):
        return _DATE
    if f.get_internal_type() == "UUIDField" or (
        f.is_relation and f.target_field.get_internal_type() == "UUIDField"  # type: ignore[union-attr]
    ):
        return _UUID
    return _PLAIN


def _json(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, unescaped Unicode) for snapshot values."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict) and len(value) == 2 and "enc" in value:
        return f'{{"enc":{encode_basestring(value["enc"])},"k":{encode_basestring(value["k"])}}}'
    return _canonical(value)


def _copy_json(text: str) -> str:
    return text.replace("\\", "\\\\") if "\\" in text else text


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, (int, Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    return json.dumps(value, ensure_ascii=False).translate(_COPY_ESCAPES)


@dataclass
class Prepared:
    """A batch ready to store: rows per table, in COPY text (PostgreSQL) or as tuples (SQLite)."""

    keys: list[Any] = field(default_factory=list)
    customers: list[Any] = field(default_factory=list)
    customer_updates: list[tuple[Any, ...]] = field(default_factory=list)
    cases: list[Any] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    external_ids: list[str] = field(default_factory=list)
    # Cases still open that have a complainant's profile: the duplicate check runs for them once the
    # batch is committed (service._Batches.after_commit), as it does after intake.
    open_with_customer: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.external_ids)


class CaseWriter:
    def __init__(self, *, actor: Actor, job_id: int | None = None, defaults: dict[str, Any] | None = None) -> None:
        self.actor = actor
        self.job_id = job_id
        self.postgres = connection.vendor == "postgresql"
        self.case_fields = list(Complaint._meta.concrete_fields)
        self.case_columns = [f.column for f in self.case_fields]
        self.case_attnames = [f.attname for f in self.case_fields]
        blank = Complaint()
        self.template = {a: getattr(blank, a) for a in self.case_attnames}
        # The values every draft leaves out because they equal these (drafts.Finisher.defaults).
        self.template.update(defaults or {})
        self.template.update(version=1, search_text="", customer_id=None, subject_key_id=None, id=None)
        # The ledger snapshot: a fragment '"name":[null,value]' per field, in sorted order; the
        # template's fragments are reused and only the fields a draft sets are formatted again.
        self.kinds = {f.attname: _kind(f) for f in LEDGERED_FIELDS}
        self.fields = {f.attname: f for f in LEDGERED_FIELDS}
        self.names = sorted(self.kinds)
        self.position = {name: i for i, name in enumerate(self.names)}
        self.name_json = {name: encode_basestring(name) for name in self.names}
        self.personal = frozenset(PERSONAL_FIELDS)
        self._iso: dict[datetime, str] = {}
        self._entropy, self._entropy_at = b"", 0
        # The profiles of the last few batches (as many as may be unstored at once).
        self._pending_customers: deque[list[dict[str, Any]]] = deque(maxlen=3)
        self._search: dict[tuple[str, ...], list[str]] = {}
        self.fragments = [
            f"{self.name_json[n]}:[null,{_json(self._snapshot_value(n, self.template[n]))}]" for n in self.names
        ]
        self._copy_cache: dict[Any, str] = {}
        self._fragments: dict[tuple[Any, ...], str] = {}
        # Personal data at rest (core.fieldcrypt): these columns are stored encrypted, and each hash
        # column holds the keyed hash of its source's normalised value (cached: values repeat).
        self.ring = keyring()
        self.sealed = frozenset(f.attname for f in encrypted_fields(Complaint))
        self.hashed = [(f.attname, f.source, f.kind) for f in hash_fields(Complaint)]
        self._hashes: dict[tuple[str, str], str] = {}
        self.case_index = {a: i for i, a in enumerate(self.case_attnames)}
        self.case_json = frozenset(f.attname for f in self.case_fields if isinstance(f, models.JSONField))
        if self.postgres:
            self.case_template = [
                _copy_text(json.dumps(self.template[a])) if a in self.case_json else _copy_text(self.template[a])
                for a in self.case_attnames
            ]
        else:
            self.case_template = [f.get_db_prep_save(self.template[f.attname], connection) for f in self.case_fields]

    # --- the snapshot ---------------------------------------------------------------------------

    def _snapshot_value(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        kind = self.kinds[name]
        if kind == _PLAIN:
            return value
        if kind == _DATETIME:
            text = self._iso.get(value)
            if text is None:
                text = value.astimezone(UTC).isoformat(timespec="microseconds")
                if len(self._iso) > _CACHE_SIZE:
                    self._iso.clear()
                self._iso[value] = text
            return text
        if kind == _DATE:
            return value.isoformat()
        if kind == _UUID:
            return str(value)
        return serialise(self.fields[name], value)

    def search_text(self, values: dict[str, Any]) -> str:
        """index_text(title, description, product name/model/SKU, tracking number, words=False),
        with the tokens of the first five parts cached (imports repeat them a lot)."""
        parts = (
            values["title"],
            values["description"],
            values["product_name"],
            values["product_model"],
            values["product_sku"],
        )
        cacheable = len(parts[0]) + len(parts[1]) < 400  # composed texts repeat; narratives do not
        tokens = self._search.get(parts) if cacheable else None
        if tokens is None:
            text = index_text(*parts, words=False)
            tokens = text.split(" ") if text else []
            if cacheable:
                if len(self._search) > _CACHE_SIZE // 2:
                    self._search.clear()
                self._search[parts] = tokens
        if len(tokens) >= _MAX_TOKENS:
            return " ".join(tokens)  # full: index_text keeps the first tokens only
        seen = dict.fromkeys(tokens)
        # TS20240305-000123 -> "ts20240305", "000123": what _latin_words makes of it, cheaper.
        for word in values["tracking_no"].lower().split("-"):
            seen.setdefault(word)
        return " ".join(list(seen)[:_MAX_TOKENS])

    # --- reads ------------------------------------------------------------------------------------

    def existing(self, source: str, ids: list[str]) -> set[str]:
        """Which of these source ids are cases already (the partial unique index answers it)."""
        found: set[str] = set()
        if self.postgres:
            with connection.cursor() as cursor:
                # One index probe per id, whatever the statistics say: with `= ANY(...)` a planner
                # whose statistics predate the import scans every row of the source instead.
                cursor.execute(
                    "SELECT x.external_id FROM unnest(%s::text[]) AS i(id) CROSS JOIN LATERAL ("
                    "SELECT c.external_id FROM complaints_complaint c WHERE c.external_source = %s "
                    "AND c.external_id = i.id AND NOT (c.external_id = '') LIMIT 1) AS x",
                    [ids, source],
                )
                return {row[0] for row in cursor.fetchall()}
        for i in range(0, len(ids), 500):
            found.update(
                Complaint.objects.filter(external_source=source, external_id__in=ids[i : i + 500])
                .exclude(external_id="")
                .values_list("external_id", flat=True)
            )
        return found

    # --- numbers and ids --------------------------------------------------------------------------

    def tracking_numbers(self, drafts: list[Draft]) -> list[str]:
        """A block of sequence numbers per day of receipt, all days in one upsert statement, in a
        short transaction of its own (as complaints.tracking.next_tracking_no: a number whose batch
        later fails is skipped, never reused)."""
        tz = timezone.get_default_timezone()
        days = [timezone.localdate(d.values["received_at"], tz) for d in drafts]
        counts: dict[date, int] = defaultdict(int)
        for day in days:
            counts[day] += 1
        ordered = sorted(counts)
        params: list[Any] = []
        for day in ordered:
            params += [day.isoformat(), counts[day]]
        marks = ", ".join(["(%s, %s)"] * len(ordered))
        sql = (
            f"INSERT INTO complaints_trackingsequence (day, last) VALUES {marks} "  # noqa: S608 (placeholders only)
            "ON CONFLICT (day) DO UPDATE SET last = complaints_trackingsequence.last + excluded.last "
            "RETURNING day, last"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            if self.postgres:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute(sql, params)
            last = {str(day)[:10]: int(n) for day, n in cursor.fetchall()}
        next_seq = {day: last[day.isoformat()] - counts[day] + 1 for day in ordered}
        numbers = []
        for day in days:
            seq = next_seq[day]
            next_seq[day] = seq + 1
            numbers.append(f"TS{day:%Y%m%d}-{seq:06d}")
        return numbers

    def _ids(self, table: str, n: int) -> list[int]:
        """n new primary keys. PostgreSQL: from the sequence (outside any transaction is fine).
        SQLite: after the largest ever used, under the IMMEDIATE transaction's write lock."""
        if n == 0:
            return []
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
                )
                return [row[0] for row in cursor.fetchall()]
            assert connection.in_atomic_block, "SQLite ids are taken under the batch's write lock"
            cursor.execute(
                f"SELECT MAX(n) FROM (SELECT MAX(id) AS n FROM {table} "  # noqa: S608 (our table names)
                "UNION ALL SELECT seq FROM sqlite_sequence WHERE name = %s)",
                [table],
            )
            start = (cursor.fetchone()[0] or 0) + 1
            return list(range(start, start + n))

    # --- customers --------------------------------------------------------------------------------

    def _customers(self, drafts: list[Draft], now: datetime, out: Prepared) -> dict[int, tuple[Any, str, bytes]]:
        """The customer of each draft with contact details, as customers.actions.match_or_create_customer
        gives it row by row: the lowest-id profile with the phone or the e-mail (erased people
        never match), its blank fields filled in; otherwise a new profile with a new subject key.
        Returns {draft index: (customer id, subject key id, key)}."""
        # Profiles that recent batches made or filled in: they may still be unstored (not visible).
        pending = [c for made in self._pending_customers for c in made]
        wanted = [(i, d.contact) for i, d in enumerate(drafts) if d.contact is not None]
        if not wanted:
            self._pending_customers.append([])
            return {}
        phones = {c[1] for _i, c in wanted if c[1]}
        emails = {c[2] for _i, c in wanted if c[2]}
        found = {
            c["id"]: c
            for c in Customer.objects.filter(
                # Through the keyed hashes: the columns hold ciphertext (core.fieldcrypt).
                Q(phone_hash__in=self.candidates("phone", phones)) | Q(email_hash__in=self.candidates("email", emails)),
                subject_key__shredded_at__isnull=True,
            ).values("id", "name", "phone", "email", "address", "subject_key_id")
        }
        keys = dict(
            SubjectKey.objects.filter(pk__in={c["subject_key_id"] for c in found.values()}).values_list("id", "key")
        )
        for customer in found.values():
            customer["key"] = bytes(keys[customer["subject_key_id"]])
        for customer in pending:
            if customer["phone"] in phones or customer["email"] in emails:
                found[customer["id"]] = dict(customer)
        known = sorted(found.values(), key=lambda c: c["id"])
        for customer in known:
            customer["rank"] = (0, customer["id"])
        by_phone: dict[str, dict[str, Any]] = {}
        by_email: dict[str, dict[str, Any]] = {}

        def index(customer: dict[str, Any]) -> None:
            for mapping, value in ((by_phone, customer["phone"]), (by_email, customer["email"])):
                if value and (value not in mapping or mapping[value]["rank"] > customer["rank"]):
                    mapping[value] = customer

        for customer in known:
            index(customer)
        created: list[dict[str, Any]] = []
        dirty: dict[int, dict[str, Any]] = {}
        chosen: dict[int, dict[str, Any]] = {}
        for i, (name, phone, email, address) in wanted:
            candidates = [
                c for c in (by_phone.get(phone) if phone else None, by_email.get(email) if email else None) if c
            ]
            if candidates:
                customer = min(candidates, key=lambda c: c["rank"])
                changed = False
                for attr, value in (("name", name), ("phone", phone), ("email", email), ("address", address)):
                    if value and not customer[attr]:
                        customer[attr] = value
                        changed = True
                if changed:
                    if customer["rank"][0] == 0:
                        dirty[customer["id"]] = customer
                    index(customer)
            else:
                key_id, key = self._new_key()
                self._key_row(out, key_id, key, now)
                customer = {
                    "id": None,
                    "name": name,
                    "phone": phone,
                    "email": email,
                    "address": address,
                    "subject_key_id": key_id,
                    "key": key,
                    "rank": (1, len(created)),
                }
                created.append(customer)
                index(customer)
            chosen[i] = customer
        for customer, pk in zip(created, self._ids("customers_customer", len(created)), strict=True):
            customer["id"] = pk
            row = (
                pk,
                customer["name"],
                self.seal(customer["phone"]),
                self.seal(customer["email"]),
                "",
                self.seal(customer["address"]),
                now,
                customer["subject_key_id"],
                self.hash("phone", customer["phone"]),
                self.hash("email", customer["email"]),
            )
            self._row(out.customers, row, times=(6,), uuids=(7,))
        for customer in dirty.values():
            out.customer_updates.append(
                (
                    customer["name"],
                    self.seal(customer["phone"]),
                    self.seal(customer["email"]),
                    self.seal(customer["address"]),
                    self.hash("phone", customer["phone"]),
                    self.hash("email", customer["email"]),
                    customer["id"],
                )
            )
        self._pending_customers.append([*created, *dirty.values()])
        return {i: (c["id"], str(c["subject_key_id"]), c["key"]) for i, c in chosen.items()}

    # --- rows -------------------------------------------------------------------------------------

    def _row(
        self, rows: list[Any], values: tuple[Any, ...], times: tuple[int, ...] = (), uuids: tuple[int, ...] = ()
    ) -> None:
        if self.postgres:
            rows.append("\t".join(_copy_text(v) for v in values) + "\n")
            return
        adapted = list(values)
        for i in times:
            adapted[i] = connection.ops.adapt_datetimefield_value(adapted[i])
        for i in uuids:
            adapted[i] = uuid.UUID(str(adapted[i])).hex
        rows.append(tuple(adapted))

    def _key_row(self, out: Prepared, key_id: uuid.UUID, key: bytes, now: datetime) -> None:
        self._row(out.keys, (key_id, key, now, None), times=(2,), uuids=(0,))

    def _copy_value(self, value: Any) -> str:
        """_copy_text, cached for datetimes and short strings (imports repeat them a lot)."""
        cls = value.__class__
        if cls is datetime or (cls is str and len(value) < 80):
            text = self._copy_cache.get(value)
            if text is None:
                text = value.isoformat() if cls is datetime else _copy_text(value)
                if len(self._copy_cache) > _CACHE_SIZE:
                    self._copy_cache.clear()
                self._copy_cache[value] = text
            return text
        return _copy_text(value)

    # --- prepare and store ------------------------------------------------------------------------

    def prepare(self, drafts: list[Draft], tracking: list[str]) -> Prepared:
        """Everything but the writing. On SQLite, call it inside the batch's transaction."""
        now = timezone.now()
        out = Prepared()
        at = now.astimezone(UTC).isoformat(timespec="microseconds")
        customers = self._customers(drafts, now, out)
        ids = self._ids("complaints_complaint", len(drafts))
        actor_ref, actor_label = self.actor.ref, self.actor.label
        head = (
            f'{{"action":{_json(ACTION)},"actor":{_json(actor_ref)},"actor_label":{_json(actor_label)},'
            f'"at":{_json(at)},"case":'
        )
        tail = f',"prev":"{GENESIS}","seq":1,"v":1}}'
        event_time = now if self.postgres else connection.ops.adapt_datetimefield_value(now)
        template, fragments, position = self.template, self.fragments, self.position
        personal, kinds = self.personal, self.kinds
        fragment, copy_value = self._fragment, self._copy_value
        postgres, case_template, case_index, case_json = (
            self.postgres,
            self.case_template,
            self.case_index,
            self.case_json,
        )
        urandom, b64 = self._random, base64.b64encode
        for i, draft in enumerate(drafts):
            values = dict(template)
            values.update(draft.values)
            case_id = ids[i]
            values["id"] = case_id
            values["tracking_no"] = tracking[i]
            matched = customers.get(i)
            if matched is not None:
                values["customer_id"], key_id, key = matched
                if values["status"] in OPEN_STATES:
                    out.open_with_customer.append(case_id)
            else:
                key_uuid, key = self._new_key()
                self._key_row(out, key_uuid, key, now)
                key_id = str(key_uuid)
            values["subject_key_id"] = key_id
            values["search_text"] = self.search_text(values)
            cipher, aad, key_json = AESGCM(key), key_id.encode(), encode_basestring(key_id)
            # One pass over the fields the draft sets: the case row's columns (COPY text) and the
            # event's snapshot fragments; everything else keeps the template's text.
            parts = list(fragments)
            columns = list(case_template)
            for name in (*draft.values, *_ASSIGNED):
                value = values[name]
                if not postgres:
                    columns[case_index[name]] = self._sqlite_value(case_index[name], value)  # encrypts too
                elif name in self.sealed:
                    columns[case_index[name]] = _copy_text(encrypt(value, self.ring) if value else value)
                elif name in case_json:
                    columns[case_index[name]] = _copy_text(json.dumps(value, ensure_ascii=False))
                elif name in _UNIQUE:
                    columns[case_index[name]] = _copy_text(value)
                else:
                    columns[case_index[name]] = copy_value(value)
                if name not in kinds:
                    continue
                if name in personal and value is not None and value != "":
                    nonce = urandom(12)
                    plain = str(self._snapshot_value(name, value)).encode()
                    sealed = b64(nonce + cipher.encrypt(nonce, plain, aad)).decode()
                    parts[position[name]] = f'{self.name_json[name]}:[null,{{"enc":"{sealed}","k":{key_json}}}]'
                elif name in _UNIQUE:
                    parts[position[name]] = f"{self.name_json[name]}:[null,{_json(self._snapshot_value(name, value))}]"
                else:
                    parts[position[name]] = fragment(name, value)
            for name, source, kind in self.hashed:
                digest = self.hash(kind, values[source])
                columns[case_index[name]] = digest if postgres else self._sqlite_value(case_index[name], digest)
            out.cases.append("\t".join(columns) + "\n" if postgres else tuple(columns))
            changes = "{" + ",".join(parts) + "}"
            data: dict[str, Any] = {
                "import": {"source": values["external_source"], "id": draft.external_id, "row": draft.row}
            }
            if self.job_id is not None:
                data["import"]["job"] = self.job_id
            data.update(draft.facts)
            if draft.note:
                nonce = urandom(12)
                sealed = b64(nonce + cipher.encrypt(nonce, draft.note.encode(), aad)).decode()
                data["note"] = {"enc": sealed, "k": key_id}
            data_json = _canonical(data)
            digest = hashlib.sha256(
                f'{head}{case_id},"changes":{changes},"data":{data_json}{tail}'.encode()
            ).hexdigest()
            if postgres:
                # JSON text holds no raw tab or line break; only its backslashes need escaping.
                out.events.append(
                    f"{case_id}\t1\t{ACTION}\t{_copy_text(actor_ref)}\t{_copy_text(actor_label)}\t"
                    f"{_copy_json(changes)}\t{_copy_json(data_json)}\t{now.isoformat()}\t{GENESIS}\t{digest}\n"
                )
            else:
                out.events.append(
                    (case_id, 1, ACTION, actor_ref, actor_label, changes, data_json, event_time, GENESIS, digest)
                )
            out.external_ids.append(draft.external_id)
        return out

    def hash(self, kind: str, value: str | None) -> str:
        """core.fieldcrypt.lookup_hash, cached per value (imports repeat complainants)."""
        if not value:
            return ""
        digest = self._hashes.get((kind, value))
        if digest is None:
            digest = lookup_hash(kind, value, key=self.ring.lookup_key)
            if len(self._hashes) > _CACHE_SIZE:
                self._hashes.clear()
            self._hashes[(kind, value)] = digest
        return digest

    def candidates(self, kind: str, values: set[str]) -> list[str]:
        """The hashes to look these values up by: under the look-up key, and under the old one while
        `rotate_data_keys --lookup` has not finished (core.fieldcrypt.lookup_hashes)."""
        found = [self.hash(kind, v) for v in values]
        if self.ring.lookup_old is not None:
            found += [lookup_hash(kind, v, key=self.ring.lookup_old) for v in values]
        return [h for h in found if h]

    def seal(self, value: str) -> str:
        return encrypt(value, self.ring) if value else value

    def forget_pending(self) -> None:
        """A batch failed: the profiles it would have made do not exist."""
        self._pending_customers.clear()

    def _random(self, n: int) -> bytes:
        """n bytes from os.urandom, drawn 64 KiB at a time (one system call serves many keys and
        nonces; the bytes are the same CSPRNG output)."""
        if self._entropy_at + n > len(self._entropy):
            self._entropy, self._entropy_at = os.urandom(65536), 0
        start = self._entropy_at
        self._entropy_at = start + n
        return self._entropy[start : start + n]

    def _new_key(self) -> tuple[uuid.UUID, bytes]:
        """A new subject key: a random (version 4) id and 256 random bits, as ledger.crypto makes."""
        return uuid.UUID(bytes=self._random(16), version=4), self._random(32)

    def _sqlite_value(self, index: int, value: Any) -> Any:
        """Field.get_db_prep_save, cached for datetimes (their adaptation is the slow part)."""
        if value.__class__ is datetime:
            adapted = self._copy_cache.get(value)
            if adapted is None:
                adapted = self.case_fields[index].get_db_prep_save(value, connection)
                if len(self._copy_cache) > _CACHE_SIZE:
                    self._copy_cache.clear()
                self._copy_cache[value] = adapted
            return adapted
        return self.case_fields[index].get_db_prep_save(value, connection)

    def _fragment(self, name: str, value: Any) -> str:
        """'"name":[null,<value as JSON>]' for a field that is not personal; cached by value."""
        if value.__class__ in (str, int, bool, datetime) or value is None:
            key = (name, value.__class__, value)
            text = self._fragments.get(key)
            if text is None:
                text = f"{self.name_json[name]}:[null,{_json(self._snapshot_value(name, value))}]"
                if len(self._fragments) > _CACHE_SIZE:
                    self._fragments.clear()
                self._fragments[key] = text
            return text
        return f"{self.name_json[name]}:[null,{_json(self._snapshot_value(name, value))}]"

    def store(self, prepared: Prepared) -> None:
        """Write a prepared batch. Runs inside the caller's transaction."""
        if self.postgres:
            with connection.cursor() as cursor:
                # Sessions' own setting (no schema change): LZ4 compresses the ledger's JSON several
                # times faster than the default pglz; readers decompress either transparently.
                cursor.execute("SET LOCAL default_toast_compression = lz4")
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        self._insert("ledger_subjectkey", ["id", "key", "created_at", "shredded_at"], prepared.keys)
        self._insert(
            "customers_customer",
            [
                "id",
                "name",
                "phone",
                "email",
                "customer_no",
                "address",
                "created_at",
                "subject_key_id",
                "phone_hash",
                "email_hash",
            ],
            prepared.customers,
        )
        if prepared.customer_updates:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "UPDATE customers_customer SET name = %s, phone = %s, email = %s, address = %s, "
                    "phone_hash = %s, email_hash = %s WHERE id = %s",
                    prepared.customer_updates,
                )
        self._insert("complaints_complaint", self.case_columns, prepared.cases)
        self._insert(
            LedgerEvent._meta.db_table,
            [
                "complaint_id",
                "seq",
                "action",
                "actor",
                "actor_label",
                "changes",
                "data",
                "created_at",
                "prev_hash",
                "hash",
            ],
            prepared.events,
        )

    def _insert(self, table: str, columns: list[str], rows: list[Any]) -> None:
        if not rows:
            return
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        # The raw psycopg cursor's errors become Django's (IntegrityError for a unique id).
        with connection.cursor() as cursor, connection.wrap_database_errors:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                    buffer: list[str] = []
                    size = 0
                    for line in rows:
                        buffer.append(line)
                        size += len(line)
                        if size > 1 << 20:
                            copy.write("".join(buffer).encode())
                            buffer, size = [], 0
                    if buffer:
                        copy.write("".join(buffer).encode())
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows)  # noqa: S608 (our table names)
