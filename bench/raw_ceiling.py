"""The raw PostgreSQL ceiling for intake: N client processes (psycopg), each looping

    BEGIN; INSERT INTO complaints_complaint (...) RETURNING id; INSERT INTO ledger_ledgerevent (...); COMMIT;

with rows shaped like the ones the application writes (every NOT NULL column, a unique tracking
number, the search text of the description, a ledger event whose changes hold every recorded field
with personal values as encrypted-sized blobs, a SHA-256 hash). No Django, no HTTP: what the
database alone sustains for the same rows.

--rows full adds what the application also writes for each intake (the tracking-number counter
upsert, a subject key, a customer, the task row enqueued after commit), for comparison.

Prints one JSON object on stdout.
"""

import argparse
import base64
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg.types.json import Jsonb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from payloads import complaint

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

COMPLAINT_SQL = """
INSERT INTO complaints_complaint (
  tracking_no, access_code_hash, channel, received_at, language, is_demo, version, status,
  anonymous, complainant_name, complainant_phone, complainant_email, complainant_address,
  preferred_contact, product_name, product_sku, product_model, product_batch, order_no,
  staff_involved, title, description, country, province_code, city_code, district_code, us_state,
  postal_code, remedies_requested, amount_claimed, severity, priority, nature, complainant_type,
  risk_flags, risk_legal_media_safety, escalation_level, reject_reason, appealed, appeal_reason,
  ack_due_at, ack_warn_at, proposal_text, refusal_reason, outcome, outcome_note, open_routes,
  external_route, external_reference, withdrawn_reason, reply_text, reopen_count, search_text,
  category_id, customer_id, department_id, subject_key_id, sla_paused_seconds,
  complainant_phone_hash, complainant_email_hash
) VALUES (
  %(tracking_no)s, %(access_code_hash)s, 'web', %(received_at)s, 'zh-hans', false, 1, 'new',
  false, %(name)s, %(phone_sealed)s, %(email_sealed)s, '',
  'phone', '', '', '', '', '',
  '', '', %(description)s, 'CN', '440000', '440300', '440305', '',
  '', %(remedies)s, 199.00, 'general', 'P3', '', '',
  %(empty_list)s, false, 1, '', false, '',
  %(ack_due_at)s, %(ack_warn_at)s, '', '', '', '', %(empty_list)s,
  '', '', '', '', 0, %(search_text)s,
  %(category_id)s, %(customer_id)s, %(department_id)s, %(subject_key_id)s, 0,
  %(phone_hash)s, %(email_hash)s
) RETURNING id
"""

LEDGER_SQL = """
INSERT INTO ledger_ledgerevent
  (complaint_id, seq, action, actor, actor_label, changes, data, created_at, prev_hash, hash)
VALUES (%s, 1, 'receive', 'consumer', 'consumer', %s, %s, %s, %s, %s)
"""

# --rows full: the other statements of one application intake
TRACKING_SQL = (
    "INSERT INTO complaints_trackingsequence (day, last) VALUES (%s, 1) "
    "ON CONFLICT (day) DO UPDATE SET last = complaints_trackingsequence.last + 1 RETURNING last"
)
SUBJECT_KEY_SQL = "INSERT INTO ledger_subjectkey (id, key, created_at) VALUES (%s, %s, %s)"
CUSTOMER_SQL = (
    "INSERT INTO customers_customer (name, phone, email, customer_no, address, created_at, subject_key_id, "
    "phone_hash, email_hash) VALUES (%s, %s, %s, '', '', %s, %s, %s, %s) RETURNING id"
)
CUSTOMER_MATCH_SQL = "SELECT id FROM customers_customer WHERE phone_hash = %s OR email_hash = %s ORDER BY id LIMIT 1"
TASK_SQL = """
INSERT INTO django_tasks_database_dbtaskresult (id, status, args_kwargs, priority, task_path, queue_name,
  backend_name, run_after, enqueued_at, exception_class_path, traceback, worker_ids)
VALUES (%s, 'READY', %s, 0, 'complaints.tasks.after_event', 'default', 'default', %s, %s, '', '', '[]')
"""

GENESIS = "0" * 64
PERSONAL = ("complainant_name", "complainant_phone", "complainant_email", "description")


def _enc(value: str, key_id: str) -> dict[str, str]:
    # AES-GCM output size: 12-byte nonce + plaintext + 16-byte tag
    return {"enc": base64.b64encode(os.urandom(28 + len(value.encode()))).decode(), "k": key_id}


# Phone and e-mail are stored encrypted with keyed hashes beside them (core.fieldcrypt): the same
# work here, AES-256-GCM and HMAC-SHA256, under keys of this run (no Django to read the real ones).
_DATA_KEY, _LOOKUP_KEY = os.urandom(32), os.urandom(32)


def contact(row: dict) -> dict[str, str]:
    """The stored forms of the row's phone and e-mail: ciphertext and look-up hashes."""
    cipher = AESGCM(_DATA_KEY)
    found = {}
    for kind in ("phone", "email"):
        nonce = os.urandom(12)
        sealed = cipher.encrypt(nonce, row[kind].encode(), b"complaintdesk.personal-data.v1")
        found[f"{kind}_sealed"] = "enc1:00000000:" + base64.b64encode(nonce + sealed).decode()
        digest = hmac.new(_LOOKUP_KEY, f"{kind}:{row[kind]}".encode(), hashlib.sha256).hexdigest()
        found[f"{kind}_hash"] = digest[:32] if row[kind] else ""
    return found


def _search_text(text: str) -> str:
    seen: dict[str, None] = {}
    for run in _CJK.findall(text):
        for i in range(max(len(run) - 1, 1)):
            seen.setdefault(run[i : i + 2])
    return " ".join(seen)


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _changes(row: dict, key_id: str) -> dict:
    """The ledger's {field: [None, after]} for a new case, about as many fields as the app records."""
    after = {
        "tracking_no": row["tracking_no"],
        "channel": "web",
        "received_at": _ts(row["received_at"]),
        "language": "zh-hans",
        "is_demo": False,
        "status": "new",
        "customer_id": row["customer_id"],
        "subject_key_id": key_id,
        "anonymous": False,
        "complainant_name": _enc(row["name"], key_id),
        "complainant_phone": _enc(row["phone"], key_id),
        "complainant_email": _enc(row["email"], key_id),
        "description": _enc(row["description"], key_id),
        "country": "CN",
        "province_code": "440000",
        "city_code": "440300",
        "district_code": "440305",
        "remedies_requested": ["refund"],
        "amount_claimed": "199.00",
        "category_id": row["category_id"],
        "department_id": row["department_id"],
        "severity": "general",
        "priority": "P3",
        "ack_due_at": _ts(row["ack_due_at"]),
        "ack_warn_at": _ts(row["ack_warn_at"]),
        "escalation_level": 1,
        "appealed": False,
        "reopen_count": 0,
        "sla_paused_seconds": 0,
        "open_routes": [],
        "risk_flags": [],
        "preferred_contact": "phone",
    }
    for name in (
        "complainant_address", "product_name", "product_sku", "product_model", "product_batch", "order_no",
        "staff_involved", "title", "us_state", "postal_code", "nature", "complainant_type", "reject_reason",
        "appeal_reason", "proposal_text", "refusal_reason", "outcome", "outcome_note", "external_route",
        "external_reference", "withdrawn_reason", "reply_text",
    ):  # fmt: skip
        after[name] = ""
    for name in (
        "purchase_date", "amount_paid", "occurred_at", "sentiment", "owner_id", "org_unit_id", "subcategory_id",
        "acknowledged_at", "accepted_at", "regulator_due_at", "resolution_due_at", "resolution_warn_at",
        "sla_paused_at", "resolution_clock_start",
        "ack_warned_at", "ack_breached_at", "resolution_warned_at", "resolution_breached_at",
        "proposal_amount", "proposed_at", "resolved_at", "external_due_at", "closed_at", "archived_at",
    ):  # fmt: skip
        after[name] = None
    return {name: [None, value] for name, value in after.items()}


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _client(
    proc: int, dsn: str, ids: dict, rows: str, start_at: float, duration: float, out: "mp.Queue", release: object
) -> None:
    rng = random.Random(1000 + proc)
    conn = psycopg.connect(dsn)
    cpu_start = cpu_end = None
    done = errors = 0
    latencies: list[float] = []
    n = 0
    warmup_until = start_at
    deadline = start_at + duration
    while True:
        now = time.time()
        if now >= deadline:
            break
        measuring = now >= warmup_until
        if measuring and cpu_start is None:
            cpu_start = time.process_time()
        n += 1
        body = complaint(proc * 10_000_000 + n, rng)
        received = datetime.now(UTC)
        t0 = time.perf_counter()
        try:
            row = {
                "access_code_hash": "sha256$" + os.urandom(8).hex() + "$" + hashlib.sha256(os.urandom(12)).hexdigest(),
                "received_at": received,
                "name": body["complainant_name"],
                "phone": "+86" + body["complainant_phone"],
                "email": body["complainant_email"],
                "description": body["description"],
                "remedies": Jsonb(["refund"]),
                "empty_list": Jsonb([]),
                "ack_due_at": received + timedelta(hours=24),
                "ack_warn_at": received + timedelta(hours=19.2),
                "category_id": ids["category_id"],
                "department_id": ids["department_id"],
                "customer_id": None,
                "subject_key_id": ids["subject_key_id"],
            }
            if rows == "full":
                with conn.cursor() as cur:  # the tracking counter: its own short transaction, as in the app
                    cur.execute(TRACKING_SQL, [received.date()])
                    seq = cur.fetchone()[0]
                conn.commit()
                row["tracking_no"] = f"TS{received:%Y%m%d}-{seq:06d}"
            else:
                row["tracking_no"] = f"TR{received:%Y%m%d}-{ids['run_tag']}{proc:02d}{n:07d}"
            row["search_text"] = _search_text(body["description"]) + " " + row["tracking_no"].lower()
            row.update(contact(row))
            with conn.cursor() as cur:
                if rows == "full":
                    cur.execute(CUSTOMER_MATCH_SQL, [row["phone_hash"], row["email_hash"]])
                    cur.fetchone()
                    key_id = uuid.uuid4()
                    cur.execute(SUBJECT_KEY_SQL, [key_id, os.urandom(32), received])
                    cur.execute(
                        CUSTOMER_SQL,
                        [
                            row["name"],
                            row["phone_sealed"],
                            row["email_sealed"],
                            received,
                            key_id,
                            row["phone_hash"],
                            row["email_hash"],
                        ],
                    )
                    row["customer_id"] = cur.fetchone()[0]
                    row["subject_key_id"] = key_id
                cur.execute(COMPLAINT_SQL, row)
                complaint_id = cur.fetchone()[0]
                created = datetime.now(UTC)
                changes = _changes(row, str(row["subject_key_id"]))
                payload = {
                    "v": 1, "case": complaint_id, "seq": 1, "action": "receive", "actor": "consumer",
                    "actor_label": "consumer", "changes": changes, "data": {}, "at": _ts(created), "prev": GENESIS,
                }  # fmt: skip
                digest = hashlib.sha256(_canonical(payload)).hexdigest()
                cur.execute(LEDGER_SQL, [complaint_id, Jsonb(changes), Jsonb({}), created, GENESIS, digest])
            conn.commit()
            if rows == "full":
                with conn.cursor() as cur:  # enqueued on commit, autocommit insert in the app
                    args = {"args": [complaint_id, "receive"], "kwargs": {}}
                    cur.execute(TASK_SQL, [uuid.uuid4(), Jsonb(args), created, created])
                conn.commit()
            if measuring:
                done += 1
                latencies.append(time.perf_counter() - t0)
        except psycopg.Error:
            conn.rollback()
            if measuring:
                errors += 1
    cpu_end = time.process_time()
    out.put({"done": done, "errors": errors, "latencies": latencies, "cpu_s": cpu_end - (cpu_start or cpu_end)})
    release.wait(60)  # keep the backend alive until the caller has read its CPU time
    conn.close()


def _ids(dsn: str) -> dict:
    """The category and default department the app would set, and one subject key reused by every row."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        category_id = conn.execute(
            "SELECT id FROM complaints_category WHERE code = 'product_quality' AND parent_id IS NULL"
        ).fetchone()[0]
        row = conn.execute("SELECT id FROM accounts_department WHERE is_default ORDER BY id LIMIT 1").fetchone()
        key_id = uuid.uuid4()
        conn.execute(
            "INSERT INTO ledger_subjectkey (id, key, created_at) VALUES (%s, %s, now())", [key_id, os.urandom(32)]
        )
    return {
        "category_id": category_id,
        "department_id": row[0] if row else None,
        "subject_key_id": key_id,
        "run_tag": os.urandom(2).hex()[:3],  # tracking numbers unique across runs on one day
    }


def run(
    dsn: str,
    clients: int,
    duration: float,
    rows: str = "core",
    warmup: float = 1.0,
    on_start: Callable[[], None] | None = None,
    on_end: Callable[[], None] | None = None,
) -> dict:
    """on_start runs when the measured window opens, on_end when it has closed and before the client
    processes and their database backends exit (CPU accounting of the phase)."""
    ids = _ids(dsn)
    ctx = mp.get_context("fork")
    out: mp.Queue = ctx.Queue()
    release = ctx.Event()
    start_at = time.time() + warmup + 0.5  # connections and prepared statements settle before this
    procs = [
        ctx.Process(target=_client, args=(i, dsn, ids, rows, start_at, duration, out, release), daemon=True)
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    if on_start:
        time.sleep(max(start_at - time.time(), 0))
        on_start()
    try:
        results = [out.get(timeout=duration + warmup + 60) for _ in procs]
        if on_end:
            on_end()
    finally:
        release.set()
    for p in procs:
        p.join(timeout=10)
    done = sum(r["done"] for r in results)
    client_cpu = sum(r["cpu_s"] for r in results)
    lat = sorted(x for r in results for x in r["latencies"])

    def ms(q: float) -> float | None:
        return round(lat[int((len(lat) - 1) * q)] * 1000, 2) if lat else None

    return {
        "rows": rows,
        "clients": clients,
        "duration_s": duration,
        "transactions": done,
        "errors": sum(r["errors"] for r in results),
        "rate_per_s": round(done / duration, 1),
        "p50_ms": ms(0.5),
        "p99_ms": ms(0.99),
        "client_cpu_cores": round(client_cpu / duration, 2),
        "client_cpu_ms_per_tx": round(client_cpu / done * 1000, 3) if done else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/complaintdesk_bench")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--rows", choices=["core", "full"], default="core")
    args = parser.parse_args()
    json.dump(run(args.dsn, args.clients, args.duration, args.rows), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
