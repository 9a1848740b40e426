"""The consumer's way in: tracking number + access code, shared by the API and the status page."""

from django.conf import settings
from django.http import HttpRequest
from django.views.decorators.debug import sensitive_variables

from complaints.models import Complaint
from complaints.tracking import check_access_code
from core import ratelimit
from core.validation import CONTROL, TRACKING_NO

# Wrong codes a client may try in a minute: guessing access codes is throttled hard.
FAILURES_PER_MINUTE = 10


@sensitive_variables("access_code")
def find_own_case(request: HttpRequest, tracking_no: str, access_code: str) -> Complaint | None:
    """The case if the code fits; None for a wrong code and an unknown number alike (no oracle).
    Raises RateLimited past the public rate or after too many failures."""
    ratelimit.hit("public", request, settings.COMPLAINTDESK_PUBLIC_RATE_PER_MINUTE)
    tracking_no = tracking_no.strip().upper()
    complaint = None
    if TRACKING_NO.fullmatch(tracking_no) and not CONTROL.search(access_code):
        complaint = Complaint.objects.select_related("owner").filter(tracking_no=tracking_no).first()
    if complaint is None or not access_code or not check_access_code(access_code, complaint.access_code_hash):
        ratelimit.hit("status-failure", request, FAILURES_PER_MINUTE)
        return None
    return complaint
