"""The daily digest (DESIGN.md §6): the head of the checkpoint chain, the number of events in the
ledger and the time, kept outside the system (a file on other storage, a mail to the auditors) so
that even someone who can rewrite the whole database cannot rewrite history unnoticed:
`verify_ledger --against DIGEST` proves that the ledger still extends it.

The document is one JSON object: `seq` and `hash` of the head checkpoint (0 and the genesis hash
before the first one), `at` its time, `last_event_id`, `events` (every event in the ledger when the
digest was taken, sealed or not yet: events are never deleted, so the ledger only ever holds more),
`side_chains` (the head {seq, hash} of each chain kept beside the case chains: the retention runs)
and `taken_at`."""

import itertools
import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from . import chain
from .models import DailyDigest, LedgerEvent
from .verify import side_chain_heads

log = logging.getLogger(__name__)

# How long a worker may hold the day's digest while it writes the file and mails it.
LEASE = timedelta(minutes=5)


def take(now: datetime | None = None) -> dict[str, Any]:
    """The digest as of now. The checkpoint is read before the events are counted, so the count
    covers at least every event the checkpoint seals."""
    head = chain.digest()
    return {
        "seq": head["seq"],
        "hash": head["hash"],
        "at": head["at"],
        "last_event_id": head.get("last_event_id"),
        "events": LedgerEvent.objects.count(),
        "side_chains": side_chain_heads(),
        "taken_at": chain._ts(now or timezone.now()),
    }


def render(digest: dict[str, Any]) -> str:
    return json.dumps(digest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def filename(day: date, n: int = 1) -> str:
    return f"ledger-digest-{day.isoformat()}.json" if n == 1 else f"ledger-digest-{day.isoformat()}-{n}.json"


def _same(path: Path, digest: dict[str, Any]) -> bool:
    """Whether the file holds the same digest (same checkpoint and count; the time it was taken aside)."""
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(held, dict) and all(held.get(key) == digest[key] for key in ("seq", "hash", "events"))


@dataclass
class Exported:
    path: Path
    written: bool  # False: the same digest was in that file already


def export(digest: dict[str, Any], directory: str | os.PathLike[str], day: date) -> Exported:
    """Write the digest to DIRECTORY/ledger-digest-DAY.json. A file is never overwritten: if the
    day's file holds this digest already it is left as it is; if it holds another (a second export
    the same day, after more events), this one goes to ledger-digest-DAY-2.json, -3, …"""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    text = render(digest)
    for n in itertools.count(1):
        path = folder / filename(day, n)
        try:
            # "x": created here or not at all, even with two writers at the same moment.
            with path.open("x", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except FileExistsError:
            if _same(path, digest):
                return Exported(path, written=False)
            continue
        return Exported(path, written=True)
    raise AssertionError("unreachable")  # itertools.count never ends


def mail(digest: dict[str, Any], recipients: list[str], day: date) -> None:
    """Mail the digest, as text and as the attached JSON file that `verify_ledger --against` reads."""
    name = filename(day)
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("账本每日摘要 %(day)s：检查点 %(seq)s") % {"day": day.isoformat(), "seq": digest["seq"]}
        body = _(
            "ComplaintDesk 账本每日摘要（%(day)s）\n\n"
            "检查点序号：%(seq)s\n"
            "检查点哈希：%(hash)s\n"
            "检查点时间：%(at)s\n"
            "账本事件数：%(events)s\n"
            "摘要生成时间：%(taken_at)s\n\n"
            "请将本邮件或附件保存在系统之外（不要只存在本系统的服务器上）。"
            "日后核验账本未被改写：complaintdesk verify_ledger --against %(file)s"
        ) % {
            "day": day.isoformat(),
            "seq": digest["seq"],
            "hash": digest["hash"],
            "at": digest["at"] or "-",
            "events": digest["events"],
            "taken_at": digest["taken_at"],
            "file": name,
        }
    message = EmailMessage(subject=subject, body=body, to=recipients)
    message.attach(name, render(digest), "application/json")
    message.send()


def _document(row: DailyDigest) -> dict[str, Any]:
    return {
        "seq": row.checkpoint_seq,
        "hash": row.hash,
        "at": chain._ts(row.checkpoint_at) if row.checkpoint_at else None,
        "last_event_id": row.last_event_id,
        "events": row.events,
        "side_chains": row.side_chains,
        "taken_at": chain._ts(row.taken_at),
    }


def _record(day: date, now: datetime) -> DailyDigest:
    """The day's row, taking the digest if there is none yet. A concurrent worker that created it
    first wins: its digest is the day's."""
    row = DailyDigest.objects.filter(day=day).first()
    if row is not None:
        return row
    chain.seal(now=now)  # the digest covers what has settled by now, not only the last round's checkpoint
    digest = take(now)
    checkpoint_at = parse_datetime(digest["at"]) if digest["at"] else None
    row, _created = DailyDigest.objects.get_or_create(
        day=day,
        defaults={
            "checkpoint_seq": digest["seq"],
            "hash": digest["hash"],
            "checkpoint_at": checkpoint_at,
            "last_event_id": digest["last_event_id"],
            "events": digest["events"],
            "side_chains": digest["side_chains"],
            "taken_at": parse_datetime(digest["taken_at"]),
        },
    )
    return row


def send_daily(now: datetime | None = None) -> str:
    """The scheduled job: once a day, export the digest to COMPLAINTDESK_LEDGER_DIGEST_DIR and mail it
    to COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS (whichever are set). DailyDigest records the day's
    digest, where it went and when; a failed export or mail is tried again next round with the same
    digest (what is done already is not done twice)."""
    directory = settings.COMPLAINTDESK_LEDGER_DIGEST_DIR
    recipients = list(settings.COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS)
    if not directory and not recipients:
        return "not configured"
    now = now or timezone.now()
    day = timezone.localdate(now)
    row = _record(day, now)
    if row.completed_at is not None:
        return "sent already"
    held = (
        DailyDigest.objects.filter(pk=row.pk, completed_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE)
    )
    if not held:
        return "another worker is sending it"
    row.refresh_from_db()
    digest = _document(row)
    try:
        if directory and not row.path:
            row.path = str(export(digest, directory, day).path)
            row.save(update_fields=["path"])
        if recipients and row.mailed_at is None:
            mail(digest, recipients, day)
            row.mailed_to, row.mailed_at = recipients, timezone.now()
            row.save(update_fields=["mailed_to", "mailed_at"])
        row.completed_at = timezone.now()
    finally:
        # Released on failure too (the scheduler logs the exception): the next round tries again.
        row.lease_until = None
        row.save(update_fields=["completed_at", "lease_until"])
    done = f"digest of {day.isoformat()}: checkpoint {row.checkpoint_seq}, {row.events} events"
    log.info("ledger %s exported to %s, mailed to %s", done, row.path or "-", ", ".join(row.mailed_to) or "-")
    return done
