"""The survey link's token: signed (django.core.signing, salted) from the survey's id and round,
made when a message is rendered and never stored nor passed to a task. Expiry is the survey's own
(`expires_at`), so a token cannot outlive the survey and an admin can see when a link dies."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "complaintdesk.feedback.survey"


def make_token(survey_id: int, round_no: int) -> str:
    return signing.dumps({"s": survey_id, "r": round_no}, salt=SALT, compress=False)


def survey_url(survey_id: int, round_no: int) -> str:
    """The absolute link the consumer opens (no login)."""
    path = reverse("feedback_public:survey", args=[make_token(survey_id, round_no)])
    return settings.COMPLAINTDESK_PUBLIC_URL + path


@dataclass
class TokenContent:
    survey_id: int
    round_no: int


class BadToken(Exception):
    """Forged or tampered with: the signature does not hold."""


def read_token(token: str) -> TokenContent:
    if not token or len(token) > 300:
        raise BadToken()
    try:
        value = signing.loads(token, salt=SALT)
    except signing.BadSignature as exc:
        raise BadToken() from exc
    if not isinstance(value, dict) or not isinstance(value.get("s"), int) or not isinstance(value.get("r"), int):
        raise BadToken()
    return TokenContent(value["s"], value["r"])
