"""The demo data: tasks (some done, one overdue) and findings on demo cases, through the actions."""

import random

from django.utils import timezone

from complaints import demo
from complaints.models import Complaint
from investigation import demo as investigation_demo
from investigation.models import CoordinationTask, Finding
from ledger.models import LedgerEvent


def test_demo_seed_adds_tasks_and_findings(db):
    demo.generate(count=80, seed=7)
    complaints = list(Complaint.objects.filter(is_demo=True).select_related("org_unit", "owner", "department"))
    investigation_demo.seed(complaints, random.Random(7))
    tasks = CoordinationTask.objects.all()
    assert tasks.filter(status="done").count() >= 2
    assert tasks.filter(status="open").count() >= 1
    assert any(t.is_overdue(timezone.now()) for t in tasks)
    assert Finding.objects.filter(status="effective").count() >= 2
    assert LedgerEvent.objects.filter(action="create_task").count() == tasks.count()
