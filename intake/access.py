"""The consumer's way in: tracking number + access code, shared by the API and the status page.

Guessing is limited twice (docs/hostile-input.md works out what that leaves a guesser): per client
address, FAILURES_PER_MINUTE wrong codes a minute, and per tracking number, FAILURES_PER_CASE wrong
codes an hour from all addresses together, so that many addresses do not add up against one case.
Past either limit even the right code is refused until the window ends: a guesser ignores the
refusals of wrong codes, so only a refusal of the right one stops them."""

import time

from django.conf import settings
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from complaints.models import Complaint
from complaints.tracking import check_access_code
from core import ratelimit
from core.errors import RateLimited
from core.validation import CONTROL, TRACKING_NO

# Wrong codes one client address may try in a minute.
FAILURES_PER_MINUTE = 10
# Wrong codes one tracking number may receive in an hour, from every address together. A consumer
# who mistypes a few times is far from it; someone who locks a case out by guessing blocks only the
# status lookup, for the rest of the hour (the case goes on, and mail still reaches the consumer).
FAILURES_PER_CASE = 20
CASE_WINDOW_MINUTES = 60

# The OpenAPI description of the header that carries the code (never the URL).
ACCESS_CODE_HEADER = {
    "in": "header",
    "name": "X-Access-Code",
    "required": True,
    "schema": {"type": "string", "maxLength": 64},
    "description": "The access code from the receipt (never in the URL).",
}


def _retry_after(window_minutes: int) -> int:
    now = time.time()
    return int(window_minutes * 60 - now % (window_minutes * 60)) or 1


@sensitive_variables("access_code")
def find_own_case(request: HttpRequest, tracking_no: str, access_code: str) -> Complaint | None:
    """The case if the code fits; None for a wrong code and an unknown number alike (no oracle).
    Raises RateLimited past the public rate or after too many failures."""
    ratelimit.hit("public", request, settings.COMPLAINTDESK_PUBLIC_RATE_PER_MINUTE)
    tracking_no = tracking_no.strip().upper()
    well_formed = bool(TRACKING_NO.fullmatch(tracking_no))
    limited = settings.COMPLAINTDESK_RATELIMIT
    address_key = f"status-failure:{ratelimit.client_key(request)}"
    # Counted for unknown numbers too: a lock only on existing cases would tell which exist.
    case_key = f"code-failure:{tracking_no}" if well_formed else ""
    if limited:
        if ratelimit.failures(address_key, 1) >= FAILURES_PER_MINUTE:
            raise RateLimited(retry_after=_retry_after(1))
        if case_key and ratelimit.failures(case_key, CASE_WINDOW_MINUTES) >= FAILURES_PER_CASE:
            raise RateLimited(retry_after=_retry_after(CASE_WINDOW_MINUTES))
    complaint = None
    if well_formed and not CONTROL.search(access_code):
        complaint = Complaint.objects.select_related("owner").filter(tracking_no=tracking_no).first()
    if complaint is None or not access_code or not check_access_code(access_code, complaint.access_code_hash):
        if limited:
            ratelimit.count_failure(address_key, 1)
            if case_key:
                ratelimit.count_failure(case_key, CASE_WINDOW_MINUTES)
        return None
    return complaint
