"""Where the time of one public intake goes, on PostgreSQL (the bench database), in one process.

  .venv/bin/python bench/profile_intake.py [--requests 300] [--setup] [--cprofile]

Drives POST /api/v1/complaints through Django's full handler (middleware, ninja, the view) with the
test client, serially, after a warm-up. It wraps the steps of the request path with timers (wall
time, inclusive; this script only, the application is untouched), counts SQL statements and
commits per request, and with --cprofile prints the top functions by own time.

--setup (re)creates the bench database first (as bench/run.py does); otherwise it must exist.
Writes bench/results/profile.json.
"""

import argparse
import cProfile
import functools
import io
import json
import os
import pstats
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

import run as bench_run  # noqa: E402
from payloads import complaint  # noqa: E402

TIMES: dict[str, list[float]] = defaultdict(list)
_current: dict[str, float] = {}


def timed(owner: object, attr: str, label: str) -> None:
    """Replace owner.attr by a wrapper that adds its wall time to TIMES[label] (outermost call only)."""
    original = getattr(owner, attr)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        if label in _current:
            return original(*args, **kwargs)
        start, cpu = time.perf_counter(), time.process_time()
        _current[label] = start
        try:
            return original(*args, **kwargs)
        finally:
            del _current[label]
            _acc[label] = _acc.get(label, 0.0) + time.perf_counter() - start
            _cpu[label] = _cpu.get(label, 0.0) + time.process_time() - cpu
            _calls[label] = _calls.get(label, 0) + 1

    setattr(owner, attr, wrapper)


_acc: dict[str, float] = {}
_cpu: dict[str, float] = {}
CPU: dict[str, list[float]] = defaultdict(list)
_calls: dict[str, int] = {}
CALLS: dict[str, int] = defaultdict(int)


def instrument() -> None:
    import django_tasks_db.backend
    import jieba
    from django.db.backends.base import base as db_base
    from django.db.models import Model

    import complaints.actions as actions
    import complaints.intake as intake_module
    import complaints.ledgering as ledgering
    import complaints.routing as routing
    import complaints.search as search
    import complaints.sla as sla
    import customers.actions as customer_actions
    import intake.api as intake_api
    import ledger.chain as chain
    import ledger.crypto as crypto
    from complaints.intake import IntakeData

    timed(intake_api, "check_intake", "check_intake (category, regions)")
    timed(intake_module, "check_region", "  check_region (regions cached per process)")
    timed(actions, "submit", "submit (whole action)")
    timed(actions, "next_tracking_no", "  tracking number (own commit)")
    timed(actions, "new_access_code", "  access code")
    timed(actions, "hash_access_code", "  access code hash")
    timed(actions, "match_or_create_customer", "  customer match/create")
    timed(customer_actions, "new_subject_key", "    subject key insert")
    timed(routing, "default_department", "  default department")
    timed(sla, "set_ack_clock", "  SLA ack clock (policy query)")
    timed(search, "index_text", "  search text")
    timed(search, "_segment", "    jieba segmentation")
    timed(IntakeData, "model_fields_for_complaint", "  model_dump for complaint")
    timed(actions, "record", "  ledger record")
    timed(ledgering, "snapshot", "    snapshot")
    timed(ledgering, "encrypt", "    encrypt personal fields")
    timed(chain, "append", "    chain.append")
    timed(chain, "event_hash", "      event hash (canonical JSON + SHA-256)")
    timed(actions, "_after_commit", "  on_commit registration")
    timed(django_tasks_db.backend.DatabaseBackend, "enqueue", "task enqueue (in the case transaction)")
    timed(db_base.BaseDatabaseWrapper, "commit", "transaction commit")
    timed(Model, "save", "Model.save (complaint, ledger event, ...)")
    _ = jieba, crypto


class SqlCounter:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.queries = 0
        self.autocommit_writes = 0
        self.seconds = 0.0
        self.log: list[str] = []

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        from django.db import connection

        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.queries += 1
            head = sql.lstrip().split(None, 1)[0].upper()
            if head in {"INSERT", "UPDATE", "DELETE"} and not connection.in_atomic_block:
                self.autocommit_writes += 1
            self.log.append(("  [tx] " if connection.in_atomic_block else "  [ac] ") + " ".join(sql.split())[:150])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--setup", action="store_true", help="recreate the bench database first")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()

    if args.setup:
        bench_run.setup_database()
    env = bench_run.app_env()
    for name in ("DATABASE_URL", "COMPLAINTDESK_RATELIMIT", "TASK_BACKEND", "DJANGO_SETTINGS_MODULE", "LOG_LEVEL"):
        os.environ[name] = env[name]
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from complaints.search import warm_up

    warm_up()
    client = Client()
    rng = random.Random(int(time.time()))
    base = rng.randrange(10**9)

    def post(n: int):  # type: ignore[no-untyped-def]
        body = json.dumps(complaint(base + n, rng), ensure_ascii=False)
        return client.post("/api/v1/complaints", body, content_type="application/json")

    for i in range(30):  # warm-up: caches, connection, prepared code paths
        response = post(i)
        assert response.status_code == 201, response.content[:500]

    # parsing + validation of the body alone (pydantic, phonenumbers), outside the request
    from complaints.intake import IntakeData

    bodies = [json.dumps(complaint(base + 10**6 + i, rng), ensure_ascii=False) for i in range(500)]
    start = time.perf_counter()
    for b in bodies:
        IntakeData.model_validate_json(b)
    validate_ms = (time.perf_counter() - start) / len(bodies) * 1000

    import customers.normalise as normalise

    start = time.perf_counter()
    for i in range(500):
        normalise.normalise_phone("138" + f"{i:08d}")
    phone_ms = (time.perf_counter() - start) / 500 * 1000

    import jieba

    texts = [complaint(base + 2 * 10**6 + i, rng)["description"] for i in range(100)]
    start = time.perf_counter()
    for t in texts:
        jieba.lcut(t)
    jieba_ms = (time.perf_counter() - start) / len(texts) * 1000

    instrument()
    counter = SqlCounter()
    per_request: list[float] = []
    cpu_per_request: list[float] = []
    sql_counts: list[int] = []
    ac_writes: list[int] = []
    sql_seconds: list[float] = []
    # CPU time, not wall: the waits on PostgreSQL (and preemption on a shared machine) would swamp it
    profiler = cProfile.Profile(time.process_time) if args.cprofile else None
    example_log: list[str] = []
    with connection.execute_wrapper(counter):
        for i in range(args.requests):
            counter.reset()
            _acc.clear()
            _cpu.clear()
            _calls.clear()
            t0, c0 = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            response = post(1000 + i)
            if profiler:
                profiler.disable()
            per_request.append(time.perf_counter() - t0)
            cpu_per_request.append(time.process_time() - c0)
            assert response.status_code == 201, response.content[:500]
            for label, seconds in _acc.items():
                TIMES[label].append(seconds)
                CPU[label].append(_cpu[label])
            sql_counts.append(counter.queries)
            ac_writes.append(counter.autocommit_writes)
            sql_seconds.append(counter.seconds)
            for label, count in _calls.items():
                CALLS[label] += count
            if i == 0:
                example_log = list(counter.log)

    n = args.requests

    def mean_ms(values: list[float]) -> float:
        return round(sum(values) / n * 1000, 3)

    steps = {label: [mean_ms(values), mean_ms(CPU[label])] for label, values in TIMES.items()}
    report = {
        "requests": n,
        "per_request_ms_wall_cpu": {
            "total (test client, whole Django stack)": [mean_ms(per_request), mean_ms(cpu_per_request)],
            "in SQL execute (wall: round trips + server work)": [mean_ms(sql_seconds), None],
            **steps,
        },
        "calls_per_request": {label: round(count / n, 2) for label, count in CALLS.items()},
        "sql_statements_per_request": round(sum(sql_counts) / n, 2),
        "autocommit_writes_per_request": round(sum(ac_writes) / n, 2),
        "standalone_ms": {
            "IntakeData.model_validate_json (pydantic + phonenumbers + e-mail)": round(validate_ms, 3),
            "  normalise_phone alone": round(phone_ms, 3),
            "jieba.lcut of one description": round(jieba_ms, 3),
        },
        "sql_of_one_request": example_log,
    }
    print(f"{n} intakes, serial, through the Django test client on PostgreSQL ({bench_run.DB_NAME})\n")
    print(f"{'step (inclusive; indented = part of the line above)':66} {'wall ms':>9} {'CPU ms':>9}")
    for label, (wall, cpu) in report["per_request_ms_wall_cpu"].items():
        print(f"{label:66} {wall:9.3f} {'' if cpu is None else f'{cpu:9.3f}':>9}")
    print(f"\nSQL statements per request: {report['sql_statements_per_request']}; writes outside a transaction "
          f"(each its own commit): {report['autocommit_writes_per_request']}")  # fmt: skip
    print("calls per request:", report["calls_per_request"])
    for label, value in report["standalone_ms"].items():
        print(f"{label:66} {value:10.3f}")
    print("\nSQL of one request ([tx] inside the atomic block, [ac] autocommit):")
    for line in example_log:
        print(line)
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
        stats.print_stats(args.top)
        text = out.getvalue()
        print(text)
        report["cprofile_top_tottime"] = text
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top + 20)
        report["cprofile_top_cumulative"] = out.getvalue()
    bench_run.RESULTS.mkdir(parents=True, exist_ok=True)
    (bench_run.RESULTS / "profile.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
