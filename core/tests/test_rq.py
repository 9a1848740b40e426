"""The Redis (RQ) task backend against the real Redis on 127.0.0.1:6379, with real worker processes.

Each test takes a Redis database of its own (parallel test runs share the server) and empties it
afterwards. Without Redis the tests are skipped, with CI=true they fail."""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tasks import task

from complaints import actions
from complaints.ledgering import Actor
from complaints.models import Complaint
from core import scheduler
from core.models import WorkerHeartbeat

REDIS_SERVER = os.environ.get("COMPLAINTDESK_TEST_REDIS", "redis://127.0.0.1:6379")
ROOT = Path(__file__).resolve().parents[2]
CLAIM = "complaintdesk:test-claim"
RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


def _claim_database() -> tuple[str, Any]:
    """An empty Redis database, claimed with SET NX so that another test run does not take it too."""
    import redis

    try:
        redis.Redis.from_url(f"{REDIS_SERVER}/0", socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        message = f"Redis is not reachable at {REDIS_SERVER} ({exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + ": with CI=true the RQ tests need it")
        pytest.skip(message)
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{number}", decode_responses=True)
        if client.dbsize() == 0 and client.set(CLAIM, token, nx=True, ex=900):
            if client.dbsize() == 1:
                return f"{REDIS_SERVER}/{number}", client
            client.delete(CLAIM)  # someone else's keys arrived meanwhile
    pytest.fail("no empty Redis database among 1-15 to run the RQ tests in")


@pytest.fixture
def redis_url() -> Iterator[str]:
    url, client = _claim_database()
    try:
        yield url
    finally:
        client.flushdb()


@pytest.fixture
def rq(settings, redis_url):  # type: ignore[no-untyped-def]
    """This process enqueues to RQ on the test's Redis database."""
    import redis

    settings.TASKS = RQ_TASKS
    settings.RQ_QUEUES = {"default": {"URL": redis_url, "DEFAULT_TIMEOUT": 60}}
    return redis.Redis.from_url(redis_url, decode_responses=True)


def _database_url() -> str:
    """The test database, for the worker processes (the rows the test committed are there)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker_env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        TASK_BACKEND="rq",
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        COMPLAINTDESK_SIMILARITY_DIR=str(tmp_path / "similarity"),
        COMPLAINTDESK_APPLY_TEXT_SIGNALS="false",  # as conftest: the text's signals are not applied
        EMAIL_HOST=str(django_settings.EMAIL_HOST),
        EMAIL_PORT=str(django_settings.EMAIL_PORT),
        EMAIL_USE_TLS="false",
        LOG_LEVEL="WARNING",
    )
    return env


def _start_worker(redis_url: str, tmp_path: Path, name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--burst", "--name", name, "-v", "0"],
        cwd=ROOT,
        env=_worker_env(redis_url, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(worker: subprocess.Popen) -> str:
    try:
        output, _ = worker.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
    assert worker.returncode == 0, output
    return output


def _queued(client: Any) -> list[str]:
    from rq import Queue

    return list(Queue("default", connection=client).job_ids)


@pytest.mark.django_db(transaction=True)
def test_an_intake_and_its_acceptance_run_their_tasks_on_an_rq_worker_process(
    cast, body, smtp_server, rq, redis_url, tmp_path
):
    from django_tasks import default_task_backend
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    response = Client().post("/api/v1/complaints", body(), content_type="application/json")
    assert response.status_code == 201, response.content
    tracking_no = response.json()["tracking_no"]
    complaint = Complaint.objects.get(tracking_no=tracking_no)
    # The intake's after-commit task waits in Redis (nothing has run it: no jieba words yet).
    assert len(_queued(rq)) == 1 and "电热水壶" not in complaint.search_text.split()
    actions.accept(complaint, actor=Actor.staff(cast.supervisor))
    enqueued = _queued(rq)
    assert len(enqueued) == 2
    assert [default_task_backend.get_result(job_id).status for job_id in enqueued] == ["READY", "READY"]

    output = _finish(_start_worker(redis_url, tmp_path, "solo"))

    assert _queued(rq) == []
    for job_id in enqueued:
        result = default_task_backend.get_result(job_id)
        assert (result.status, result.worker_ids) == ("SUCCESSFUL", ["solo"]), (output, result.errors)
        assert result.task.name == "after_event"
    # What the tasks did: jieba's words in the search text (receive), and the acknowledgement mail
    # (accept -> notifications queued a delivery -> its own task, run by the same worker).
    assert "电热水壶" in Complaint.objects.get(pk=complaint.pk).search_text.split()
    assert [m["Subject"] for m in smtp_server.messages] == [f"投诉已受理：{tracking_no}"]
    from rq import Queue

    queue = Queue("default", connection=rq)
    assert FinishedJobRegistry(queue=queue).count == 3 and FailedJobRegistry(queue=queue).count == 0


@task()
def meet(n: int) -> str:
    """A task of this test: notes which worker ran it, and (the first task of each worker) waits until
    both workers have one, so that both take part whatever their start-up times."""
    import redis
    from rq import get_current_job

    client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    worker = get_current_job().worker_name
    client.rpush("test:ran", f"{n}:{worker}")
    client.sadd("test:workers", worker)
    deadline = time.monotonic() + 30
    while client.scard("test:workers") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    return worker


@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_share_the_queue_and_run_each_task_once(rq, redis_url, tmp_path):
    from django_tasks import default_task_backend

    ids = [meet.enqueue(n).id for n in range(8)]
    assert len(_queued(rq)) == 8
    workers = [_start_worker(redis_url, tmp_path, name) for name in ("w1", "w2")]
    for worker in workers:
        _finish(worker)

    ran = [entry.split(":") for entry in rq.lrange("test:ran", 0, -1)]
    assert sorted(int(n) for n, _ in ran) == list(range(8))  # every task once: none lost, none twice
    assert {worker for _, worker in ran} == {"w1", "w2"}
    for job_id, (_n, worker) in zip(ids, sorted(ran, key=lambda pair: int(pair[0])), strict=True):
        result = default_task_backend.get_result(job_id)
        assert (result.status, result.worker_ids, result.return_value) == ("SUCCESSFUL", [worker], worker)
    assert _queued(rq) == []


def test_a_worker_without_redis_stops_with_a_clear_error(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the probe is closed
    settings.TASKS = RQ_TASKS
    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{port}/0"}}
    with pytest.raises(CommandError, match="Redis"):
        call_command("worker", "--burst")


def _probe_jobs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The loop runs one job of the test's instead of the real ones; the list names who ran it."""
    ran: list[str] = []
    monkeypatch.setattr(scheduler, "jobs", lambda: [("probe", lambda: ran.append(threading.current_thread().name))])
    return ran


def test_only_the_lease_holder_runs_the_periodic_jobs_and_another_takes_over(db, rq, monkeypatch):
    ran = _probe_jobs(monkeypatch)
    first = scheduler.Lease(rq, "first", 60)
    second = scheduler.Lease(rq, "second", 60)
    assert scheduler.tick("a", first) == {"probe": None}
    assert scheduler.tick("b", second) is None  # the other worker only beats
    assert scheduler.tick("a", first) == {"probe": None}  # the holder renews and runs again
    assert len(ran) == 2 and rq.get(scheduler.LEASE_KEY) == "first" and 0 < rq.ttl(scheduler.LEASE_KEY) <= 60
    assert set(WorkerHeartbeat.objects.values_list("name", flat=True)) == {"a", "b"}

    first.release()  # a clean stop hands over at the next round
    assert rq.get(scheduler.LEASE_KEY) is None
    assert scheduler.tick("b", second) == {"probe": None}
    assert scheduler.tick("a", first) is None

    rq.delete(scheduler.LEASE_KEY)  # the holder crashed and its lease lapsed
    assert scheduler.tick("a", first) == {"probe": None}
    assert scheduler.tick("b", second) is None and second.held is False
    second.release()  # releasing a lease held by another leaves it alone
    assert rq.get(scheduler.LEASE_KEY) == "first" and len(ran) == 4


def test_without_redis_no_worker_runs_the_periodic_jobs(db, monkeypatch):
    import redis

    ran = _probe_jobs(monkeypatch)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    unreachable = redis.Redis(port=port, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    lease = scheduler.Lease(unreachable, "cut-off", 60)
    assert scheduler.tick("cut-off", lease) is None and ran == []
    assert WorkerHeartbeat.objects.filter(name="cut-off").exists()  # it still says it is alive


def test_the_lease_is_used_with_the_rq_backend_only(db, settings, rq):
    settings.COMPLAINTDESK_SCHEDULER_LEASE_SECONDS = 180
    lease = scheduler.lease_for("host:1", 120)
    assert lease is not None and lease.ms == 360_000  # never shorter than three rounds
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert scheduler.lease_for("host:1", 60) is None


@pytest.mark.django_db(transaction=True)
def test_of_two_scheduler_loops_one_runs_the_jobs_and_releases_the_lease_on_stop(rq, monkeypatch):
    ran = _probe_jobs(monkeypatch)
    stop = threading.Event()
    loops = [threading.Thread(target=scheduler.loop, args=(stop, 3600), name=f"loop-{i}") for i in (1, 2)]
    for loop in loops:
        loop.start()
    deadline = time.monotonic() + 30
    while WorkerHeartbeat.objects.count() < 2 and time.monotonic() < deadline:  # both loops' first round
        time.sleep(0.02)
    holder = rq.get(scheduler.LEASE_KEY)
    stop.set()
    for loop in loops:
        loop.join(timeout=30)
    assert WorkerHeartbeat.objects.count() == 2
    assert len(ran) == 1 and holder is not None and holder.endswith(str(os.getpid()))
    assert rq.get(scheduler.LEASE_KEY) is None  # released on the way out
    assert ran[0].startswith("loop-")


@pytest.mark.django_db(transaction=True)
def test_a_task_refused_by_a_redis_that_is_down_waits_in_the_outbox_and_is_sent_when_redis_is_back(
    cast, body, settings, redis_url
):
    """Issue 9 (faults): Redis down at commit → the intake still answers 201, its task waits as a
    PendingTask row; the scheduler's requeue_pending_tasks hands it to Redis once Redis answers."""
    import redis
    from django.utils import timezone

    from core.models import PendingTask
    from core.outbox import GRACE, requeue_pending_tasks

    settings.TASKS = RQ_TASKS
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": 60}}  # nothing listens
    response = Client().post("/api/v1/complaints", body(), content_type="application/json")
    assert response.status_code == 201, response.content
    pending = list(PendingTask.objects.all())
    assert [row.task_path for row in pending] == ["complaints.tasks.after_event"]
    assert pending[0].attempts == 1 and pending[0].last_error
    later = timezone.now() + GRACE * 2
    # Still down: the job keeps the row and says so.
    assert requeue_pending_tasks(later) == {"sent": 0, "failed": 1, "waiting": 1}

    settings.RQ_QUEUES = {"default": {"URL": redis_url, "DEFAULT_TIMEOUT": 60}}
    assert requeue_pending_tasks(timezone.now()) == {"sent": 0, "failed": 0, "waiting": 1}  # within the grace
    assert requeue_pending_tasks(later) == {"sent": 1, "failed": 0, "waiting": 0}
    assert len(_queued(redis.Redis.from_url(redis_url, decode_responses=True))) == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_redis_accepts_leaves_no_outbox_row(cast, body, rq):
    from core.models import PendingTask

    response = Client().post("/api/v1/complaints", body(), content_type="application/json")
    assert response.status_code == 201, response.content
    assert len(_queued(rq)) == 1
    assert not PendingTask.objects.exists()
