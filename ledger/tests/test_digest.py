"""The daily digest: exported to a dated file that is never overwritten, mailed to the configured
recipients through a real SMTP server on loopback, once a day, and checked by verify_ledger --against."""

import json
import socket
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command

from core import scheduler
from ledger import chain, digests
from ledger.models import Checkpoint, DailyDigest

from .helpers import WORKED_EVENTS, seal_now

pytestmark = pytest.mark.django_db

CST = ZoneInfo("Asia/Shanghai")
# A Tuesday just after midnight, when the job first runs that day; cases are made the working day before.
MORNING = datetime(2026, 11, 24, 0, 5, tzinfo=CST)


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def configured(settings, tmp_path, smtp_server):  # type: ignore[no-untyped-def]
    folder = tmp_path / "digests"
    settings.COMPLAINTDESK_LEDGER_DIGEST_DIR = str(folder)
    settings.COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS = ["auditor@example.com", "board@example.org"]
    return folder, smtp_server


def attachment(message) -> dict:  # type: ignore[no-untyped-def]
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "application/json"
    return json.loads(part.get_content())


def case_before(make_case, moment: datetime, **kwargs):  # type: ignore[no-untyped-def]
    """A case made 14 hours before `moment` (the clock frozen there, so that its events are in the past
    of `moment`)."""
    with time_machine.travel(moment - timedelta(hours=14), tick=False):
        return make_case(**kwargs)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_daily_job_does_nothing_without_a_folder_or_recipients(settings, make_case):
    settings.COMPLAINTDESK_LEDGER_DIGEST_DIR = ""
    settings.COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS = []
    make_case(worked=False)
    assert digests.send_daily() == "not configured"
    assert not DailyDigest.objects.exists() and not Checkpoint.objects.exists()


def test_the_daily_job_exports_and_mails_the_digest_once_a_day(configured, make_case):
    folder, inbox = configured
    case_before(make_case, MORNING)
    with time_machine.travel(MORNING, tick=False):
        result = digests.send_daily()
    assert result == f"digest of 2026-11-24: checkpoint 1, {WORKED_EVENTS} events"
    # The job sealed first: the digest names the checkpoint of everything settled by then.
    checkpoint = Checkpoint.objects.get()
    [path] = folder.iterdir()
    assert path.name == "ledger-digest-2026-11-24.json"
    exported = json.loads(path.read_text())
    assert exported == {
        "seq": 1,
        "hash": checkpoint.hash,
        "at": chain._ts(checkpoint.created_at),
        "last_event_id": checkpoint.last_event_id,
        "events": WORKED_EVENTS,
        "side_chains": {"retention_runs": {"seq": 0, "hash": chain.GENESIS}},
        "taken_at": "2026-11-23T16:05:00.000000+00:00",
    }
    [message] = inbox.messages
    assert {a.strip() for a in message["To"].split(",")} == {"auditor@example.com", "board@example.org"}
    assert message["Subject"].strip() == "账本每日摘要 2026-11-24：检查点 1"
    text = message.get_body(("plain",)).get_content()
    assert checkpoint.hash in text and f"账本事件数：{WORKED_EVENTS}" in text
    assert "verify_ledger --against ledger-digest-2026-11-24.json" in text
    assert attachment(message) == exported
    row = DailyDigest.objects.get()
    assert (row.day.isoformat(), row.path, row.mailed_to) == (
        "2026-11-24",
        str(path),
        ["auditor@example.com", "board@example.org"],
    )
    assert row.completed_at is not None and row.lease_until is None

    # Later the same day, after more events: nothing more is sent or written.
    case_before(make_case, MORNING + timedelta(hours=15), worked=False)
    with time_machine.travel(MORNING + timedelta(hours=15), tick=False):
        assert digests.send_daily() == "sent already"
    assert len(inbox.messages) == 1 and len(list(folder.iterdir())) == 1

    # The next day: the next digest, which covers the new case.
    with time_machine.travel(MORNING + timedelta(days=1), tick=False):
        digests.send_daily()
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["ledger-digest-2026-11-24.json", "ledger-digest-2026-11-25.json"]
    assert json.loads(path.read_text()) == exported  # the earlier day's file is untouched
    second = attachment(inbox.messages[1])
    assert (second["seq"], second["events"]) == (2, WORKED_EVENTS + 1)
    assert second["hash"] == Checkpoint.objects.get(seq=2).hash
    assert "Ledger intact" in run("verify_ledger", "--against", str(path))


def test_a_failed_mail_is_tried_again_next_round_with_the_same_digest(configured, make_case, settings):
    folder, inbox = configured
    case_before(make_case, MORNING, worked=False)
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = closed_port()  # the mail server is down
    with time_machine.travel(MORNING, tick=False), pytest.raises(OSError):
        digests.send_daily()
    row = DailyDigest.objects.get()
    assert row.path and row.mailed_at is None and row.completed_at is None
    assert row.lease_until is None  # released: the next round may try
    assert inbox.messages == []

    case_before(make_case, MORNING + timedelta(minutes=1), worked=False)  # more events meanwhile
    settings.EMAIL_PORT = working_port
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        assert digests.send_daily().startswith("digest of 2026-11-24: checkpoint 1, 1 events")
    [message] = inbox.messages
    assert attachment(message)["events"] == 1  # the day's digest, as taken the first time
    assert [p.name for p in folder.iterdir()] == ["ledger-digest-2026-11-24.json"]  # written once
    assert DailyDigest.objects.get().completed_at is not None


def test_a_digest_another_worker_is_sending_is_left_to_it(configured, make_case):
    _folder, inbox = configured
    case_before(make_case, MORNING, worked=False)
    with time_machine.travel(MORNING, tick=False):
        digests._record(MORNING.date(), MORNING)
    DailyDigest.objects.update(lease_until=MORNING + timedelta(minutes=2))
    with time_machine.travel(MORNING + timedelta(minutes=1), tick=False):
        assert digests.send_daily() == "another worker is sending it"
    assert inbox.messages == []
    # That worker died: once its lease has run out, the next round sends it.
    with time_machine.travel(MORNING + timedelta(minutes=3), tick=False):
        assert digests.send_daily().startswith("digest of 2026-11-24")
    assert len(inbox.messages) == 1


def test_the_scheduler_runs_the_daily_digest(configured, make_case):
    _folder, inbox = configured
    case_before(make_case, MORNING, worked=False)
    [job] = [job for name, job in scheduler.jobs() if name == "ledger_daily_digest"]
    with time_machine.travel(MORNING, tick=False):
        assert job().startswith("digest of 2026-11-24")
    assert len(inbox.messages) == 1


def test_ledger_digest_out_writes_a_dated_file_and_never_overwrites_one(make_case, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    earlier = folder / "ledger-digest-2026-11-22.json"
    earlier.write_text('{"seq": 7, "hash": "kept"}\n')
    make_case(worked=False)
    seal_now()
    # 20:00 UTC is already the next day in the organisation's time zone (Asia/Shanghai).
    evening = datetime(2026, 11, 23, 20, 0, tzinfo=ZoneInfo("UTC"))
    with time_machine.travel(evening, tick=False):
        out = run("ledger_digest", "--out", str(folder))
    today = folder / "ledger-digest-2026-11-24.json"
    assert out.strip() == f"Digest of checkpoint 1 written to {today}"
    first = today.read_text()
    assert json.loads(first)["hash"] == Checkpoint.objects.get().hash

    with time_machine.travel(evening + timedelta(minutes=5), tick=False):
        again = run("ledger_digest", "--out", str(folder))
    assert again.strip() == f"Digest of checkpoint 1 already in {today} (left as it is)"

    make_case(worked=False)
    seal_now()
    with time_machine.travel(evening + timedelta(minutes=10), tick=False):
        later = run("ledger_digest", "--out", str(folder))
    second = folder / "ledger-digest-2026-11-24-2.json"
    assert later.strip() == f"Digest of checkpoint 2 written to {second}"
    assert json.loads(second.read_text())["seq"] == 2
    assert today.read_text() == first and earlier.read_text() == '{"seq": 7, "hash": "kept"}\n'


def test_ledger_digest_out_names_a_folder_it_cannot_write(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(CommandError, match="--out: cannot write to"):
        run("ledger_digest", "--out", str(blocker / "digests"))


def test_ledger_digest_mail_sends_it_to_the_configured_recipients(configured, make_case, settings):
    _folder, inbox = configured
    make_case(worked=False)
    out = run("ledger_digest", "--seal", "--mail")
    printed = json.loads(out.splitlines()[0])
    assert out.splitlines()[1] == "Mailed to auditor@example.com, board@example.org"
    [message] = inbox.messages
    assert attachment(message) == printed and printed["seq"] == 1
    settings.COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS = []
    with pytest.raises(CommandError, match="COMPLAINTDESK_LEDGER_DIGEST_RECIPIENTS is not set"):
        run("ledger_digest", "--mail")


def test_verify_ledger_against_reads_the_file_or_the_json_and_keeps_the_digest_spelling(make_case, tmp_path):
    make_case()
    seal_now()
    run("ledger_digest", "--out", str(tmp_path))
    [path] = tmp_path.glob("ledger-digest-*.json")
    digest = json.loads(path.read_text())
    for args in (["--against", str(path)], ["--digest", str(path)], ["--against", json.dumps(digest)]):
        lines = run("verify_ledger", *args).splitlines()
        assert lines == [
            f"Ledger intact: 1 cases, {WORKED_EVENTS} events, 1 checkpoints.",
            f"It extends the digest of checkpoint 1 ({digest['hash'][:12]}…, {WORKED_EVENTS} events).",
        ]
    with pytest.raises(CommandError, match="--against: cannot read"):
        run("verify_ledger", "--against", str(Path(tmp_path) / "missing.json"))
    with pytest.raises(CommandError, match="not a ledger digest"):
        run("verify_ledger", "--against", json.dumps({**digest, "hash": "not hex"}))
    # A digest whose count the ledger no longer reaches.
    with pytest.raises(CommandError):
        run("verify_ledger", "--against", json.dumps({**digest, "events": WORKED_EVENTS + 1}))
