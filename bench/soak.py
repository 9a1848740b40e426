"""Soak test: the public intake at 80 % of its measured maximum rate for 10 minutes, on PostgreSQL with
the Redis (RQ) task backend and N task workers running, all on loopback.

  1. (Re)creates the database complaintdesk_soak (bench/run.py's set-up) and takes an empty Redis
     database (claimed with SET NX, emptied at the end).
  2. Starts N `complaintdesk worker` processes (RQ workers with the scheduler loop; one holds the
     scheduler lease) and `complaintdesk serve` (bench/run.py's Server).
  3. Measures the maximum rate briefly: closed loop, bench/intake_load.py through run.load, with the
     workers running, then the time the workers need to finish the tasks that phase queued. The
     intake's own maximum is the closed loop's rate; the end-to-end maximum counts the drain too
     (complaints taken in with their tasks run). The soak's basis is the end-to-end maximum: on one
     machine the workers share the CPUs with the server, and a complaint's tasks (search words,
     duplicates, classification, notifications) cost more CPU than its request, so at 80 % of the
     HTTP-only maximum the queue only grows. --basis intake applies the fraction to the HTTP maximum
     (workers on CPUs of their own).
  4. Drives intake in an open loop at --fraction (0.8) of that maximum for --minutes (10). Every 10 s
     it samples the resident memory of the server's processes and of each worker, the queue
     (waiting, running, failed), the complaints written and the lease holder.
  5. When the load stops, samples the queue every second until it is empty: it must drain within a
     minute.
  6. Writes bench/results/soak.json; the exit status is 0 only if every check passed: no failed
     request, no failed task, no error in the logs, flat memory (the last third's mean within 10 %
     of the first third's), the queue drained within 60 s.

Usage: .venv/bin/python bench/soak.py [--minutes 10] [--workers 2] [--server-workers 3] (`make soak`)
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import redis
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, StartedJobRegistry

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (bench/run.py: database set-up, server, load generator, CPU accounting)

DB_NAME = "complaintdesk_soak"
REDIS_SERVER = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379")
CLAIM = "complaintdesk:soak-claim"
LEASE_KEY = "complaintdesk:scheduler-lease"  # core.scheduler.LEASE_KEY (not imported: no Django here)
PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 10.0
DRAIN_LIMIT_S = 60.0
MEMORY_TOLERANCE = 0.10


def log(message: str) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- 1. the database and Redis, through bench/run.py's functions ---------------------------------


def use_soak_database(redis_url: str) -> None:
    """Point bench/run.py at the soak's database and the RQ backend (its functions read these globals),
    so that `make bench` and `make soak` never share a database."""
    run.DB_NAME = DB_NAME
    run.DATABASE_URL = f"{run.PG_SERVER}/{DB_NAME}"
    run.PSYCOPG_DSN = run.DATABASE_URL.replace("postgres://", "postgresql://", 1)
    bench_env = run.app_env

    def soak_env() -> dict[str, str]:
        env = bench_env()
        env.update(TASK_BACKEND="rq", REDIS_URL=redis_url)
        return env

    run.app_env = soak_env


def claim_redis() -> tuple[str, redis.Redis]:
    """An empty Redis database of our own (tests and other runs use the same SET NX claim)."""
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_SERVER}/{number}", decode_responses=True)
        if client.dbsize() == 0 and client.set(CLAIM, token, nx=True, ex=4 * 3600):
            if client.dbsize() == 1:
                return f"{REDIS_SERVER}/{number}", client
            client.delete(CLAIM)
    raise SystemExit(f"no empty Redis database among 1-15 on {REDIS_SERVER}")


# --- 2. the task workers ------------------------------------------------------------------------


class Workers:
    """N `complaintdesk worker` processes, each in its own process group, logging to a file."""

    def __init__(self, count: int, interval: float, client: redis.Redis) -> None:
        self.count, self.interval, self.client = count, interval, client
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def __enter__(self) -> "Workers":
        for k in range(1, self.count + 1):
            path = run.RESULTS / f"soak-worker-{k}.log"
            self.logs.append(path)
            with path.open("w") as out:
                self.procs.append(
                    subprocess.Popen(
                        [run.CD, "worker", "--name", f"soak-{k}", "--interval", str(self.interval), "-v", "0"],
                        cwd=run.ROOT,
                        env=run.app_env(),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        deadline = time.time() + 120
        while len(Worker.all(connection=self.client)) < self.count:
            dead = [p.args for p in self.procs if p.poll() is not None]
            if dead or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"workers did not start ({dead or 'timeout'}); see {self.logs}")
            time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # RQ's warm shutdown: the running task finishes
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # the group of the worker we started
                proc.wait(timeout=10)

    def stats(self) -> dict[str, dict[str, Any]]:
        return {
            w.name: {
                "successful_jobs": w.successful_job_count,
                "failed_jobs": w.failed_job_count,
                "working_s": round(w.total_working_time, 1),
            }
            for w in Worker.all(connection=self.client)
        }


# --- 3. sampling ----------------------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20
    except (OSError, IndexError, ValueError):
        return None


def cpu_seconds(pid: int, with_children: bool = True) -> float:
    """The process's CPU time, with that of its children it has waited for (the forked task runs)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if with_children else 0)
    return ticks / run.TICK


def server_rss(server: run.Server) -> dict[str, float]:
    """The gunicorn master and its worker processes (by parent pid)."""
    assert server.proc is not None
    master = server.proc.pid
    procs = run._procs()
    children = sorted(pid for pid, (ppid, _, _) in procs.items() if ppid == master)
    values = {"master": rss_mb(master), **{f"w{i}": rss_mb(pid) for i, pid in enumerate(children, 1)}}
    return {k: round(v, 1) for k, v in values.items() if v is not None}


def queue_state(client: redis.Redis) -> dict[str, int]:
    queue = Queue("default", connection=client)
    return {
        "waiting": queue.count,
        "running": StartedJobRegistry(queue=queue).count,
        "failed": FailedJobRegistry(queue=queue).count,
    }


def complaints_count() -> int:
    with psycopg.connect(run.PSYCOPG_DSN, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM complaints_complaint").fetchone()[0]


def sample(started: float, server: run.Server, workers: Workers, client: redis.Redis) -> dict[str, Any]:
    server_mb = server_rss(server)
    return {
        "t_s": round(time.time() - started, 1),
        "queue": queue_state(client),
        "complaints": complaints_count(),
        "rss_mb": {
            "server_total": round(sum(server_mb.values()), 1),
            "server": server_mb,
            **{f"worker_{k}": round(rss_mb(p.pid) or 0.0, 1) for k, p in enumerate(workers.procs, 1)},
        },
        "lease_holder": client.get(LEASE_KEY),
        "loadavg": run.loadavg()[0],
    }


def wait_drained(client: redis.Redis, limit: float, trace: list[dict[str, Any]] | None = None) -> float | None:
    """Seconds until nothing waits or runs; None if that did not happen within `limit`."""
    started = time.time()
    while True:
        state = queue_state(client)
        elapsed = time.time() - started
        if trace is not None:
            trace.append({"t_s": round(elapsed, 1), **state})
        if state["waiting"] == 0 and state["running"] == 0:
            return round(elapsed, 1)
        if elapsed > limit:
            return None
        time.sleep(1.0)


def thirds(values: list[float]) -> dict[str, Any]:
    """Mean of the first and of the last third, and their ratio: flat when within the tolerance."""
    n = len(values) // 3
    if n == 0:
        return {"first_third_mb": None, "last_third_mb": None, "ratio": None, "flat": False}
    first, last = sum(values[:n]) / n, sum(values[-n:]) / n
    ratio = last / first if first else None
    return {
        "first_third_mb": round(first, 1),
        "last_third_mb": round(last, 1),
        "ratio": None if ratio is None else round(ratio, 3),
        "flat": ratio is not None and abs(ratio - 1.0) <= MEMORY_TOLERANCE,
        "min_mb": round(min(values), 1),
        "max_mb": round(max(values), 1),
    }


def log_errors(paths: list[Path]) -> dict[str, int]:
    """Tracebacks and ERROR lines in the server's and the workers' logs."""
    found = {}
    for path in paths:
        text = path.read_text(errors="replace") if path.exists() else ""
        found[path.name] = text.count("Traceback") + sum(" ERROR " in line for line in text.splitlines())
    return found


# --- 4. the run -----------------------------------------------------------------------------------


def soak(args: argparse.Namespace, client: redis.Redis, result: dict[str, Any]) -> None:
    with Workers(args.workers, args.scheduler_interval, client) as workers:
        server = run.Server(args.server_workers)
        server.log_path = run.RESULTS / "soak-server.log"
        with server:
            server.probe()
            log(f"warm-up {args.warmup:g} s, then the maximum rate: closed loop c={args.concurrency} "
                f"for {args.measure_seconds:g} s ({args.workers} task workers running)")  # fmt: skip
            run.load(server, "closed", args.warmup, args.concurrency)
            wait_drained(client, 600)  # the warm-up's tasks must not run in the measured phase
            phase_max = run.load(server, "closed", args.measure_seconds, args.concurrency, meter=True)
            backlog = queue_state(client)
            drained_after_max = wait_drained(client, 900)
            if drained_after_max is None:
                raise RuntimeError(f"the tasks of the max-rate phase did not drain in 900 s: {queue_state(client)}")
            intake_max = phase_max["rate_per_s"]
            # Complaints taken in AND their tasks run: the closed loop's complaints over the loop's time
            # plus the time the workers needed to finish the tasks it queued.
            end_to_end_max = round(phase_max["ok"] / (phase_max["elapsed_s"] + drained_after_max), 1)
            log(f"  intake {intake_max} complaints/s (p99 {phase_max['p99_ms']} ms, errors {phase_max['errors']}); "
                f"its {backlog['waiting']} waiting tasks drained in {drained_after_max} s: "
                f"end to end {end_to_end_max} complaints/s")  # fmt: skip
            max_rate = end_to_end_max if args.basis == "end-to-end" else intake_max

            target = round(max_rate * args.fraction, 1)
            duration = args.minutes * 60
            log(f"soak: open loop at {target}/s ({args.fraction:.0%} of the {args.basis} max) for {args.minutes:g} min")
            outcome: dict[str, Any] = {}

            def drive() -> None:
                try:
                    outcome["load"] = run.load(server, "open", duration, args.concurrency, rate=target, meter=True)
                except BaseException as exc:  # reported below; the sampler stops with it
                    outcome["error"] = repr(exc)

            worker_cpu0 = sum(cpu_seconds(p.pid) for p in workers.procs)
            redis_pid = int(client.info("server")["process_id"])
            redis_cpu0 = cpu_seconds(redis_pid, with_children=False)
            loader = threading.Thread(target=drive, name="load")
            started = time.time()
            loader.start()
            samples = []
            while loader.is_alive():
                samples.append(sample(started, server, workers, client))
                last = samples[-1]
                log(f"  t={last['t_s']:>5}s complaints {last['complaints']:>6} queue {last['queue']} "
                    f"server {last['rss_mb']['server_total']} MB "
                    f"workers {[last['rss_mb'][f'worker_{k}'] for k in range(1, args.workers + 1)]} MB "
                    f"load {last['loadavg']}")  # fmt: skip
                loader.join(timeout=max(0.0, SAMPLE_SECONDS - (time.time() - started - last["t_s"])))
            load_s = time.time() - started
            if "error" in outcome:
                raise RuntimeError(f"load generator failed: {outcome['error']}")
            phase = outcome["load"]
            log(f"  load stopped: {phase['ok']} complaints, errors {phase['errors']}, "
                f"p50 {phase['p50_ms']} ms, p99 {phase['p99_ms']} ms")  # fmt: skip
            drain_trace: list[dict[str, Any]] = []
            drained = wait_drained(client, args.drain_wait, drain_trace)
            log(f"  queue drained {'in ' + str(drained) + ' s' if drained is not None else 'NOT within the limit'}")
            samples.append(sample(started, server, workers, client))
            worker_cpu = sum(cpu_seconds(p.pid) for p in workers.procs) - worker_cpu0
            redis_cpu = cpu_seconds(redis_pid, with_children=False) - redis_cpu0
            stats = workers.stats()
            final_queue = queue_state(client)
            total_complaints = complaints_count()
        server_log_errors = log_errors([server.log_path])
    worker_log_errors = log_errors(workers.logs)
    cpu = phase.get("cpu", {})
    cores = cpu.get("cores_by_group", {})
    cores["task_workers"] = round(worker_cpu / load_s, 2)
    cores["redis"] = round(redis_cpu / load_s, 2)
    other = cpu.get("cores_other_work_on_machine", 0.0) - cores["task_workers"] - cores["redis"]
    cpu["cores_other_work_on_machine"] = round(max(other, 0.0), 2)
    if phase["ok"]:
        # The workers' CPU also holds the scheduler's periodic jobs (rollups, similar-cases index).
        per_request = cpu.setdefault("cpu_ms_per_request", {})
        per_request["task_workers"] = round(worker_cpu / phase["ok"] * 1000, 2)
        per_request["redis"] = round(redis_cpu / phase["ok"] * 1000, 2)

    under_load = [s for s in samples if s["t_s"] <= load_s]
    memory = {"server_total": thirds([s["rss_mb"]["server_total"] for s in under_load])}
    for k in range(1, args.workers + 1):
        memory[f"worker_{k}"] = thirds([s["rss_mb"][f"worker_{k}"] for s in under_load])
    jobs_ok = sum(s["successful_jobs"] for s in stats.values())
    jobs_failed = sum(s["failed_jobs"] for s in stats.values()) + final_queue["failed"]
    holders = sorted({s["lease_holder"] for s in samples if s["lease_holder"]})
    checks = {
        "no_failed_requests": phase["errors"] == 0 and phase["ok"] > 0,
        "no_failed_tasks": jobs_failed == 0,
        "no_errors_in_logs": sum(server_log_errors.values()) + sum(worker_log_errors.values()) == 0,
        "memory_flat": all(m["flat"] for m in memory.values()),
        "queue_drained_within_60s": drained is not None and drained <= DRAIN_LIMIT_S,
        # Each complaint's intake queued a task (after_event): at least as many ran as were received.
        "every_complaint_had_its_task": jobs_ok >= total_complaints,
        "one_scheduler_lease_holder": len(holders) == 1,
    }
    result.update(
        {
            "max_rate": {
                "basis": args.basis,
                "rate_per_s": max_rate,
                "intake_rate_per_s": intake_max,
                "end_to_end_rate_per_s": end_to_end_max,
                "p50_ms": phase_max["p50_ms"],
                "p99_ms": phase_max["p99_ms"],
                "errors": phase_max["errors"],
                "tasks_queued": backlog["waiting"],
                "drained_after_s": drained_after_max,
                "cpu": phase_max.get("cpu"),
            },
            "soak": {
                "target_rate": target,
                "achieved_rate": phase["achieved_rate"],
                "duration_s": round(load_s, 1),
                "complaints": phase["ok"],
                "errors": phase["errors"],
                "statuses": phase["statuses"],
                "latency_ms": {k: phase[k] for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "mean_ms")},
                "scheduler_max_lag_ms": phase.get("scheduler_max_lag_ms"),
                "cpu": cpu,
            },
            "tasks": {
                "by_worker": stats,
                "successful": jobs_ok,
                "complaints_in_database": total_complaints,
                "failed": jobs_failed,
                "queue_max_waiting": max(s["queue"]["waiting"] for s in samples),
                "queue_after_load": drain_trace[0] if drain_trace else None,
                "drained_after_load_s": drained,
                "drain_trace": drain_trace,
                "final": final_queue,
            },
            "memory": memory,
            "log_errors": {**server_log_errors, **worker_log_errors},
            "scheduler_lease_holders": holders,
            "samples": samples,
            "checks": checks,
            "passed": all(checks.values()),
        }
    )


def main() -> int:
    signal.signal(signal.SIGTERM, run._interrupted)
    signal.signal(signal.SIGINT, run._interrupted)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak at the target rate")
    parser.add_argument("--fraction", type=float, default=0.8, help="target rate as a share of the measured max")
    parser.add_argument(
        "--basis",
        choices=["end-to-end", "intake"],
        default="end-to-end",
        help="the max the fraction applies to: complaints taken in with their tasks run (default), or "
        "the HTTP intake alone (sensible only when the workers have CPUs of their own)",
    )
    parser.add_argument("--workers", type=int, default=2, help="task worker processes (complaintdesk worker)")
    parser.add_argument("--server-workers", type=int, default=run.DEFAULT_WORKERS, help="gunicorn processes")
    parser.add_argument("--concurrency", type=int, default=16, help="closed-loop clients for the max rate")
    parser.add_argument("--measure-seconds", type=float, default=15.0, help="length of the max-rate phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--scheduler-interval", type=float, default=60.0, help="the workers' scheduler period")
    parser.add_argument("--drain-wait", type=float, default=300.0, help="how long to follow the drain at most")
    parser.add_argument("--out", type=Path, default=run.RESULTS / "soak.json")
    args = parser.parse_args()

    run.RESULTS.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": run.loadavg()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
    }
    redis_url, client = claim_redis()
    result["settings"]["redis"] = redis_url
    use_soak_database(redis_url)
    started = time.time()
    try:
        log(f"database {DB_NAME}: recreate, migrate, load regions, default department; Redis {redis_url}")
        notes = run.setup_database()
        result["machine"]["postgresql"] = notes.pop("postgresql")
        soak(args, client, result)
    finally:
        client.flushdb()  # our claimed database: the claim goes with it
    result["elapsed_s"] = round(time.time() - started, 1)
    result["machine"]["loadavg_at_end"] = run.loadavg()
    other = result["soak"]["cpu"].get("cores_other_work_on_machine")
    result["machine_was_shared"] = bool(other is not None and other > 0.25)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")

    soak_part, tasks, memory = result["soak"], result["tasks"], result["memory"]
    print()
    print(f"soak: {args.server_workers} server processes, {args.workers} task workers, PostgreSQL, RQ")
    print(f"  max rate           intake {result['max_rate']['intake_rate_per_s']}/s, end to end (with the tasks) "
          f"{result['max_rate']['end_to_end_rate_per_s']}/s; the soak's basis: {args.basis}")  # fmt: skip
    print(f"  soak               {soak_part['achieved_rate']}/s of {soak_part['target_rate']}/s for "
          f"{soak_part['duration_s']} s: {soak_part['complaints']} complaints, {soak_part['errors']} errors, "
          f"p50 {soak_part['latency_ms']['p50_ms']} ms, p99 {soak_part['latency_ms']['p99_ms']} ms")  # fmt: skip
    print(f"  tasks              {tasks['successful']} ran, {tasks['failed']} failed, "
          f"queue max {tasks['queue_max_waiting']}, drained {tasks['drained_after_load_s']} s after")  # fmt: skip
    for name, m in memory.items():
        print(f"  memory {name:<12}{m['first_third_mb']} -> {m['last_third_mb']} MB (ratio {m['ratio']})")
    if result["machine_was_shared"]:
        print(f"  NOTE: other work on the machine used {other} cores during the soak")
    print(f"  checks             {result['checks']}")
    print(f"  {'PASSED' if result['passed'] else 'FAILED'}; written to {args.out}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
