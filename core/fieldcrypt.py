"""Personal data encrypted at rest (docs/privacy.md, "Personal data at rest").

Contact details (phone, e-mail, address, ID number) are stored as `enc1:<key id>:<base64(nonce +
AES-256-GCM ciphertext)>` in `EncryptedTextField` columns; a database dump, a replica or a backup
shows no plain text. Keys come from the environment:

- `COMPLAINTDESK_DATA_KEYS`: comma-separated 32-byte keys in URL-safe base64. The first encrypts, every
  one decrypts; each ciphertext names its key by an id (a fingerprint of the key, never the key), so
  reading needs no trial decryption. `complaintdesk rotate_data_keys` re-encrypts under the first.
- `COMPLAINTDESK_LOOKUP_KEY`: the HMAC-SHA256 key of the look-up hashes (`LookupHashField`): exact
  matches on the normalised value (customer matching, the search boxes) go through them, because a
  ciphertext with a random nonce matches nothing. `COMPLAINTDESK_LOOKUP_KEY_OLD` is also searched while
  `rotate_data_keys --lookup` recomputes the hashes under a new key.

Unset (development, tests), both are derived from SECRET_KEY with HKDF under labels of their own; the
keys derived from SECRET_KEY_FALLBACKS still decrypt, so rotating SECRET_KEY loses nothing.

A stored value that is not ciphertext (a row written before the migration, or by raw SQL that was
not updated) is read as it is, so nothing breaks half-way through a migration; the migrations and
`rotate_data_keys` leave none behind."""

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models import Q, lookups

PREFIX = "enc1:"
_ID_LENGTH = 8
# Bound into every ciphertext: a value sealed by another part of the system (same key material,
# other purpose) does not open here.
_AAD = b"complaintdesk.personal-data.v1"
_ENCRYPTION_LABEL = b"complaintdesk.personal-data.encryption"
_LOOKUP_LABEL = b"complaintdesk.personal-data.lookup"
# Hex characters of the HMAC kept: 128 bits, ample for exact matching, half the index of 256.
HASH_LENGTH = 32
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class DataKeyError(Exception):
    """A stored value does not open with the configured keys. The message names the key id and
    the setting to fix, never a key or the value."""


@dataclass(frozen=True)
class KeyRing:
    encrypt_id: str
    ciphers: dict[str, AESGCM]
    lookup_key: bytes
    lookup_old: bytes | None
    derived: bool  # the keys come from SECRET_KEY (no COMPLAINTDESK_DATA_KEYS)

    def describe(self) -> str:
        return ", ".join(self.ciphers)


def key_id(key: bytes) -> str:
    """The id a ciphertext names its key by: a fingerprint, from which the key cannot be recovered."""
    return hashlib.sha256(b"complaintdesk.data-key-id:" + key).hexdigest()[:_ID_LENGTH]


def new_key() -> str:
    """A new key in the form COMPLAINTDESK_DATA_KEYS and COMPLAINTDESK_LOOKUP_KEY take."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def parse_key(text: str, setting: str, position: int = 1) -> bytes:
    text = text.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f"{setting}: key {position} is not 32 bytes in URL-safe base64 "
            "(make one with `complaintdesk rotate_data_keys --new-key`)."
        )
    return raw


def _derive(secret: str, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret.encode())


@lru_cache(maxsize=16)
def _ring(data_keys: tuple[str, ...], lookup: str, lookup_old: str, secret: str, fallbacks: tuple[str, ...]) -> KeyRing:
    derived = not data_keys
    if derived:
        raw_keys = [_derive(s, _ENCRYPTION_LABEL) for s in (secret, *fallbacks)]
    else:
        raw_keys = [parse_key(k, "COMPLAINTDESK_DATA_KEYS", i + 1) for i, k in enumerate(data_keys)]
    ciphers = {key_id(k): AESGCM(k) for k in raw_keys}
    lookup_key = parse_key(lookup, "COMPLAINTDESK_LOOKUP_KEY") if lookup else _derive(secret, _LOOKUP_LABEL)
    old = parse_key(lookup_old, "COMPLAINTDESK_LOOKUP_KEY_OLD") if lookup_old else None
    return KeyRing(
        encrypt_id=key_id(raw_keys[0]),
        ciphers=ciphers,
        lookup_key=lookup_key,
        lookup_old=old if old != lookup_key else None,
        derived=derived,
    )


def keyring() -> KeyRing:
    """The keys as the settings say now (cached per settings, so override_settings works)."""
    return _ring(
        tuple(getattr(settings, "COMPLAINTDESK_DATA_KEYS", ()) or ()),
        getattr(settings, "COMPLAINTDESK_LOOKUP_KEY", "") or "",
        getattr(settings, "COMPLAINTDESK_LOOKUP_KEY_OLD", "") or "",
        settings.SECRET_KEY,
        tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ()),
    )


# --- values -------------------------------------------------------------------------------------


def is_ciphertext(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(PREFIX)
        and len(value) > len(PREFIX) + _ID_LENGTH + 1
        and value[len(PREFIX) + _ID_LENGTH] == ":"
    )


def key_id_of(value: Any) -> str | None:
    """The key id a stored value names, or None when it is not ciphertext."""
    return value[len(PREFIX) : len(PREFIX) + _ID_LENGTH] if is_ciphertext(value) else None


def encrypt(text: str, ring: KeyRing | None = None) -> str:
    ring = ring or keyring()
    nonce = os.urandom(12)
    sealed = ring.ciphers[ring.encrypt_id].encrypt(nonce, text.encode(), _AAD)
    return f"{PREFIX}{ring.encrypt_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(value: Any, ring: KeyRing | None = None) -> Any:
    """The plain text of a stored value; a value that is not ciphertext is returned as it is."""
    if not is_ciphertext(value):
        return value
    ring = ring or keyring()
    kid = value[len(PREFIX) : len(PREFIX) + _ID_LENGTH]
    cipher = ring.ciphers.get(kid)
    if cipher is None:
        raise DataKeyError(
            f"A value is encrypted under data key {kid}, which is not among the configured keys "
            f"({ring.describe()}): put that key back into COMPLAINTDESK_DATA_KEYS (after the first) "
            "and run `complaintdesk rotate_data_keys`."
        )
    try:
        raw = base64.b64decode(value[len(PREFIX) + _ID_LENGTH + 1 :], validate=True)
        return cipher.decrypt(raw[:12], raw[12:], _AAD).decode()
    except (InvalidTag, binascii.Error, ValueError) as error:
        raise DataKeyError(f"A value encrypted under data key {kid} does not open: it was altered or cut.") from error


def reencrypt(value: Any, ring: KeyRing | None = None) -> str | None:
    """The value sealed under the first key, or None when it already is (or is blank)."""
    ring = ring or keyring()
    if value in (None, ""):
        return None
    if key_id_of(value) == ring.encrypt_id:
        return None
    return encrypt(decrypt(value, ring), ring)


# --- look-up hashes -------------------------------------------------------------------------------


def normal_form(kind: str, value: str | None) -> str:
    """The form a look-up hash is taken of: two writings of one phone number, e-mail address or ID
    number give the same (customers.normalise, with a plain fallback for values it refuses)."""
    from customers.normalise import normalise_email, normalise_id_number, normalise_phone

    text = unicodedata.normalize("NFKC", value or "").strip()
    if not text:
        return ""
    if kind == "phone":
        if _E164.fullmatch(text):
            # Stored numbers are E.164 already; parsing them again (phonenumbers) would cost ~100 µs
            # a value and give the same text (or, for an invalid number, the same fallback).
            return text
        return normalise_phone(text) or "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if kind == "email":
        return normalise_email(text) or text.lower()
    if kind == "id_number":
        return normalise_id_number(text) or text.upper().replace(" ", "")
    raise ValueError(f"unknown look-up kind {kind!r}")


def lookup_hash(kind: str, value: str | None, *, key: bytes | None = None) -> str:
    """HMAC-SHA256 of "<kind>:<normal form>" under the look-up key (hex, truncated); "" for a blank
    value. Keyed: there are few enough mobile numbers to reverse an unkeyed hash by trying them all."""
    normal = normal_form(kind, value)
    if not normal:
        return ""
    secret = key if key is not None else keyring().lookup_key
    return hmac.new(secret, f"{kind}:{normal}".encode(), hashlib.sha256).hexdigest()[:HASH_LENGTH]


def lookup_hashes(kind: str, value: str | None) -> list[str]:
    """The hashes to search for: under the look-up key, and under the old one while
    `rotate_data_keys --lookup` has not finished."""
    ring = keyring()
    found = [lookup_hash(kind, value, key=ring.lookup_key)]
    if ring.lookup_old is not None:
        found.append(lookup_hash(kind, value, key=ring.lookup_old))
    return [h for h in dict.fromkeys(found) if h]


def contact_query(text: str, fields: dict[str, str]) -> Q | None:
    """A Q matching `text` as an exact phone number, e-mail address or ID number on the hash columns
    named in `fields` ({"phone": "phone_hash", ...}); None when the text is none of them. Substring
    search on these fields is impossible on ciphertext."""
    from customers.normalise import normalise_email, normalise_id_number, normalise_phone

    checks = {"phone": normalise_phone, "email": normalise_email, "id_number": normalise_id_number}
    query: Q | None = None
    for kind, column in fields.items():
        if checks[kind](text or "") is None:
            continue
        clause = Q(**{f"{column}__in": lookup_hashes(kind, text)})
        query = clause if query is None else query | clause
    return query


# --- fields ---------------------------------------------------------------------------------------


class EncryptedTextField(models.TextField):
    """Text stored encrypted (AES-256-GCM under COMPLAINTDESK_DATA_KEYS); "" and None stay as they are.
    `max_length` only validates forms and models (on the plain text). Only blank values can be looked
    up: for anything else use the model's LookupHashField."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        # Always sealed, even text that looks like ciphertext: what a person typed is never stored
        # as it is (and so can never pose as a value under a key this system does not know).
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


class _BlankOnlyExact(lookups.Exact):
    """`field=""` works (blank values are stored blank); any other value would be compared with a
    fresh ciphertext and match nothing, so it is refused rather than silently empty."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None) and not hasattr(self.rhs, "resolve_expression"):
            raise FieldError(
                f"{self.lhs.output_field.name} is encrypted: look it up through its hash column "
                "(core.fieldcrypt.lookup_hashes)."
            )
        return super().get_prep_lookup()


def _refused(name: str) -> type[lookups.Lookup]:
    class Refused(lookups.Lookup):
        lookup_name = name

        def __init__(self, lhs: Any, rhs: Any) -> None:
            raise FieldError(
                f"{lhs.output_field.name} is encrypted: `{name}` cannot be answered on ciphertext; "
                "match the normalised value's hash (core.fieldcrypt.contact_query)."
            )

    return Refused


EncryptedTextField.register_lookup(_BlankOnlyExact)
for _name in (
    "iexact",
    "contains",
    "icontains",
    "startswith",
    "istartswith",
    "endswith",
    "iendswith",
    "in",
    "gt",
    "gte",
    "lt",
    "lte",
    "range",
    "regex",
    "iregex",
):
    EncryptedTextField.register_lookup(_refused(_name))


class LookupHashField(models.CharField):
    """The keyed hash of another field's normalised value (lookup_hash), kept current on every save:
    by pre_save on inserts and full saves, by LookupHashesMixin.save for `update_fields`, and by
    LookupHashesQuerySet.update for queryset updates. Blank when the source is blank."""

    def __init__(self, *args: Any, source: str = "", kind: str = "", **kwargs: Any) -> None:
        self.source, self.kind = source, kind
        kwargs.setdefault("max_length", HASH_LENGTH)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("db_default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"], kwargs["kind"] = self.source, self.kind
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = lookup_hash(self.kind, getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


def hash_fields(model: type[models.Model]) -> list[LookupHashField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, LookupHashField)]


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def with_hashes(model: type[models.Model], update_fields: Iterable[str]) -> list[str]:
    """update_fields plus the hash fields of the sources among them."""
    names = list(update_fields)
    for field in hash_fields(model):
        if field.source in names and field.name not in names:
            names.append(field.name)
    return names


class LookupHashesMixin(models.Model):
    """For models with LookupHashFields: `save(update_fields=[source])` saves the hash too."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = with_hashes(type(self), kwargs["update_fields"])
        super().save(*args, **kwargs)


class LookupHashesQuerySet(models.QuerySet):
    """`update(phone=...)` sets phone_hash as well (a literal value; an expression cannot be hashed)."""

    def update(self, **kwargs: Any) -> int:
        for field in hash_fields(self.model):
            if field.source in kwargs and field.name not in kwargs:
                value = kwargs[field.source]
                if hasattr(value, "resolve_expression"):
                    raise FieldError(
                        f"{field.source} is hashed for look-ups: update it with a value, not an expression."
                    )
                kwargs[field.name] = lookup_hash(field.kind, value)
        return super().update(**kwargs)


# --- rewriting stored rows (the migrations, rotate_data_keys) ----------------------------------------


@dataclass
class RewriteCounts:
    rows: int = 0  # rows read
    rows_changed: int = 0
    sealed: int = 0  # plain text values encrypted
    rekeyed: int = 0  # values moved from an older key to the first
    opened: int = 0  # values decrypted (the reverse migration)
    hashes: int = 0  # look-up hashes written

    def add(self, other: "RewriteCounts") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def rewrite_model(
    model: type[models.Model],
    *,
    using: str = "default",
    plain: bool = False,
    hashes: bool = True,
    batch: int = 1000,
    dry_run: bool = False,
    progress: Any = None,
) -> RewriteCounts:
    """Bring every row of `model` to the current keys, `batch` rows at a time by primary key (constant
    memory, one transaction per batch, so an interrupted run resumes where it stopped and a second run
    changes nothing): encrypted columns sealed under the first data key (or, with `plain`, opened:
    the reverse migration), and with `hashes` every look-up hash recomputed under the look-up key
    (without it, only those of rows that held plain text).
    Raw SQL, so that it works on migrations' historical models and writes only what changed.
    Raises DataKeyError (naming the key id) when a value opens with none of the keys."""
    from django.db import connections, transaction

    connection = connections[using]
    ring = keyring()
    table = connection.ops.quote_name(model._meta.db_table)
    pk = model._meta.pk.column  # type: ignore[union-attr]
    sealed_columns = [f.column for f in encrypted_fields(model)]
    hashed = (
        [(f.column, model._meta.get_field(f.source).column, f.kind) for f in hash_fields(model)] if not plain else []
    )
    columns = list(dict.fromkeys([*sealed_columns, *(h[0] for h in hashed), *(h[1] for h in hashed)]))
    position = {c: i + 1 for i, c in enumerate(columns)}
    select = (
        f"SELECT {connection.ops.quote_name(pk)}, {', '.join(connection.ops.quote_name(c) for c in columns)} "  # noqa: S608
        f"FROM {table} WHERE {connection.ops.quote_name(pk)} > %s ORDER BY {connection.ops.quote_name(pk)} LIMIT %s"
    )
    total = RewriteCounts()
    last: Any = -1 if model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField", "IntegerField") else ""  # type: ignore[union-attr]
    while True:
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute(select, [last, batch])
                rows = cursor.fetchall()
            if not rows:
                break
            counts = RewriteCounts(rows=len(rows))
            updates: dict[tuple[str, ...], list[list[Any]]] = {}
            for row in rows:
                changed: dict[str, Any] = {}
                found_plain = False
                for column in sealed_columns:
                    value = row[position[column]]
                    if value in (None, ""):
                        continue
                    if plain:
                        if is_ciphertext(value):
                            changed[column] = decrypt(value, ring)
                            counts.opened += 1
                    elif key_id_of(value) != ring.encrypt_id:
                        found_plain = found_plain or not is_ciphertext(value)
                        counts.rekeyed += is_ciphertext(value)
                        counts.sealed += not is_ciphertext(value)
                        changed[column] = encrypt(decrypt(value, ring), ring)
                for hash_column, source, kind in hashed if hashes or found_plain else ():
                    digest = lookup_hash(kind, decrypt(row[position[source]], ring), key=ring.lookup_key)
                    if digest != (row[position[hash_column]] or ""):
                        changed[hash_column] = digest
                        counts.hashes += 1
                if changed:
                    counts.rows_changed += 1
                    names = tuple(sorted(changed))
                    updates.setdefault(names, []).append([*(changed[n] for n in names), row[0]])
            if not dry_run:
                with connection.cursor() as cursor:
                    for names, params in updates.items():
                        assignments = ", ".join(f"{connection.ops.quote_name(n)} = %s" for n in names)
                        cursor.executemany(
                            f"UPDATE {table} SET {assignments} WHERE {connection.ops.quote_name(pk)} = %s",  # noqa: S608
                            params,
                        )
            last = rows[-1][0]
        total.add(counts)
        if progress is not None:
            progress(model, total, last)
    return total


@checks.register(checks.Tags.security)
def check_key_format(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every command that runs the checks (migrate, runserver, check) refuses malformed keys."""
    try:
        keyring()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="complaintdesk.E901")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def check_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`check --deploy`: production keeps the personal-data keys apart from SECRET_KEY."""
    try:
        ring = keyring()
    except ImproperlyConfigured:
        return []  # reported by check_key_format
    if not ring.derived:
        return []
    return [
        checks.Warning(
            "COMPLAINTDESK_DATA_KEYS is not set: personal data is encrypted under a key derived from SECRET_KEY.",
            hint="Set COMPLAINTDESK_DATA_KEYS and COMPLAINTDESK_LOOKUP_KEY (docs/privacy.md), then run "
            "`complaintdesk rotate_data_keys --lookup`.",
            id="complaintdesk.W901",
        )
    ]
