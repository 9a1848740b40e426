"""Mail in by IMAP polling, against a real IMAP server on loopback: a private Dovecot instance
(Debian's dovecot-imapd, installed by `make dovecot`) with its own configuration, users and maildir."""

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from complaints.models import Complaint
from evidence import store
from intake.models import InboundMail
from intake.tests.test_mail_intake import free_port, gb2312_mail, mail

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "imap-intake-pw"

CONFIG = """
base_dir = {home}/run
state_dir = {home}/state
log_path = {home}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{home}/mail/%u
first_valid_uid = {uid}
first_valid_gid = {gid}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {home}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {home}/passwd
}}
"""


@dataclass
class Imap:
    port: int
    user: str

    def connect(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port)
        client.login(self.user, PASSWORD)
        return client

    def append(self, raw: bytes, flags: str | None = None, folder: str = "INBOX") -> None:
        client = self.connect()
        try:
            status, _ = client.append(folder, flags, None, raw)
            assert status == "OK"
        finally:
            client.logout()

    def uids(self, criterion: str, folder: str = "INBOX") -> list[bytes]:
        client = self.connect()
        try:
            client.select(folder, readonly=True)
            status, data = client.uid("SEARCH", None, criterion)
            assert status == "OK"
            return data[0].split()
        finally:
            client.logout()


def _accounts() -> dict[str, Any]:
    """Dovecot refuses to run its login process as root and mail as uid 0: as root (CI, this
    container) mail belongs to the package's `dovecot` user and logins run as `dovenull`; as an
    ordinary user everything runs as that user."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return {"uid": me.pw_uid, "gid": me.pw_gid, "login_user": me.pw_name, "internal_user": me.pw_name}
    mail_owner = pwd.getpwnam("dovecot")
    return {"uid": mail_owner.pw_uid, "gid": mail_owner.pw_gid, "login_user": "dovenull", "internal_user": "dovecot"}


@pytest.fixture
def dovecot():  # type: ignore[no-untyped-def]
    if not os.path.exists(DOVECOT):
        message = "Dovecot is not installed: `make dovecot` installs Debian's dovecot-imapd"
        if os.environ.get("CI") == "true":
            pytest.fail(message)  # with CI=true a missing service is a failure, never a skip
        pytest.skip(message)
    accounts = _accounts()
    # Outside pytest's 0700 tmp tree: the unprivileged login process must reach base_dir.
    home = Path(tempfile.mkdtemp(prefix="complaintdesk-dovecot-"))
    home.chmod(0o755)
    for folder in ("run", "state", "mail"):
        (home / folder).mkdir()
    os.chown(home / "mail", accounts["uid"], accounts["gid"])
    (home / "passwd").write_text(f"intake:{{PLAIN}}{PASSWORD}:{accounts['uid']}:{accounts['gid']}::{home}/mail\n")
    port = free_port()
    internal_group = pwd.getpwuid(accounts["uid"]).pw_name if os.geteuid() != 0 else "dovecot"
    (home / "dovecot.conf").write_text(CONFIG.format(home=home, port=port, internal_group=internal_group, **accounts))
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(home / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (home / "dovecot.log").read_text() if (home / "dovecot.log").exists() else ""
                    output = process.stdout.read().decode() if process.poll() is not None and process.stdout else ""
                    pytest.fail(f"Dovecot did not start:\n{output}\n{log}")
                time.sleep(0.1)
        yield Imap(port, "intake")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def mailbox_settings(settings, dovecot):  # type: ignore[no-untyped-def]
    settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_HOST = "127.0.0.1"
    settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_PORT = dovecot.port
    settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_SECURITY = "none"
    settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_USER = dovecot.user
    settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_PASSWORD = PASSWORD
    settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_FOLDER = "INBOX"
    settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_MOVE_TO = ""
    return settings


def test_one_poll_takes_every_unseen_mail_and_flags_it_seen(
    cast, dovecot, mailbox_settings, smtp_server, django_capture_on_commit_callbacks
):
    complaint_mail = gb2312_mail("网购的空气炸锅第一次使用就冒烟，要求退货退款。")
    dovecot.append(complaint_mail)
    dovecot.append(mail(text="I am out of the office.", Auto_Submitted="auto-replied"))
    dovecot.append(b"From: someone@example.com\r\nSubject: empty\r\n\r\n\r\n")
    dovecot.append(mail(text="这封已读邮件不属于本次处理。"), flags="(\\Seen)")

    with django_capture_on_commit_callbacks(execute=True):
        call_command("mail_intake", "--imap", "--once")

    complaint = Complaint.objects.get()
    assert complaint.channel == "email" and complaint.complainant_email == "zhang.san@example.com"
    assert complaint.description == "网购的空气炸锅第一次使用就冒烟，要求退货退款。"
    statuses = sorted(InboundMail.objects.values_list("status", flat=True))
    assert statuses == ["failed", "handled", "parsed"]
    assert set(InboundMail.objects.values_list("via", flat=True)) == {"imap"}
    parsed = InboundMail.objects.get(status="parsed")
    with store.open(parsed.raw_sha256) as stored:
        assert stored.read() == complaint_mail  # the exact bytes the server holds
    sent = {message["To"]: message for message in smtp_server.messages}
    assert complaint.tracking_no in sent["zhang.san@example.com"]["Subject"]  # the receipt
    assert "someone@example.com" in sent  # told why the empty mail was not registered
    assert len(sent) == 2  # never an answer to the auto-reply
    assert dovecot.uids("UNSEEN") == [] and len(dovecot.uids("SEEN")) == 4

    call_command("mail_intake", "--imap", "--once")  # nothing new: nothing twice
    assert Complaint.objects.count() == 1 and InboundMail.objects.count() == 3


def test_processed_mail_can_be_moved_to_a_folder(cast, dovecot, mailbox_settings):
    client = dovecot.connect()
    client.create("Processed")
    client.logout()
    mailbox_settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_MOVE_TO = "Processed"
    dovecot.append(mail(text="燃气灶点火困难，售后一直没有上门。"))
    call_command("mail_intake", "--imap", "--once")
    assert Complaint.objects.count() == 1
    assert dovecot.uids("ALL") == [] and len(dovecot.uids("ALL", folder="Processed")) == 1


def test_a_mail_that_cannot_be_stored_stays_unseen_for_the_next_poll(cast, dovecot, mailbox_settings, monkeypatch):
    dovecot.append(mail(text="电动车电池充不进电，保修期内要求更换。"))
    real_put = store.put

    def broken_storage(content: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr("intake.inbound_mail.store.put", broken_storage)
    call_command("mail_intake", "--imap", "--once")
    assert InboundMail.objects.count() == 0 and len(dovecot.uids("UNSEEN")) == 1

    monkeypatch.setattr("intake.inbound_mail.store.put", real_put)
    call_command("mail_intake", "--imap", "--once")
    assert Complaint.objects.count() == 1 and dovecot.uids("UNSEEN") == []


def test_wrong_credentials_fail_the_poll_loudly(cast, dovecot, mailbox_settings):
    from imap_tools.errors import MailboxLoginError

    mailbox_settings.COMPLAINTDESK_MAIL_INTAKE_IMAP_PASSWORD = "wrong"
    with pytest.raises(MailboxLoginError):
        call_command("mail_intake", "--imap", "--once")


def test_a_message_over_the_size_limit_is_flagged_and_not_taken(cast, dovecot, mailbox_settings):
    mailbox_settings.COMPLAINTDESK_MAIL_INTAKE_MAX_BYTES = 5_000
    dovecot.append(mail(text="太大的邮件" * 2_000))
    dovecot.append(mail(text="热水器漏水，要求上门维修。"))
    call_command("mail_intake", "--imap", "--once")
    assert Complaint.objects.count() == 1 and InboundMail.objects.count() == 1
    assert dovecot.uids("UNSEEN") == [] and len(dovecot.uids("FLAGGED")) == 1
