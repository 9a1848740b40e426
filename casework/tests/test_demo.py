"""Demo data closes its cases through the checklist: contacts, a reply through send_reply, the
evidence confirmed."""

import random

from django.utils import timezone

from casework.models import ClosingChecklist, Contact, Reply
from complaints import demo
from complaints.models import Category, Complaint
from ledger.models import LedgerEvent


def test_closing_stories_reply_then_close_with_the_evidence_confirmed(db):
    categories = {c.code: c for c in Category.objects.all()}
    specs = demo.build_specs(200, random.Random(11), timezone.now(), categories)
    closing = [s for s in specs if any(step.action == "close" for step in s.steps)]
    assert closing
    for spec in closing:
        names = [step.action for step in spec.steps]
        close = names.index("close")
        assert names[close - 1] == "send_reply" and spec.steps[close].kwargs == {"evidence_complete": True}
    contacts = [step for s in closing for step in s.steps if step.action == "add_contact"]
    assert {step.kwargs["party"] for step in contacts} == {"consumer", "third_party"}
    languages = {s.language for s in closing if any(step.action == "add_contact" for step in s.steps)}
    assert languages == {"zh-hans", "en"}


def test_a_small_demo_run_leaves_checklists_replies_and_contacts(db):
    demo.generate(count=30, seed=7)
    closings = LedgerEvent.objects.filter(action="close").count()
    assert closings and ClosingChecklist.objects.count() == closings
    assert Reply.objects.filter(delivery="not_mailed").count() == Reply.objects.count() > 0  # demo: never mailed
    assert Contact.objects.exists()
    for complaint in Complaint.objects.filter(status="closed"):
        assert complaint.reply_text and complaint.closings.exists()
