"""Evidence writes and the chain of custody: every upload, view, download and deletion of an item is
an event in its case's ledger chain (DESIGN.md §6)."""

import io
import os
import unicodedata
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.actions import _lock, _required, _run, check_may
from complaints.choices import OPEN_STATES
from complaints.ledgering import Actor, record, snapshot
from complaints.models import Complaint
from complaints.permissions import staff_may
from complaints.transitions import guard
from core.errors import TransitionNotAllowed, ValidationError
from ledger.crypto import usable

from . import store
from .checks import check_file
from .choices import EvidenceKind, Via
from .models import Evidence

_NAME_MAX = 200


def clean_filename(name: str) -> str:
    """A display name without paths or control characters (the stored name is the hash anyway)."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > _NAME_MAX:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[: _NAME_MAX - len(suffix) - 1] + dot + suffix) if dot and len(suffix) < 10 else name[:_NAME_MAX]
    return name or "file"


def _as_file(content: bytes | BinaryIO | File) -> tuple[BinaryIO, int]:
    if isinstance(content, bytes):
        return io.BytesIO(content), len(content)
    size = getattr(content, "size", None)
    if size is None:
        content.seek(0, io.SEEK_END)
        size = content.tell()
    content.seek(0)
    return content, int(size)  # type: ignore[return-value]


def check_evidence(content: bytes | BinaryIO | File, filename: str, kind: str) -> tuple[BinaryIO, int, str]:
    """Validate before anything is stored: (file, size, detected content type)."""
    if kind not in EvidenceKind.values:
        raise ValidationError("kind", _("未知的证据类型：%(kind)s") % {"kind": kind})
    data, size = _as_file(content)
    return data, size, check_file(data, clean_filename(filename), size)


def _private(complaint: Complaint, values: dict[str, str]) -> dict[str, str]:
    # An erased person's key is gone: nothing personal is written for them any more.
    return values if usable(complaint.subject_key_id) else {}


def _check_may_add(complaint: Complaint, actor: Actor, size: int = 0) -> None:
    check_may(complaint, actor, "add_evidence")
    reason = guard(complaint, "add_evidence", consumer=actor.kind == "consumer")
    if reason is not None:
        raise TransitionNotAllowed("add_evidence", complaint.status, [], reason)
    if actor.kind == "consumer":
        _check_consumer_quota(complaint, size)


def _check_consumer_quota(complaint: Complaint, size: int) -> None:
    """What one case may receive from the public side: anyone who files a complaint holds a code,
    and the store keeps everything, so the files and bytes per case are capped."""
    from django.db.models import Count, Sum

    sent = Evidence.objects.filter(complaint=complaint, added_by="consumer").aggregate(n=Count("id"), b=Sum("size"))
    files, total = sent["n"] or 0, sent["b"] or 0
    if files + 1 > settings.COMPLAINTDESK_CONSUMER_EVIDENCE_FILES:
        raise ValidationError(
            "file",
            _("每件投诉最多可提交 %(n)d 个证据文件；如需更多，请联系经办人。")
            % {"n": settings.COMPLAINTDESK_CONSUMER_EVIDENCE_FILES},
        )
    if total + size > settings.COMPLAINTDESK_CONSUMER_EVIDENCE_BYTES:
        raise ValidationError(
            "file",
            _("每件投诉提交的证据文件合计不能超过 %(mb)d MB；如需更多，请联系经办人。")
            % {"mb": settings.COMPLAINTDESK_CONSUMER_EVIDENCE_BYTES // (1024 * 1024)},
        )


def add_evidence(
    complaint: Complaint,
    *,
    content: bytes | BinaryIO | File,
    filename: str,
    kind: str,
    actor: Actor,
    via: str,
    description: str = "",
    raw_message: bool = False,
    shown_to_consumer: bool | None = None,
) -> Evidence:
    """Attach a file to a case. Refused content raises ValidationError('file', reason) and stores
    nothing; `raw_message` keeps an e-mail exactly as received (never refused: the mail is the proof)."""
    filename = clean_filename(filename)
    description = (description or "").strip()[:500]
    if raw_message:
        data, size = _as_file(content)
        content_type = "message/rfc822"
    else:
        data, size, content_type = check_evidence(content, filename, kind)
    _check_may_add(complaint, actor, size)  # before storing: a refused action leaves no blob
    sha256, size = store.put(data)
    with transaction.atomic():
        locked = _lock(complaint.pk)
        _check_may_add(locked, actor, size)
        item = Evidence.objects.create(
            complaint=locked,
            kind=kind,
            sha256=sha256,
            size=size,
            content_type=content_type,
            filename=filename,
            description=description,
            via=via,
            added_by=actor.ref,
            added_by_user=actor.user if actor.kind == "staff" else None,
            shown_to_consumer=actor.kind == "consumer" if shown_to_consumer is None else shown_to_consumer,
        )
        before = snapshot(locked)
        _bump(locked)
        record(
            locked,
            action="add_evidence",
            actor=actor,
            before=before,
            data={
                "evidence_id": item.pk,
                "sha256": sha256,
                "size": size,
                "content_type": content_type,
                "kind": kind,
                "via": via,
            },
            private=_private(locked, {"filename": filename, "description": description}),
        )
    return item


def _bump(complaint: Complaint) -> None:
    """A write to the case's evidence moves its version like any other write (stale forms see it)."""
    complaint.version += 1
    complaint.save(update_fields=["version"])


def record_access(item: Evidence, *, actor: Actor, how: str) -> None:
    """A view or download of an item: one event in the case's chain (chain of custody)."""
    assert how in {"view", "download"}
    with transaction.atomic():
        locked = _lock(item.complaint_id)
        record(
            locked,
            action=f"{how}_evidence",
            actor=actor,
            before=snapshot(locked),
            data={"evidence_id": item.pk, "sha256": item.sha256},
        )


def check_deletable(item: Evidence, now=None) -> None:  # type: ignore[no-untyped-def]
    """Nothing is deleted while its case is open, within retention, or under legal hold."""
    now = now or timezone.now()
    complaint = item.complaint
    if item.deleted_at is not None:
        raise ValidationError("evidence", _("该证据文件已删除。"))
    if complaint.legal_hold:
        raise ValidationError("evidence", _("投诉处于法律保全中，证据不能删除。"))
    if complaint.status in OPEN_STATES:
        raise ValidationError("evidence", _("投诉尚未办结，证据不能删除。"))
    ended = complaint.closed_at or complaint.archived_at or complaint.resolved_at or complaint.acknowledged_at
    days = settings.COMPLAINTDESK_EVIDENCE_RETENTION_DAYS
    if ended is None or now - ended < timedelta(days=days):
        raise ValidationError("evidence", _("证据须保存至结案后 %(days)d 天，期满前不能删除。") % {"days": days})


def delete_evidence(item: Evidence, *, actor: Actor, reason: str) -> Evidence:
    """Delete an item's file after retention (a supervisor of the case). The row and its ledger
    trail stay; the blob goes only when no other live item holds the same content."""
    reason = _required(reason, "reason", 2)
    with transaction.atomic():
        locked = _lock(item.complaint_id)
        item = Evidence.objects.select_for_update().get(pk=item.pk)
        item.complaint = locked
        if actor.kind != "staff" or not staff_may(actor.user, locked, "delete_evidence"):
            raise PermissionDenied(_("只有负责该投诉的主管可以删除证据。"))
        check_deletable(item)
        item.deleted_at = timezone.now()
        item.save(update_fields=["deleted_at"])
        before = snapshot(locked)
        _bump(locked)
        record(
            locked,
            action="delete_evidence",
            actor=actor,
            before=before,
            data={"evidence_id": item.pk, "sha256": item.sha256},
            private=_private(locked, {"note": reason}),
        )
        sha256 = item.sha256
        from intake.models import InboundMail

        still_used = (
            Evidence.objects.filter(sha256=sha256, deleted_at__isnull=True).exists()
            or InboundMail.objects.filter(raw_sha256=sha256).exists()  # the mail as received stays
        )
        if not still_used:
            transaction.on_commit(lambda: store.delete(sha256))
    return item


def set_legal_hold(
    complaint: Complaint, *, actor: Actor, on: bool, reason: str, expected_version: int | None = None
) -> Complaint:
    """Set or lift a legal hold (legal/PR or the department's supervisor): while it is on, nothing of
    the case is deleted or anonymised, whatever its age."""
    reason = _required(reason, "reason", 2)

    def change(c: Complaint, now) -> dict:  # type: ignore[no-untyped-def]
        if c.legal_hold == on:
            raise ValidationError("legal_hold", _("法律保全已是此状态。"))
        c.legal_hold = on
        return {"note": reason}

    return _run(complaint, actor, "set_legal_hold", change, expected_version=expected_version)


__all__ = [
    "Via",
    "add_evidence",
    "check_deletable",
    "check_evidence",
    "delete_evidence",
    "record_access",
    "set_legal_hold",
]
