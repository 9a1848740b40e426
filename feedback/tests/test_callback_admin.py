"""Issue 9: an admin's reassignment of a call-back (the Django admin form) is a ledger event on the case."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from feedback.models import Callback, CallbackRule
from ledger.models import LedgerEvent
from ledger.verify import verify

from .conftest import closed_case


@pytest.fixture
def callback(cast, body, org, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    CallbackRule.objects.filter(kind="sample").update(percent=0)
    case = closed_case(cast, body, org, django_capture_on_commit_callbacks, priority="P1")
    return Callback.objects.get(complaint=case)


def test_an_admin_reassignment_is_recorded_on_the_case(cast, callback):
    cast.admin.is_superuser = True
    cast.admin.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(cast.admin)
    due = timezone.localtime(timezone.now() + timedelta(days=3)).replace(microsecond=0, second=0)
    old_assignee = callback.assignee_id
    url = f"/admin/feedback/callback/{callback.pk}/change/"
    form = {"assignee": cast.supervisor.pk, "due_at_0": due.strftime("%Y-%m-%d"), "due_at_1": due.strftime("%H:%M:%S")}
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    callback.refresh_from_db()
    assert callback.assignee_id == cast.supervisor.pk and callback.due_at == due
    event = LedgerEvent.objects.filter(complaint=callback.complaint, action="reassign_callback").get()
    assert event.actor == f"staff:{cast.admin.pk}"
    assert event.data["from"]["assignee"] == old_assignee and event.data["to"]["assignee"] == cast.supervisor.pk
    # Saving the same values again changes nothing and records nothing.
    assert client.post(url, form).status_code == 302
    assert LedgerEvent.objects.filter(complaint=callback.complaint, action="reassign_callback").count() == 1
    assert verify().ok
