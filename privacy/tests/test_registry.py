"""The registry asks every app that holds personal data, whichever have landed."""

import json

import time_machine
from django.apps import apps

from privacy import registry
from privacy.models import PrivacyRequest

from .conftest import at, close_case, new_case


def _holders(method: str) -> set[str]:
    return {c.label for c in apps.get_app_configs() if c.label != "privacy" and callable(getattr(c, method, None))}


def test_the_export_has_a_section_for_every_app_that_holds_personal_data(person):
    customer, _first, _second = person
    document = registry.personal_data(customer)
    assert set(document["apps"]) == _holders("personal_data")
    assert list(document)[:5] == ["customer", "complaints", "contacts", "replies", "evidence"]
    json.dumps(document, default=str)  # every section is JSON-able


def test_erasure_asks_every_app_and_blanks_the_customer_record_last(cast, body, api_as):
    with time_machine.travel(at(2021, 1, 4, 10), tick=False):
        case = new_case(body)
        close_case(case, cast)
    with time_machine.travel(at(2024, 6, 1, 10), tick=False):
        response = api_as(cast.legal).post(f"/privacy/customers/{case.customer_id}/erase", {"reason": "本人申请"})
    assert response.status_code == 200, response.content
    asked = PrivacyRequest.objects.get().detail["apps"]
    assert set(asked) == _holders("erase_personal") | {"privacy"} and asked[-1] == "privacy"
