"""Personal data at rest (core.fieldcrypt): ciphertext in the database, look-ups through keyed hashes
of the normalised values, key rotation with `rotate_data_keys`, and the migration that seals old rows."""

import io
from typing import Any

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import SecurityEvent
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from core import fieldcrypt
from core.fieldcrypt import DataKeyError, key_id, lookup_hash, new_key, parse_key
from customers.actions import match_or_create_customer
from customers.models import Customer
from ledger.verify import verify

KEY_A, KEY_B, KEY_C = new_key(), new_key(), new_key()
PLAIN = ("13800138000", "zhang.san@example.com", "深圳市南山区科技园", "11010119900307109X")


def kid(key: str) -> str:
    return key_id(parse_key(key, "test"))


def raw(table: str, columns: str, pk: int) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s", [pk])  # noqa: S608 (test's own names)
        return cursor.fetchone()


def all_raw_text() -> str:
    """Every stored value of the encrypted columns and their neighbours, as one string."""
    parts = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone, email, address, id_number FROM customers_customer")
        parts += [str(v) for row in cursor.fetchall() for v in row]
        cursor.execute("SELECT complainant_phone, complainant_email, complainant_address FROM complaints_complaint")
        parts += [str(v) for row in cursor.fetchall() for v in row]
    return "\n".join(parts)


def file(**overrides: Any) -> Complaint:
    from conftest import complaint_body

    data = complaint_body(complainant_address="深圳市南山区科技园", **overrides)
    complaint, _code = actions.submit(check_intake(IntakeData(**data), staff=False), actor=Actor.consumer())
    return Complaint.objects.get(pk=complaint.pk)


def rotate(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_data_keys", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- values and keys ----------------------------------------------------------------------------------


def test_a_value_round_trips_and_names_its_key_but_blank_stays_blank(settings):
    settings.COMPLAINTDESK_DATA_KEYS = [KEY_A]
    sealed = fieldcrypt.encrypt("13800138000")
    assert sealed.startswith(f"enc1:{kid(KEY_A)}:") and "13800138000" not in sealed
    assert fieldcrypt.encrypt("13800138000") != sealed  # a fresh nonce every time
    assert fieldcrypt.decrypt(sealed) == "13800138000"
    field = Customer._meta.get_field("phone")
    assert field.get_prep_value("") == "" and field.get_prep_value(None) is None
    assert fieldcrypt.decrypt("not ciphertext, an old row") == "not ciphertext, an old row"


def test_without_configured_keys_both_keys_are_derived_from_secret_key_apart(settings):
    settings.COMPLAINTDESK_DATA_KEYS = []
    settings.COMPLAINTDESK_LOOKUP_KEY = ""
    ring = fieldcrypt.keyring()
    assert ring.derived
    assert bytes(ring.lookup_key) not in {bytes(32)}
    assert lookup_hash("phone", "13800138000") != lookup_hash("phone", "13800138000", key=b"x" * 32)
    settings.SECRET_KEY = "another secret key, long enough to be one " * 2
    assert fieldcrypt.keyring().encrypt_id != ring.encrypt_id


def test_a_malformed_key_is_refused_naming_the_setting(settings):
    settings.COMPLAINTDESK_DATA_KEYS = [KEY_A, "too-short"]
    with pytest.raises(ImproperlyConfigured, match="COMPLAINTDESK_DATA_KEYS: key 2"):
        fieldcrypt.keyring()


def test_the_hash_is_of_the_normalised_form():
    assert lookup_hash("phone", "138 0013 8000") == lookup_hash("phone", "+86 138-0013-8000")
    assert lookup_hash("phone", "１３８００１３８０００") == lookup_hash("phone", "13800138000")
    assert lookup_hash("email", " Zhang.San@Example.COM ") == lookup_hash("email", "zhang.san@example.com")
    assert lookup_hash("id_number", "11010119900307109x") == lookup_hash("id_number", "11010119900307109X")
    assert lookup_hash("phone", "13800138000") != lookup_hash("phone", "13800138001")
    # The kind is part of what is hashed: the same text in two columns gives two hashes.
    assert lookup_hash("phone", "13800138000") != lookup_hash("id_number", "13800138000")
    assert lookup_hash("email", "") == ""


@pytest.mark.django_db
def test_an_encrypted_column_refuses_lookups_that_cannot_work():
    assert list(Customer.objects.filter(phone="")) == []
    with pytest.raises(FieldError, match="encrypted"):
        list(Customer.objects.filter(phone="+8613800138000"))
    with pytest.raises(FieldError, match="encrypted"):
        list(Customer.objects.filter(email__icontains="example"))


# --- what the database holds ------------------------------------------------------------------------


@pytest.mark.django_db
def test_after_intake_the_database_holds_no_plain_contact_details(cast):
    complaint = file()
    customer = complaint.customer
    customer.id_number = "11010119900307109X"
    customer.save(update_fields=["id_number"])
    text = all_raw_text()
    for value in ("+8613800138000", "zhang.san@example.com", "深圳市南山区科技园", "11010119900307109X"):
        assert value not in text
    phone, phone_hash, id_hash = raw("customers_customer", "phone, phone_hash, id_number_hash", customer.pk)
    assert fieldcrypt.is_ciphertext(phone)
    assert phone_hash == lookup_hash("phone", "13800138000") and id_hash == lookup_hash(
        "id_number", "11010119900307109X"
    )
    assert raw("complaints_complaint", "complainant_email_hash", complaint.pk) == (
        lookup_hash("email", "zhang.san@example.com"),
    )
    # Read back through the models, everything is plain text again.
    complaint.refresh_from_db()
    assert complaint.complainant_phone == "+8613800138000" and complaint.complainant_address == "深圳市南山区科技园"
    assert Customer.objects.get(pk=customer.pk).id_number == "11010119900307109X"
    assert verify().ok


@pytest.mark.django_db
def test_queryset_update_keeps_the_hash_current(cast):
    complaint = file()
    Customer.objects.filter(pk=complaint.customer_id).update(phone="+8613900139000")
    assert raw("customers_customer", "phone_hash", complaint.customer_id) == (lookup_hash("phone", "13900139000"),)
    assert match_or_create_customer(name="", phone="+8613900139000", email="").pk == complaint.customer_id


@pytest.mark.django_db
def test_a_row_written_in_plain_text_reads_as_it_is_and_rotation_seals_it(cast):
    complaint = file()
    with connection.cursor() as cursor:  # an old row, or raw SQL not yet updated
        cursor.execute(
            "UPDATE customers_customer SET phone = %s, address = %s, phone_hash = '' WHERE id = %s",
            ["+8613700137000", "旧地址", complaint.customer_id],
        )
    customer = Customer.objects.get(pk=complaint.customer_id)
    assert customer.phone == "+8613700137000" and customer.address == "旧地址"
    rotate()
    assert "+8613700137000" not in all_raw_text() and "旧地址" not in all_raw_text()
    assert Customer.objects.get(pk=customer.pk).address == "旧地址"
    # Its hash was filled in with it: the profile is found by the number again.
    assert match_or_create_customer(name="", phone="+8613700137000", email="").pk == customer.pk


# --- rotation -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotation_from_key_a_to_b_then_dropping_a_keeps_everything_readable(cast, settings):
    settings.COMPLAINTDESK_DATA_KEYS = [KEY_A]
    complaint = file()
    customer_id = complaint.customer_id
    assert raw("customers_customer", "phone", customer_id)[0].startswith(f"enc1:{kid(KEY_A)}:")

    settings.COMPLAINTDESK_DATA_KEYS = [KEY_B, KEY_A]
    assert Customer.objects.get(pk=customer_id).phone == "+8613800138000"  # read under A before the run
    assert "would change" in rotate("--dry-run")
    assert raw("customers_customer", "phone", customer_id)[0].startswith(f"enc1:{kid(KEY_A)}:")  # dry: nothing
    events = SecurityEvent.objects.filter(kind="data_keys_rotated").count()
    out = rotate("--batch", "1")
    assert f"every value is under data key {kid(KEY_B)}" in out
    assert SecurityEvent.objects.filter(kind="data_keys_rotated").count() == events + 1
    again = [line for line in rotate().splitlines() if " rows, " in line]
    assert again and all(" rows, 0 changed " in line for line in again)  # idempotent

    settings.COMPLAINTDESK_DATA_KEYS = [KEY_B]
    for value in (
        *raw("customers_customer", "phone, email, address", customer_id),
        *raw("complaints_complaint", "complainant_phone, complainant_email, complainant_address", complaint.pk),
    ):
        assert value.startswith(f"enc1:{kid(KEY_B)}:")
    complaint = Complaint.objects.get(pk=complaint.pk)
    assert complaint.complainant_email == "zhang.san@example.com"
    assert complaint.complainant_address == "深圳市南山区科技园"
    assert match_or_create_customer(name="", phone="+8613800138000", email="").pk == customer_id
    assert verify().ok


@pytest.mark.django_db
def test_a_missing_key_is_a_clear_error_not_a_traceback(cast, settings):
    settings.COMPLAINTDESK_DATA_KEYS = [KEY_A]
    complaint = file()
    settings.COMPLAINTDESK_DATA_KEYS = [KEY_C]
    with pytest.raises(CommandError, match=f"data key {kid(KEY_A)}, which is not among the configured keys"):
        rotate()
    with pytest.raises(DataKeyError, match="COMPLAINTDESK_DATA_KEYS"):
        Customer.objects.get(pk=complaint.customer_id)
    settings.COMPLAINTDESK_DATA_KEYS = ["not a key"]
    with pytest.raises(CommandError, match="COMPLAINTDESK_DATA_KEYS: key 1"):
        rotate()


@pytest.mark.django_db
def test_an_altered_value_is_named_as_such(cast, settings):
    settings.COMPLAINTDESK_DATA_KEYS = [KEY_A]
    complaint = file()
    phone = raw("customers_customer", "phone", complaint.customer_id)[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET phone = %s WHERE id = %s", [phone[:-6] + "AAAA==", complaint.customer_id]
        )
    settings.COMPLAINTDESK_DATA_KEYS = [KEY_B, KEY_A]  # so that the run opens every value
    with pytest.raises(CommandError, match="does not open: it was altered or cut"):
        rotate()


@pytest.mark.django_db
def test_lookup_rotation_recomputes_the_hashes_and_the_old_key_is_searched_meanwhile(cast, settings):
    old, new = new_key(), new_key()
    settings.COMPLAINTDESK_LOOKUP_KEY = old
    complaint = file()
    settings.COMPLAINTDESK_LOOKUP_KEY, settings.COMPLAINTDESK_LOOKUP_KEY_OLD = new, old
    # Before the run the stored hashes are the old key's: still found.
    assert match_or_create_customer(name="", phone="+8613800138000", email="").pk == complaint.customer_id
    out = rotate("--lookup")
    assert "look-up hashes" in out
    settings.COMPLAINTDESK_LOOKUP_KEY_OLD = ""
    assert raw("customers_customer", "phone_hash", complaint.customer_id) == (lookup_hash("phone", "13800138000"),)
    assert match_or_create_customer(name="", phone="138 0013 8000", email="").pk == complaint.customer_id
    assert Customer.objects.count() == 1


# --- the migration ----------------------------------------------------------------------------------


def _migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_rows_and_fills_the_hashes_and_is_reversible(cast):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()  # whatever came after ours too
    complaint = file()
    # Back to plain text: the reverse migration opens every value.
    _migrate(
        [
            ("customers", "0002_customer_id_number_customer_tier_refreshed_on_and_more"),
            ("complaints", "0007_sources_legal_hold_duplicates"),
        ]
    )
    try:
        assert raw("customers_customer", "phone", complaint.customer_id) == ("+8613800138000",)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE customers_customer SET id_number = %s WHERE id = %s", [PLAIN[3], complaint.customer_id]
            )
    finally:
        _migrate(latest)
    text = all_raw_text()
    for value in ("+8613800138000", "zhang.san@example.com", "深圳市南山区科技园", PLAIN[3]):
        assert value not in text
    assert raw("customers_customer", "phone_hash, id_number_hash", complaint.customer_id) == (
        lookup_hash("phone", "13800138000"),
        lookup_hash("id_number", PLAIN[3]),
    )
    assert raw("complaints_complaint", "complainant_phone_hash", complaint.pk) == (lookup_hash("phone", "13800138000"),)
    assert Complaint.objects.get(pk=complaint.pk).complainant_phone == "+8613800138000"
    assert Customer.objects.get(pk=complaint.customer_id).id_number == PLAIN[3]
    if connection.vendor == "sqlite":  # the table rebuilds (both ways) keep the search index's triggers
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'complaints_complaint'"
            )
            assert {row[0] for row in cursor.fetchall()} == {
                "complaints_fts_ai",
                "complaints_fts_ad",
                "complaints_fts_au",
            }
