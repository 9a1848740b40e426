"""Cases closed on real dates (Asia/Shanghai), their surveys, and helpers for the pages and the API."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from casework import actions as casework
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from feedback.choices import SurveyStatus
from feedback.models import Survey
from feedback.tokens import make_token

CST = ZoneInfo("Asia/Shanghai")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=CST)


def fresh(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_related("org_unit", "owner").get(pk=complaint.pk)


def case_in_progress(cast: Any, body: Any, **overrides: Any) -> Complaint:
    complaint, _ = actions.submit(
        check_intake(IntakeData(**body(**overrides)), staff="priority" in overrides), actor=Actor.consumer()
    )
    sup = Actor.staff(cast.supervisor)
    complaint = actions.accept(complaint, actor=sup)
    if complaint.owner_id != cast.agent.pk:
        complaint = actions.assign(complaint, actor=sup, owner=cast.agent)
    return fresh(actions.start_work(complaint, actor=Actor.staff(cast.agent)))


def resolve_and_close(complaint: Complaint, user: Any, capture: Any) -> Complaint:
    """Resolve, reply and close; the after-commit side effects (the survey, call-backs) run."""
    agent = Actor.staff(user)
    with capture(execute=True):
        resolved = actions.resolve(complaint, actor=agent, outcome="executed", note="已为您更换新品。")
        casework.send_reply(resolved, actor=agent, text="您好，已为您更换新品。")
        actions.close(fresh(resolved), actor=agent, evidence_complete=True)
    return fresh(complaint)


def closed_case(cast: Any, body: Any, org: Any, capture: Any, **overrides: Any) -> Complaint:
    return resolve_and_close(case_in_progress(cast, body, org_unit=org.store_sz.pk, **overrides), cast.agent, capture)


def send_now(survey: Survey, days: int = 14) -> tuple[Survey, str]:
    """Mark the survey sent (as the job does) and give its link's token."""
    now = timezone.now()
    Survey.objects.filter(pk=survey.pk).update(
        status=SurveyStatus.SENT, sent_at=now, expires_at=now + timedelta(days=days)
    )
    survey.refresh_from_db()
    return survey, make_token(survey.pk, survey.round)


@pytest.fixture
def closed(cast, body, org, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    return closed_case(cast, body, org, django_capture_on_commit_callbacks)


@pytest.fixture
def sent(closed):  # type: ignore[no-untyped-def]
    """(case, survey, token) for a closed case whose survey went out just now."""
    survey, token = send_now(Survey.objects.get(complaint=closed))
    return closed, survey, token


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def answer_body(**overrides: Any) -> dict[str, Any]:
    return {"outcome": 5, "handling": 4, "solved": "yes", "comment": "处理很及时，谢谢。", **overrides}


__all__ = ["at", "fresh", "time_machine"]
