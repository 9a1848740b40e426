"""Fault: PostgreSQL restarted under load. A private PostgreSQL (initdb into a temporary folder, its own
port) gets the schema and reference data of the suite's test database; `complaintdesk serve` runs
against it while a few clients post complaints; PostgreSQL is stopped (`pg_ctl stop -m fast`, which
cuts the transactions in flight) and, once requests have failed against it, started again. Then:

- every request got a 201 or a clean error (a 5xx, or no connection), nothing else;
- every 201 names a complaint that exists, with its own data, its ledger event and its queued task;
- no complaint exists without its ledger event and its task: a failed request left nothing half-written;
- the service recovered by itself, and the ledger verifies.

It runs in the PostgreSQL run of the suite: it copies the migrated test database into the private
instance (migrating a fresh database takes ~25 s). Without initdb it is skipped, and with CI=true
that is a failure."""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from accounts.models import Department
from complaints.models import Complaint
from conftest import complaint_body, ensure_reference_data
from core import backup
from ledger.models import LedgerEvent

# Marked so that the suite sets its test database up; the scenario itself runs outside it.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 4
BEFORE, DOWN_ERRORS, AFTER = 8, 3, 8  # 201s before the stop, errors while down, 201s after the start
DEADLINE = 45.0  # seconds for each phase at most


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def initdb_path() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which("initdb")


class PrivatePostgres:
    """A PostgreSQL server of the test's own: a data folder in a temporary directory, its own port, its
    socket in that directory. As root it runs as the postgres user (PostgreSQL refuses root)."""

    def __init__(self, initdb: str) -> None:
        self.bin = Path(initdb).parent
        self.folder = Path(tempfile.mkdtemp(prefix="complaintdesk-pg-"))
        self.data, self.log = self.folder / "data", self.folder / "server.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.folder, "postgres", "postgres")

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{argv[0]}: {done.stdout}{done.stderr}{self.log_tail()}"

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def initdb(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def settings(self, name: str) -> dict[str, Any]:
        return {"NAME": name, "USER": "postgres", "PASSWORD": "", "HOST": "127.0.0.1", "PORT": self.port, "OPTIONS": {}}

    def query(self, sql: str, name: str = "complaintdesk") -> list[tuple[Any, ...]]:
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=name, autocommit=True) as db:
            cursor = db.execute(sql)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop()
            except AssertionError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Outcome:
    order_no: str
    kind: str  # "201", "5xx", "connection" or "unexpected"
    after_start: bool
    status: int = 0
    content_type: str = ""
    body: str = ""
    tracking_no: str = ""


@dataclass
class Scenario:
    outcomes: list[Outcome] = field(default_factory=list)
    complaints: dict[str, tuple[str, int]] = field(default_factory=dict)  # tracking_no -> (order_no, id)
    events: dict[int, list[tuple[int, str]]] = field(default_factory=dict)  # complaint id -> [(seq, action)]
    tasks: list[list[Any]] = field(default_factory=list)
    verify: str = ""
    logs: str = ""


def post(url: str, body: dict[str, Any]) -> tuple[int, str, str]:
    request = urllib.request.Request(  # noqa: S310 - an http:// URL on loopback
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read().decode(errors="replace")


def copy_schema_into(server: PrivatePostgres, tmp_path: Path) -> None:
    """The suite's migrated test database, with its reference data and a default department, becomes
    the private server's `complaintdesk` database."""
    ensure_reference_data()
    department = Department.objects.create(code="faults", name="客服中心", is_default=True)
    dump = tmp_path / "schema.pgdump"
    try:
        backup.pg_dump(connection.settings_dict, dump)
    finally:
        department.delete()
    server.query("CREATE DATABASE complaintdesk", name="postgres")
    backup.pg_restore(server.settings("complaintdesk"), dump)


def serve(server: PrivatePostgres, tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{server.port}/complaintdesk",
        "COMPLAINTDESK_RATELIMIT": "off",
        "TASK_BACKEND": "db",
        "STATIC_MANIFEST": "off",
        "LOG_LEVEL": "ERROR",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EVIDENCE_ROOT": str(tmp_path / "evidence"),
        "COMPLAINTDESK_SIMILARITY_DIR": str(tmp_path / "similarity"),
    }
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("complaintdesk serve did not come up: " + (tmp_path / "serve.log").read_text(errors="replace"))


def load(url: str, server: PrivatePostgres) -> list[Outcome]:
    """CLIENTS threads post complaints without pause; PostgreSQL is stopped after BEFORE successes and
    started again after DOWN_ERRORS failures; the clients stop after AFTER more successes."""
    outcomes: list[Outcome] = []
    lock, stop, started = threading.Lock(), threading.Event(), threading.Event()

    def client(number: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            order_no = f"PG-{number}-{n}"
            body = complaint_body(complainant_phone=f"1370013{number:04d}", complainant_email="", order_no=order_no)
            after = started.is_set()
            try:
                status, content_type, text = post(url, body)
            except OSError as exc:
                outcome = Outcome(order_no, "connection", after, body=repr(exc))
            else:
                kind = "201" if status == 201 else "5xx" if status >= 500 else "unexpected"
                outcome = Outcome(order_no, kind, after, status, content_type, text[:300])
                if status == 201:
                    outcome.tracking_no = json.loads(text)["tracking_no"]
            with lock:
                outcomes.append(outcome)

    def count(kind: str, after: bool | None = None) -> int:
        with lock:
            return sum(1 for o in outcomes if o.kind == kind and (after is None or o.after_start == after))

    def wait_for(condition: Any, what: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {outcomes[-5:]}"
            time.sleep(0.02)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: count("201") >= BEFORE, f"{BEFORE} complaints filed")
        server.stop()
        errors_before = count("5xx") + count("connection")
        wait_for(lambda: count("5xx") + count("connection") >= errors_before + DOWN_ERRORS, "failed requests")
        server.start()
        started.set()
        wait_for(lambda: count("201", after=True) >= AFTER, "complaints filed after the restart")
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return outcomes


@pytest.fixture(scope="module")
def scenario(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Scenario]:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL run of the suite: it copies the migrated PostgreSQL test database")
    initdb = initdb_path()
    if initdb is None:
        reason = "initdb not found (/usr/lib/postgresql/*/bin/initdb): the PostgreSQL restart test needs it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    tmp_path = tmp_path_factory.mktemp("pg-restart")
    server = PrivatePostgres(initdb)
    result = Scenario()
    app: subprocess.Popen[bytes] | None = None
    try:
        server.initdb()
        server.start()
        with django_db_blocker.unblock():
            copy_schema_into(server, tmp_path)
        port = free_port()
        app = serve(server, tmp_path, port)
        result.outcomes = load(f"http://127.0.0.1:{port}/api/v1/complaints", server)
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=30)
        complaints, events = Complaint._meta.db_table, LedgerEvent._meta.db_table
        from django_tasks_db.models import DBTaskResult

        for tracking_no, order_no, pk in server.query(f"SELECT tracking_no, order_no, id FROM {complaints}"):  # noqa: S608
            result.complaints[tracking_no] = (order_no, pk)
        for complaint_id, seq, action in server.query(f"SELECT complaint_id, seq, action FROM {events}"):  # noqa: S608
            result.events.setdefault(complaint_id, []).append((seq, action))
        tasks = server.query(f"SELECT args_kwargs FROM {DBTaskResult._meta.db_table}")  # noqa: S608
        result.tasks = [row[0]["args"] for row in tasks]
        verify = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "verify_ledger", "--skip-checks"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{server.port}/complaintdesk"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        result.verify = verify.stdout + verify.stderr
        result.logs = (tmp_path / "serve.log").read_text(errors="replace")[-3000:] + server.log_tail()
        yield result
    finally:
        if app is not None and app.poll() is None:
            app.kill()
            app.wait()
        server.remove()


def test_every_client_gets_a_201_or_a_clean_error_and_no_complaint_is_half_written(scenario):
    outcomes = scenario.outcomes
    kinds = {o.kind for o in outcomes}
    assert kinds <= {"201", "5xx", "connection"}, [o for o in outcomes if o.kind == "unexpected"]
    failed = [o for o in outcomes if o.kind != "201"]
    assert len(failed) >= DOWN_ERRORS  # the restart really hit the clients
    assert sum(1 for o in outcomes if o.kind == "201" and o.after_start) >= AFTER  # and the service recovered

    # Every 201 is a complaint with the data that was sent.
    for outcome in (o for o in outcomes if o.kind == "201"):
        assert scenario.complaints[outcome.tracking_no][0] == outcome.order_no
    # Every complaint is whole: its receipt event starts its chain and its task waits in the queue.
    assert all(scenario.events.get(pk) == [(1, "receive")] for _order, pk in scenario.complaints.values())
    assert sorted(scenario.tasks) == sorted([pk, "receive"] for _order, pk in scenario.complaints.values())
    # No request made two complaints; one that failed made none or a whole one (committed as the
    # connection dropped: the client may retry with an Idempotency-Key).
    orders = [order for order, _pk in scenario.complaints.values()]
    assert len(orders) == len(set(orders))
    filed = {o.order_no for o in outcomes if o.kind == "201"}
    assert set(orders) - filed <= {o.order_no for o in failed}
    assert "Ledger intact" in scenario.verify, scenario.verify + scenario.logs
    committed = len(set(orders) - filed)
    shapes = sorted({(o.kind, o.status, o.content_type.split(";")[0]) for o in failed})
    print(
        f"PostgreSQL restart: {len(outcomes)} requests, {len(filed)} 201, {len(failed)} errors {shapes}, "
        f"{committed} failed requests whose complaint was committed whole"
    )


def test_every_error_answer_during_the_restart_is_json(scenario):
    errors = [o for o in scenario.outcomes if o.kind == "5xx"]
    assert errors
    assert all(o.content_type.startswith("application/json") for o in errors), {
        (o.status, o.content_type, o.body[:80]) for o in errors
    }
