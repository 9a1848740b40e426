"""The demo: a completed plan with a measured effect, an overdue plan, and anonymised library entries."""

import random

from django.test.utils import override_settings

from complaints import demo
from complaints.models import Complaint
from improvement import demo as improvement_demo
from improvement.effect import measure
from improvement.models import ImprovementPlan, LibraryEntry
from improvement.selectors import is_overdue


def test_the_demo_has_a_measured_plan_an_overdue_one_and_anonymised_library_entries(db):
    demo.generate(count=80, seed=7)
    complaints = list(Complaint.objects.filter(is_demo=True).order_by("pk"))
    with override_settings(TASKS=demo.DUMMY_TASKS):
        improvement_demo.seed(complaints, random.Random(3))
        improvement_demo.seed(complaints, random.Random(3))  # a second run adds nothing
    done = ImprovementPlan.objects.get(status="done")
    effect = measure(done)
    assert effect["complete"] and effect["sentence"] and done.complaints.exists()
    assert any(is_overdue(p) for p in ImprovementPlan.objects.exclude(status="done"))
    entries = list(LibraryEntry.objects.select_related("source_complaint"))
    assert 1 <= len(entries) <= 3
    for entry in entries:
        case = entry.source_complaint
        text = entry.summary + entry.handling
        for secret in (case.complainant_name, case.complainant_phone, case.complainant_email, case.order_no):
            assert not secret or secret not in text
