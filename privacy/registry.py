"""The apps that hold personal data, asked through their AppConfig:

    personal_data(self, customer) -> dict     what the app holds about the person (JSON-able)
    erase_personal(self, customer) -> None    erase or anonymise it
    erase_case_personal(self, complaint) -> None   optional: anonymise what it holds about one case's
                                                  complainant (retention of a single case whose
                                                  person is still kept, privacy.retention)

Every installed app that defines them takes part, whichever have landed; an app without them holds
nothing about people. The privacy app speaks for the customer record, complaints, casework,
evidence and inbound mail itself (privacy.sections). At erasure the other apps go first, while the
complaints and the customer record still show every name and address the person used; the privacy
app's own part (the mail, the cases, the customer record last) follows in privacy.actions.erase."""

from collections.abc import Iterator
from typing import Any

from django.apps import AppConfig, apps

from complaints.models import Complaint
from customers.models import Customer


def _participants(method: str) -> Iterator[AppConfig]:
    for config in apps.get_app_configs():
        if config.label != "privacy" and callable(getattr(config, method, None)):
            yield config


def personal_data(customer: Customer) -> dict[str, Any]:
    """Everything held about a person: the core sections, then one section per app (by app label,
    in INSTALLED_APPS order)."""
    document: dict[str, Any] = apps.get_app_config("privacy").personal_data(customer)  # type: ignore[attr-defined]
    document["apps"] = {config.label: config.personal_data(customer) for config in _participants("personal_data")}  # type: ignore[attr-defined]
    return document


def erase_personal(customer: Customer) -> list[str]:
    """Ask every other app to erase what it holds about the person, before the privacy app touches
    the complaints or the customer record; returns the labels of the apps asked."""
    asked = []
    for config in _participants("erase_personal"):
        config.erase_personal(customer)  # type: ignore[attr-defined]
        asked.append(config.label)
    return asked


def erase_case_personal(complaint: Complaint) -> list[str]:
    """Ask every other app that can to anonymise what it holds about one case's complainant, before
    the privacy app touches the case (retention of one case while the person's profile is kept:
    privacy.retention). Optional: an app without the hook keeps that data until the person as a
    whole is erased. Returns the labels of the apps asked."""
    asked = []
    for config in _participants("erase_case_personal"):
        config.erase_case_personal(complaint)  # type: ignore[attr-defined]
        asked.append(config.label)
    return asked
