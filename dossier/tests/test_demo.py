"""dossier.demo.seed adds a regulator referral with documents and a crisis case through the actions."""

import random

from dossier import demo
from dossier.models import CrisisChecklist, ExternalDocument, ExternalProceeding
from ledger.verify import verify as verify_ledger

from .conftest import case_in_progress


def test_seed_adds_a_referral_and_a_crisis(cast, body, org, legal2):
    cases = [case_in_progress(cast, body, org_unit=org.store_sz.pk) for _ in range(3)]
    demo.seed(cases, random.Random(7))
    proceeding = ExternalProceeding.objects.get()
    assert proceeding.route == "regulator" and proceeding.due_at is not None
    assert ExternalDocument.objects.filter(proceeding=proceeding).count() == 2
    checklist = CrisisChecklist.objects.get()
    assert checklist.complaint_id != proceeding.complaint_id
    assert checklist.facts_verified_at and checklist.statement_approved_at and checklist.media_contacts.count() == 1
    assert checklist.completed_at is None
    assert verify_ledger().ok
