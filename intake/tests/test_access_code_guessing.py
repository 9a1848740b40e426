"""Guessing access codes (issue 9 item 5): the consumer's way in is a tracking number (not secret:
dated and sequential) and an access code. Wrong codes are limited per client address and per
tracking number; past either limit even the right code is refused until the window ends, because a
guesser ignores the refusals of wrong codes and only a refusal of the right one stops them.

The last tests work out, from the code's alphabet and length and from these limits, how long
guessing takes, and check that docs/security.md ("Hostile input") states the same figures."""

import math
import re
from datetime import timedelta
from pathlib import Path

import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from complaints import actions, tracking
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from conftest import complaint_body
from intake.access import CASE_WINDOW_MINUTES, FAILURES_PER_CASE, FAILURES_PER_MINUTE

WRONG = "WRONG2345678"
MINUTES_PER_YEAR = 365 * 24 * 60
# A large deployment (cases that can be looked up) and a large botnet, for the whole-database bound.
CASES = 10_000_000
ADDRESSES = 100_000


def new_case() -> tuple[str, str]:
    complaint, code = actions.submit(check_intake(IntakeData(**complaint_body()), staff=False), actor=Actor.consumer())
    return complaint.tracking_no, code


def lookup(tracking_no: str, code: str, address: str = "203.0.113.7") -> int:
    response = Client(REMOTE_ADDR=address).get(
        f"/api/v1/public/complaints/{tracking_no}", headers={"X-Access-Code": code}
    )
    return response.status_code


def start_of_hour():  # type: ignore[no-untyped-def]
    """A fixed moment at the start of an hour: the windows are counted per minute and per hour."""
    return time_machine.travel(timezone.now().replace(minute=0, second=1), tick=False)


def test_wrong_codes_from_one_address_lock_it_out_even_for_the_right_code(cast, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    tracking_no, code = new_case()
    with start_of_hour() as clock:
        assert [lookup(tracking_no, WRONG) for _ in range(FAILURES_PER_MINUTE)] == [404] * FAILURES_PER_MINUTE
        refused = Client(REMOTE_ADDR="203.0.113.7").get(
            f"/api/v1/public/complaints/{tracking_no}", headers={"X-Access-Code": code}
        )
        assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
        assert lookup(tracking_no, code, address="198.51.100.9") == 200  # another address is not locked out
        clock.shift(timedelta(minutes=1))
        assert lookup(tracking_no, code) == 200


def test_wrong_codes_for_one_case_from_many_addresses_lock_the_case_for_the_hour(cast, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    tracking_no, code = new_case()
    other_no, other_code = new_case()
    with start_of_hour() as clock:
        # Each address stays under its own limit: only the count per case can stop them.
        codes = [lookup(tracking_no, WRONG, address=f"10.0.{i // 250}.{i % 250}") for i in range(FAILURES_PER_CASE)]
        assert codes == [404] * FAILURES_PER_CASE
        assert lookup(tracking_no, code, address="198.51.100.9") == 429
        page = Client(REMOTE_ADDR="198.51.100.10").post("/status/", {"tracking_no": tracking_no, "access_code": code})
        assert page.status_code == 429  # the status page shares the check
        assert lookup(other_no, other_code, address="198.51.100.9") == 200
        clock.shift(timedelta(minutes=CASE_WINDOW_MINUTES - 1))
        assert lookup(tracking_no, code, address="198.51.100.11") == 429
        clock.shift(timedelta(minutes=1))
        assert lookup(tracking_no, code, address="198.51.100.11") == 200


def test_an_unknown_number_is_locked_alike_so_the_lock_tells_nothing(cast, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    with start_of_hour():
        unknown = "TS20000101-000001"
        codes = [lookup(unknown, WRONG, address=f"10.1.0.{i}") for i in range(FAILURES_PER_CASE + 1)]
        assert codes == [404] * FAILURES_PER_CASE + [429]


def test_the_public_rate_per_address_counts_right_codes_too(cast, settings):
    settings.COMPLAINTDESK_RATELIMIT = True
    settings.COMPLAINTDESK_PUBLIC_RATE_PER_MINUTE = 3
    tracking_no, code = new_case()
    with start_of_hour():
        assert [lookup(tracking_no, code) for _ in range(4)] == [200, 200, 200, 429]


def test_access_codes_are_random_over_the_whole_alphabet(db):
    codes = [tracking.new_access_code() for _ in range(500)]
    assert len(set(codes)) == len(codes)
    assert {len(c) for c in codes} == {12}
    used = set("".join(codes))
    assert used <= set(tracking._ALPHABET) and len(used) == len(tracking._ALPHABET) == 32


def guessing_figures() -> dict[str, float]:
    """How long guessing takes under the limits, from the code's alphabet and length."""
    space = len(tracking._ALPHABET) ** len(tracking.new_access_code())
    per_case_per_year = FAILURES_PER_CASE * MINUTES_PER_YEAR / CASE_WINDOW_MINUTES
    per_address_per_year = FAILURES_PER_MINUTE * MINUTES_PER_YEAR
    # One case, however many addresses guess: the per-case limit; on average half the codes are tried.
    one_case_years = space / 2 / per_case_per_year
    # Any case of a large deployment, from a large botnet: every guess hits with 1/space; the guesses
    # a year are bounded by both limits.
    guesses_per_year = min(ADDRESSES * per_address_per_year, CASES * per_case_per_year)
    any_case_years = space / guesses_per_year
    return {
        "bits": math.log2(space),
        "space": space,
        "per_case_per_year": per_case_per_year,
        "one_case_years": one_case_years,
        "any_case_years": any_case_years,
        "any_case_per_year": guesses_per_year / space,
    }


def sci(value: float) -> str:
    """1.2e12 → "1.2 × 10^12", the way docs/security.md writes them."""
    exponent = math.floor(math.log10(abs(value)))
    return f"{value / 10**exponent:.1f} × 10^{exponent}"


def test_guessing_an_access_code_is_impossible_in_practice(db):
    figures = guessing_figures()
    assert figures["bits"] == 60
    # One consumer's code against any number of guessers: trillions of years (the universe: 1.4 × 10^10).
    assert figures["one_case_years"] > 1e12
    # Some code of ten million cases, against a hundred thousand addresses: a million years.
    assert figures["any_case_years"] > 1e6
    assert figures["any_case_per_year"] < 1e-6


def test_the_documented_figures_are_the_computed_ones(db):
    figures = guessing_figures()
    text = (Path(django_settings.BASE_DIR) / "docs" / "security.md").read_text("utf-8")
    section = text[text.index("## Hostile input") :]
    for name in ("space", "per_case_per_year", "one_case_years", "any_case_years"):
        assert sci(figures[name]) in section, (name, sci(figures[name]))
    for limit in (FAILURES_PER_MINUTE, FAILURES_PER_CASE):
        assert re.search(rf"\b{limit}\b", section)
