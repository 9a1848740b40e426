"""`complaintdesk mail_intake`: the mail channel's listener.

SMTP (the default): an aiosmtpd server that the organisation's mail server relays complaint mail to.
A message is answered `250` only once its raw bytes are stored, so a relay never drops a mail we
did not keep; too large a message is refused with `552`, a recipient outside the configured domains
with `550`. IMAP (`--imap`): polls the configured mailbox for unseen mail, processes each message,
then flags it seen (or moves it). Each message is handled in its own transaction; one that fails
never stops the others."""

import asyncio
import logging
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from intake.inbound_mail import receive

log = logging.getLogger("complaintdesk.mail_intake")


def _receive_in_thread(raw: bytes, via: str, envelope_from: str | None, recipients: list[str]) -> None:
    try:
        receive(raw, via=via, envelope_from=envelope_from, recipients=recipients)
    finally:
        # This thread's own connection: mail comes seldom, and an idle connection held by a worker
        # thread outlives its database (tests) or its server's idle timeout.
        connections.close_all()


class IntakeHandler:
    """aiosmtpd handler: recipients by domain, then store-and-process in a worker thread (the ORM is
    synchronous; one thread keeps SQLite writers few)."""

    def __init__(self, domains: list[str] | None = None) -> None:
        self.domains = [d.lower() for d in (domains or [])]
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail-intake")

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        domain = address.rpartition("@")[2].lower()
        if self.domains and domain not in self.domains:
            return "550 5.1.1 Recipient address rejected: not a complaint mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        mail_from = envelope.mail_from if envelope.mail_from not in (None, "<>") else ""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                self.executor, _receive_in_thread, raw, "smtp", mail_from, list(envelope.rcpt_tos)
            )
        except Exception:
            log.exception("an inbound mail could not be stored; the sender is asked to retry")
            return "451 4.3.0 Temporary failure, please try again later"
        return "250 2.0.0 Message accepted"

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def smtp_controller(host: str, port: int, *, max_bytes: int | None = None, domains: list[str] | None = None) -> Any:
    """A started-on-demand aiosmtpd Controller with the intake handler (tests start one in-process)."""
    from aiosmtpd.controller import Controller

    handler = IntakeHandler(domains if domains is not None else settings.COMPLAINTDESK_MAIL_INTAKE_DOMAINS)
    return Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=max_bytes or settings.COMPLAINTDESK_MAIL_INTAKE_MAX_BYTES,
        enable_SMTPUTF8=True,
        decode_data=False,
        ident="ComplaintDesk mail intake",
    )


def poll_imap() -> int:
    """One poll of the configured mailbox: every unseen message is stored and processed, then flagged
    seen (or moved). A message that could not be stored stays unseen for the next poll. Returns the
    number of messages taken."""
    from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessageFlags

    host = settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_HOST
    if not host:
        raise CommandError("COMPLAINTDESK_MAIL_INTAKE_IMAP_HOST is not set")
    security = settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_SECURITY.lower()
    box_class = {"ssl": MailBox, "starttls": MailBoxStartTls, "none": MailBoxUnencrypted}.get(security)
    if box_class is None:
        raise CommandError("COMPLAINTDESK_MAIL_INTAKE_IMAP_SECURITY must be ssl, starttls or none")
    move_to = settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_MOVE_TO
    taken = 0
    with box_class(host, settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_PORT).login(
        settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_USER,
        settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_PASSWORD,
        initial_folder=settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_FOLDER,
    ) as mailbox:
        limit = settings.COMPLAINTDESK_MAIL_INTAKE_MAX_BYTES
        for uid in mailbox.uids(AND(seen=False)):
            # Too large a message is not fetched (the same limit as SMTP's 552): it is flagged for a
            # person to deal with in the mailbox, and left there.
            status, data = mailbox.client.uid("FETCH", uid, "(RFC822.SIZE)")
            size = re.search(rb"RFC822\.SIZE (\d+)", b" ".join(d for d in data if isinstance(d, bytes)) or b"")
            if status == "OK" and size is not None and int(size.group(1)) > limit:
                log.error(
                    "IMAP message %s is %s bytes, over the %s-byte limit; flagged, not taken", uid, size.group(1), limit
                )
                mailbox.flag(uid, [MailMessageFlags.FLAGGED, MailMessageFlags.SEEN], True)
                continue
            # The exact bytes (BODY.PEEK: fetching does not mark the message seen).
            status, data = mailbox.client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple) and len(item) > 1), None)
            if status != "OK" or not isinstance(raw, bytes):
                log.error("IMAP message %s could not be fetched (%s); left for the next poll", uid, status)
                continue
            try:
                receive(raw, via="imap")
            except Exception:
                log.exception("IMAP message %s could not be stored; left unseen for the next poll", uid)
                continue
            if move_to:
                mailbox.move(uid, move_to)
            else:
                mailbox.flag(uid, MailMessageFlags.SEEN, True)
            taken += 1
    return taken


class Command(BaseCommand):
    help = "Receive complaint mail: an SMTP listener (default, --bind HOST:PORT) or IMAP polling (--imap)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--bind", default=None, help="HOST:PORT of the SMTP listener (default from settings)")
        parser.add_argument("--imap", action="store_true", help="poll the configured IMAP mailbox instead")
        parser.add_argument("--once", action="store_true", help="with --imap: one poll, then exit")
        parser.add_argument("--interval", type=int, default=None, help="with --imap: seconds between polls")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        if options["imap"]:
            self._imap(stop, options["once"], options["interval"] or settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_INTERVAL)
        else:
            self._smtp(stop, options["bind"] or settings.COMPLAINTDESK_MAIL_INTAKE_BIND)

    def _imap(self, stop: threading.Event, once: bool, interval: int) -> None:
        while True:
            try:
                taken = poll_imap()
                self.stdout.write(f"IMAP: {taken} message(s) taken")
            except CommandError:
                raise
            except Exception:
                if once:
                    raise
                log.exception("IMAP poll failed; trying again in %s s", interval)
            if once or stop.wait(interval):
                return

    def _smtp(self, stop: threading.Event, bind: str) -> None:
        host, _sep, port = bind.rpartition(":")
        if not host or not port.isdigit():
            raise CommandError("--bind must be HOST:PORT")
        controller = smtp_controller(host.strip("[]"), int(port))
        controller.start()
        self.stdout.write(f"Mail intake listening on {bind} (SMTP)")
        try:
            while not stop.wait(1):
                time.sleep(0)
        finally:
            controller.stop()
            controller.handler.close()
