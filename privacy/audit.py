"""The record of every view or export of personal data (PIPL; DESIGN.md §6).

Personal data belongs to cases, so a view is an event in the chain of each case whose personal data
was shown: `view_personal` or `export_personal`. Such reads do not move a case's version
(ledger.chain.is_read). A view of data that belongs to no case (a profile with orders only) has no
chain to go into; that is a known limit, noted in docs/privacy.md.
"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from complaints.ledgering import Actor, record, snapshot
from complaints.models import Complaint

# What was seen, so that the chain says more than "something": the case page, the customer profile, an export.
HOW = frozenset({"case_page", "case_api", "profile", "export_json", "export_pdf", "export_file", "dossier", "report"})


def record_personal_access(
    complaint_ids: Iterable[int], *, actor: Actor, how: str, detail: dict[str, Any] | None = None
) -> int:
    """One event per case whose personal data `actor` saw (`how` names the page or export). Returns
    how many events were written. Cases are locked one at a time in id order, so two readers of the
    same people never deadlock."""
    if how not in HOW:
        raise ValueError(f"unknown access kind: {how}")
    action = "export_personal" if how.startswith("export") else "view_personal"
    ids = sorted(set(complaint_ids))
    written = 0
    with transaction.atomic():
        for pk in ids:
            complaint = Complaint.objects.select_for_update(of=("self",)).filter(pk=pk).first()
            if complaint is None:
                continue
            record(
                complaint, action=action, actor=actor, before=snapshot(complaint), data={"how": how, **(detail or {})}
            )
            written += 1
    return written


def record_case_read(user: Any, complaint: Complaint, part: str) -> None:
    """A staff read through the API of one part of a case that shows personal data (the timeline's
    snapshots, contact summaries, replies, remedies and offers addressed to the person, findings,
    tasks, evidence names, proceedings): a `view_personal` event naming the part, unless the reader
    sees the case masked (analysts)."""
    from complaints.permissions import Principal

    if Principal.of(user).masked_for(complaint):
        return
    record_personal_access([complaint.pk], actor=Actor.staff(user), how="case_api", detail={"part": part})
