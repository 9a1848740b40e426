"""Contact details encrypted at rest (core.fieldcrypt): matching and the search boxes go through the
keyed hashes of the normalised values, so two writings of one number still find each other."""

import pytest
from django.db import connection

from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from conftest import complaint_body
from customers import selectors
from customers.models import Customer
from privacy.views import find_customers

pytestmark = pytest.mark.django_db


def file(**overrides):  # type: ignore[no-untyped-def]
    complaint, _code = actions.submit(
        check_intake(IntakeData(**complaint_body(**overrides)), staff=False), actor=Actor.consumer()
    )
    return complaint


def test_two_writings_of_one_phone_number_are_one_customer(cast):
    first = file(complainant_phone="138 0013 8000", complainant_email="")
    second = file(complainant_phone="+86 138-0013-8000", complainant_email="")
    third = file(complainant_phone="１３８００１３８０００", complainant_email="")
    assert first.customer_id == second.customer_id == third.customer_id
    assert Customer.objects.count() == 1


def test_the_same_e_mail_in_another_case_finds_the_profile_and_the_column_holds_ciphertext(cast):
    first = file(complainant_phone="", complainant_email="Zhang.San@Example.com")
    second = file(complainant_phone="13700137000", complainant_email="zhang.san@example.com")
    assert first.customer_id == second.customer_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, email FROM customers_customer WHERE id = %s", [first.customer_id])
        phone, email = cursor.fetchone()
    assert phone.startswith("enc1:") and email.startswith("enc1:")
    # The blank phone of the first case was filled in from the second, sealed and hashed.
    assert Customer.objects.get(pk=first.customer_id).phone == "+8613700137000"


def test_the_profile_search_finds_a_whole_number_an_address_or_an_id_but_not_a_part(cast):
    customer = Customer.objects.get(pk=file().customer_id)
    customer.id_number = "11010119900307109X"
    customer.save(update_fields=["id_number"])
    for text in ("13800138000", "+86 138 0013 8000", "ZHANG.SAN@example.com", "11010119900307109x"):
        assert list(selectors.search(cast.supervisor, text, masked=False)) == [customer], text
    # Part of a number cannot be matched on ciphertext.
    assert list(selectors.search(cast.supervisor, "0013 8000", masked=False)) == []
    assert list(selectors.search(cast.supervisor, "zhang.san@", masked=False)) == []
    # A masked viewer searches by customer number only.
    assert list(selectors.search(cast.supervisor, "13800138000", masked=True)) == []


def test_the_privacy_search_finds_the_person_by_phone_e_mail_or_id_number(cast):
    customer = Customer.objects.get(pk=file().customer_id)
    customer.id_number = "11010119900307109X"
    customer.save(update_fields=["id_number"])
    for text in ("138-0013-8000", "zhang.san@example.com", "11010119900307109X"):
        assert [c.pk for c in find_customers(text, cast.legal)] == [customer.pk], text
    assert find_customers("13900139000", cast.legal) == []
