"""The library's anonymiser: each kind of personal data that reached entries before, on its own."""

from __future__ import annotations

from typing import Any

import pytest

from customers.models import Customer
from improvement.anonymise import address_parts, anonymise
from ledger.crypto import new_subject_key

from .conftest import new_case


@pytest.fixture
def case(body, db):  # type: ignore[no-untyped-def]
    return new_case(
        body,
        complainant_name="王建国",
        complainant_address="上海市浦东新区张杨路500号华润时代广场3栋1201室",
        order_no="",
        staff_involved="",
    )


def _with_customer(case: Any, **profile: Any) -> Any:
    customer = Customer.objects.create(subject_key=new_subject_key(), **profile)
    case.customer = customer
    case.customer_id = customer.pk
    return case


def test_a_part_of_the_stored_address_written_on_its_own_is_masked(case):
    masked = anonymise("王先生住在张杨路500号，离华润时代广场不远，浦东新区那边。", case)
    for secret in ("张杨路500号", "华润时代广场", "浦东新区", "王先生"):
        assert secret not in masked, secret
    assert masked.startswith("投诉人住在")


def test_the_address_is_split_into_district_road_and_building_but_not_city():
    parts = address_parts("上海市浦东新区张杨路500号华润时代广场3栋1201室")
    assert {"浦东新区", "张杨路500号", "华润时代广场", "1201室"} <= set(parts)
    assert "上海市" not in parts


def test_a_road_and_number_not_in_any_field_is_masked(case):
    masked = anonymise("我朋友住在北京路88号5栋302室，5月3号送到。", case)
    assert "北京路88号" not in masked and "302室" not in masked
    assert "5月3号" in masked  # a date is not an address


def test_names_of_relatives_and_staff_are_replaced_and_the_role_kept(case):
    masked = anonymise("我妻子陈静说店长刘强态度很差，客服态度也不好。", case)
    assert "陈静" not in masked and "刘强" not in masked
    assert masked == "我妻子[姓名]说店长[员工]态度很差，客服态度也不好。"


def test_wechat_and_qq_ids_are_masked_after_their_labels(case):
    masked = anonymise("加我微信 wxm_1990，或者QQ：12345678，WeChat: zhang_abc", case)
    for secret in ("wxm_1990", "12345678", "zhang_abc"):
        assert secret not in masked, secret
    assert "微信" in masked and "QQ" in masked


def test_unlabelled_courier_numbers_and_short_labelled_order_numbers_are_masked_whole(case):
    masked = anonymise("顺丰SF1234567890123一直没到，订单号为 A-88，运单号：YT88990011。", case)
    for secret in ("SF", "1234567890123", "A-88", "YT88990011"):
        assert secret not in masked, secret
    assert "订单号为 [订单号]" in masked


def test_english_street_addresses_are_masked_whatever_the_suffix(case):
    _with_customer(case, address="12 Elm St")
    masked = anonymise("Deliver to 12 Elm Street please; 7 Oak Road is my office.", case)
    assert "Elm" not in masked and "Oak Road" not in masked


def test_a_romanised_name_is_masked_in_any_order_and_by_part(body, db):
    case = new_case(body, complainant_name="Li Na")
    masked = anonymise("Na Li called. Li Na likes the kettle; Ms Li is upset.", case)
    assert "Li" not in masked.replace("likes", "") and "Na " not in masked
    assert "likes" in masked  # a part is replaced as a word, not inside another


def test_the_customer_profiles_phone_email_id_number_and_name_are_used(case):
    _with_customer(
        case,
        name="王小明",
        phone="13912345678",
        email="wxm@corp.cn",
        id_number="110105194912310021",
        address="杭州市西湖区文三路90号",
    )
    masked = anonymise(
        "王小明的电话1391 234 5678（13912345678），wxm@corp.cn，身份证110105194912310021，文三路90号。", case
    )
    for secret in ("王小明", "13912345678", "wxm@corp.cn", "110105194912310021", "文三路90号"):
        assert secret not in masked, secret
