"""Profiles are matched by normalised phone, e-mail or customer number, whatever form they come in."""

import pytest

from customers.actions import match_or_create_customer
from customers.models import Customer
from customers.normalise import normalise_customer_no, normalise_email, normalise_id_number, normalise_phone

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "written",
    [
        "+86 138 1234 5678",
        "138-1234-5678",
        "0086 13812345678",
        "13812345678",
        "１３８１２３４５６７８",
        "＋８６ １３８－１２３４－５６７８",
    ],
)
def test_mobile_numbers_in_every_common_form_normalise_to_one_key(written):
    assert normalise_phone(written) == "+8613812345678"


def test_a_beijing_landline_with_its_area_code_in_brackets_normalises(db):
    assert normalise_phone("(010) 6552 9988") == "+861065529988"
    assert normalise_phone("（０１０）６５５２－９９８８") == "+861065529988"


def test_an_impossible_number_is_no_key():
    assert normalise_phone("12345") is None
    assert normalise_phone("电话见附件") is None


def test_e_mail_case_and_full_width_forms_do_not_make_two_people():
    assert normalise_email("Zhang.San@Example.COM") == "zhang.san@example.com"
    assert normalise_email("ｚhang.san＠example.com") == "zhang.san@example.com"
    assert normalise_email("zhang.san@") is None


def test_customer_numbers_are_upper_cased_and_must_be_plain():
    assert normalise_customer_no(" vip-0001 ") == "VIP-0001"
    assert normalise_customer_no("会员一号") is None


def test_id_numbers_need_a_valid_birth_date_and_check_character():
    assert normalise_id_number("11010519491231002x") == "11010519491231002X"
    assert normalise_id_number("110105194912310021") is None  # wrong check character
    assert normalise_id_number("110105194902300026") is None  # 30 February
    assert normalise_id_number("11010519491231002") is None  # 17 characters


def test_the_same_mobile_written_three_ways_is_one_customer():
    first = match_or_create_customer(name="王小明", phone=normalise_phone("+86 138 1234 5678"), email="", address="")
    second = match_or_create_customer(name="王小明", phone=normalise_phone("138-1234-5678"), email="")
    third = match_or_create_customer(name="", phone=normalise_phone("0086 13812345678"), email="")
    assert first.pk == second.pk == third.pk
    assert Customer.objects.count() == 1


def test_e_mail_in_another_case_matches_and_fills_the_missing_phone():
    first = match_or_create_customer(name="李娜", phone="", email=normalise_email("Li.Na@Example.com"))
    again = match_or_create_customer(name="李娜", phone="+8613900001111", email=normalise_email("li.na@example.COM"))
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.phone == "+8613900001111"


def test_a_customer_number_matches_before_contact_details():
    by_number = match_or_create_customer(name="赵六", phone="+8613700000001", email="", customer_no="M1001")
    other = match_or_create_customer(name="钱七", phone="+8613700000002", email="")
    found = match_or_create_customer(name="", phone="+8613700000002", email="", customer_no="M1001")
    assert found.pk == by_number.pk
    assert found.pk != other.pk


def test_a_shared_phone_with_another_customer_number_is_another_customer():
    first = match_or_create_customer(name="孙八", phone="+8613700000003", email="", customer_no="M2001")
    second = match_or_create_customer(name="孙八之妻", phone="+8613700000003", email="", customer_no="M2002")
    assert first.pk != second.pk


def test_a_customer_number_is_filled_in_on_a_profile_matched_by_phone():
    first = match_or_create_customer(name="周九", phone="+8613700000004", email="")
    again = match_or_create_customer(name="", phone="+8613700000004", email="", customer_no="M3001")
    assert again.pk == first.pk
    first.refresh_from_db()
    assert first.customer_no == "M3001"


def test_the_old_call_without_a_customer_number_still_works():
    customer = match_or_create_customer(name="吴十", phone="+8613700000005", email="wu@example.com", address="深圳")
    assert customer.customer_no == ""
    assert customer.address == "深圳"


def test_public_intake_links_complaints_written_with_different_phone_forms(body):
    from customers.tests.conftest import submit

    one = submit(body, complainant_name="陈静", complainant_phone="+86 139 0013 8000", complainant_email="")
    two = submit(body, complainant_name="陈静", complainant_phone="139-0013-8000", complainant_email="")
    assert one.customer_id == two.customer_id is not None
