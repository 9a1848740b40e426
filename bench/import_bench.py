"""Import benchmark: `complaintdesk import_complaints --format cfpb` into PostgreSQL, with every row's
ledger event, subject key and customer matching, as in production.

  1. (Re)creates the database complaintdesk_importbench, migrates, adds a default department.
  2. Streams two CFPB files to a temporary folder (bench/import_data.py: ../shared/data/cfpb_structured.csv
     repeated, Complaint IDs rewritten so that every row is new and the two files share none):
     a small one (default 250,000 rows) and the main one (default 1,000,000 rows).
  3. Imports the small file, then the main one, each in a child process of its own; measures
     rows/s, the child's CPU and peak RSS (os.wait4), the PostgreSQL backends' CPU, other work on
     the machine, and, during the main run, the child's peak RSS when it had read a quarter of the
     file and at the end (flat memory shows as equal figures).
  4. Writes bench/results/import.json and drops the database (--keep keeps it).

Usage: .venv/bin/python bench/import_bench.py [--rows 1000000] [--small 250000] [--batch-size N] [--keep]
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

from import_data import SOURCE, generate  # noqa: E402

PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "complaintdesk_importbench"
DATABASE_URL = f"{PG_SERVER}/{DB_NAME}"
TICK = os.sysconf("SC_CLK_TCK")
TARGET = 10_000
GOAL = 20_000


def log(message: str) -> None:
    print(f"[import-bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def env() -> dict[str, str]:
    values = dict(os.environ)
    values.update(DATABASE_URL=DATABASE_URL, DJANGO_SETTINGS_MODULE="config.settings", TASK_BACKEND="db")
    values.pop("DEBUG", None)
    return values


def manage(*args: str) -> subprocess.CompletedProcess:
    # manage.py rather than the console script: it works from a checkout whatever was installed.
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env(), capture_output=True, text=True
    )


def setup_database() -> dict:
    with psycopg.connect(f"{PG_SERVER}/postgres".replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
        settings = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]
            for name in ("server_version", "shared_buffers", "synchronous_commit", "max_wal_size", "wal_level")
        }
    for step in (
        ("migrate", "--no-input"),
        (
            "shell",
            "-c",
            "from accounts.models import Department; "
            "Department.objects.update_or_create(code='service', defaults={'name': '客户服务部', 'is_default': True})",
        ),
    ):
        done = manage(*step)
        if done.returncode:
            raise SystemExit(f"{step[0]} failed:\n{done.stdout}\n{done.stderr}")
    return settings


def drop_database() -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres".replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def database_size() -> int:
    with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://", 1)) as conn:
        return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]


# --- CPU and memory of the processes involved ---------------------------------------------------


def _stat(pid: int) -> tuple[str, float] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return comm, (int(fields[11]) + int(fields[12])) / TICK


def _all() -> dict[int, tuple[str, float]]:
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := _stat(int(name))) is not None:
            found[int(name)] = stat
    return found


def _busy() -> float:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


def _status(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _file_position(pid: int, path: Path) -> int:
    """How far the child has read the input file (its descriptor's offset)."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                        return int(f.readline().split()[1])
            except OSError:
                continue
    except OSError:
        pass
    return -1


def run_import(path: Path, batch_size: int | None) -> dict:
    args = [
        sys.executable,
        str(ROOT / "manage.py"),
        "import_complaints",
        str(path),
        "--format",
        "cfpb",
        "--no-progress",
    ]
    if batch_size:
        args += ["--batch-size", str(batch_size)]
    size = path.stat().st_size
    before, busy0, started = _all(), _busy(), time.monotonic()
    child = subprocess.Popen(args, cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen: dict[int, tuple[str, float]] = {}
    quarter: dict[str, int] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen.update(_all())
            if not quarter and _file_position(child.pid, path) >= size // 4:
                quarter.update(rss=_status(child.pid, "VmRSS"), peak_rss=_status(child.pid, "VmHWM"))
            stop.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate()
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    busy = _busy() - busy0
    usage = _children()  # this process (see --child) has no other children
    if child.returncode:
        raise SystemExit(f"import failed ({child.returncode}):\n{out[-2000:]}\n{err[-4000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    postgres = sum(
        cpu - before.get(pid, (comm, 0.0))[1] for pid, (comm, cpu) in seen.items() if comm.startswith("postgres")
    )
    rows = summary["rows"]
    return {
        "rows": rows,
        "created": summary["created"],
        "skipped_existing": summary["skipped_existing"],
        "errors": summary["errors"],
        "seconds": round(wall, 1),
        "rows_per_second": round(rows / wall),
        "importer_reported_rows_per_second": summary["rows_per_second"],
        "peak_rss_mb": round(usage["maxrss_kb"] / 1024, 1),
        "rss_at_quarter_mb": round(quarter.get("rss", 0) / 2**20, 1),
        "peak_rss_at_quarter_mb": round(quarter.get("peak_rss", 0) / 2**20, 1),
        "cpu_s": {
            "importer": round(usage["cpu"], 1),
            "postgres": round(postgres, 1),
            "machine_total": round(busy, 1),
            "other_work_on_machine": round(max(0.0, busy - usage["cpu"] - postgres), 1),
        },
        "cpu_us_per_row": {
            "importer": round(usage["cpu"] / rows * 1e6),
            "postgres": round(postgres / rows * 1e6),
        },
        "file_mb": round(size / 2**20, 1),
    }


def _children() -> dict:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=250_000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--out", default=str(RESULTS / "import.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        # One measured import in a process of its own, so that RUSAGE_CHILDREN's peak is its own.
        result = run_import(Path(args.child), args.batch_size)
        print(json.dumps(result))
        return 0
    if not SOURCE.exists():
        log(f"{SOURCE} is absent: the import benchmark needs the shared CFPB data; skipped")
        return 0
    log(f"database {DB_NAME}: create and migrate")
    settings = setup_database()
    workdir = Path(tempfile.mkdtemp(prefix="import-bench-"))
    try:
        small, large = workdir / "cfpb-small.csv", workdir / "cfpb-large.csv"
        log(f"generating {args.small:,} + {args.rows:,} rows from {SOURCE.name} into {workdir}")
        generate(args.small, small, first_copy=1000)
        generate(args.rows, large, first_copy=0)
        runs = {}
        for name, path in (("small", small), ("large", large)):
            log(f"importing the {name} file ({path.stat().st_size / 2**20:.0f} MB)")
            command = [sys.executable, __file__, "--child", str(path)]
            if args.batch_size:
                command += ["--batch-size", str(args.batch_size)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(done.stdout + done.stderr)
            runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
            r = runs[name]
            log(
                f"  {r['rows']:,} rows in {r['seconds']} s: {r['rows_per_second']:,} rows/s, peak RSS "
                f"{r['peak_rss_mb']} MB (at a quarter {r['peak_rss_at_quarter_mb']} MB); CPU µs/row "
                f"importer {r['cpu_us_per_row']['importer']}, postgres {r['cpu_us_per_row']['postgres']}"
            )
        size = database_size()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.keep:
            drop_database()
    large_run, small_run = runs["large"], runs["small"]
    report = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "loadavg": os.getloadavg()},
        "postgresql": settings,
        "rows": large_run["rows"],
        "rows_per_second": large_run["rows_per_second"],
        "peak_rss_mb": {
            f"{small_run['rows']}_rows": small_run["peak_rss_mb"],
            f"{large_run['rows']}_rows": large_run["peak_rss_mb"],
            "large_run_at_a_quarter": large_run["peak_rss_at_quarter_mb"],
        },
        "database_mb_after": round(size / 2**20),
        "targets": {
            f">={TARGET}_rows_per_s": large_run["rows_per_second"] >= TARGET,
            f">={GOAL}_rows_per_s": large_run["rows_per_second"] >= GOAL,
            "memory_flat": large_run["peak_rss_mb"] <= small_run["peak_rss_mb"] * 1.2 + 20,
        },
        "runs": runs,
        "notes": (
            "CPU µs/row: the importer process (both its threads) and the PostgreSQL backends; with two "
            "cores the ceiling is about 2e6 / (importer + postgres) rows/s, and never above 1e6 / postgres."
        ),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    log(
        f"{report['rows']:,} rows at {report['rows_per_second']:,} rows/s (target {TARGET:,}); peak RSS "
        f"{small_run['peak_rss_mb']} MB at {small_run['rows']:,} rows, {large_run['peak_rss_mb']} MB at "
        f"{large_run['rows']:,} -> {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
