"""Load generator for POST /api/v1/complaints (aiohttp), run as its own process on loopback.

  closed: --concurrency C clients, each sending its next request when the previous answered, for
          --duration seconds: the maximum rate the server sustains.
  open:   requests fired on a fixed schedule at --rate per second for --duration seconds, whatever
          the answers do (no coordinated omission): latency is measured from each request's
          scheduled start, so queueing delay counts.

Prints one JSON object on stdout. Only 201 answers count as complaints; anything else is an error.
"""

import argparse
import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from payloads import complaint

HEADERS = {"Content-Type": "application/json; charset=utf-8", "Accept-Language": "zh-hans"}


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    k = (len(sorted_values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summarise(latencies: list[float]) -> dict[str, float | None]:
    s = sorted(latencies)

    def ms(q: float) -> float | None:
        v = percentile(s, q)
        return None if v is None else round(v * 1000, 2)

    return {
        "p50_ms": ms(0.50),
        "p90_ms": ms(0.90),
        "p99_ms": ms(0.99),
        "max_ms": None if not s else round(s[-1] * 1000, 2),
        "mean_ms": None if not s else round(sum(s) / len(s) * 1000, 2),
    }


class Bodies:
    def __init__(self, start: int, seed: int) -> None:
        self.n = start
        self.rng = random.Random(seed)

    def next(self) -> bytes:
        self.n += 1
        return json.dumps(complaint(self.n, self.rng), ensure_ascii=False).encode()


async def _post(session: aiohttp.ClientSession, url: str, body: bytes, statuses: Counter) -> bool:
    try:
        async with session.post(url, data=body, headers=HEADERS) as resp:
            await resp.read()
            statuses[str(resp.status)] += 1
            return resp.status == 201
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        statuses[type(exc).__name__] += 1
        return False


async def closed_loop(url: str, concurrency: int, duration: float, bodies: Bodies) -> dict:
    statuses: Counter = Counter()
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=True)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        deadline = start + duration

        async def client() -> None:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                if await _post(session, url, bodies.next(), statuses):
                    latencies.append(time.perf_counter() - t)

        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    ok = statuses.get("201", 0)
    return {
        "mode": "closed",
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 3),
        "ok": ok,
        "errors": sum(v for k, v in statuses.items() if k != "201"),
        "statuses": dict(statuses),
        "rate_per_s": round(ok / elapsed, 1),
        **summarise(latencies),
    }


async def open_loop(url: str, rate: float, duration: float, bodies: Bodies, max_connections: int) -> dict:
    statuses: Counter = Counter()
    latencies: list[float] = []  # from the scheduled start: includes any queueing in the client
    service: list[float] = []  # from the moment the request got a connection slot and was sent
    connector = aiohttp.TCPConnector(limit=max_connections, force_close=True)
    timeout = aiohttp.ClientTimeout(total=30)
    total = int(rate * duration)
    payloads = [bodies.next() for _ in range(total)]  # made before the clock starts
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(body: bytes, scheduled: float) -> None:
            sent = time.perf_counter()
            if await _post(session, url, body, statuses):
                done = time.perf_counter()
                latencies.append(done - scheduled)
                service.append(done - sent)

        tasks = []
        start = time.perf_counter() + 0.02
        lag_max = 0.0
        for i, body in enumerate(payloads):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                lag_max = max(lag_max, -delay)
            tasks.append(asyncio.create_task(one(body, scheduled)))
        sent_window = time.perf_counter() - start
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    ok = statuses.get("201", 0)
    return {
        "mode": "open",
        "target_rate": round(rate, 1),
        "scheduled": total,
        "send_window_s": round(sent_window, 3),
        "elapsed_s": round(elapsed, 3),
        "ok": ok,
        "errors": sum(v for k, v in statuses.items() if k != "201"),
        "statuses": dict(statuses),
        # Completed complaints over the schedule's span (the tail that drains after it is included
        # in the count, so a server that keeps up gives the target rate).
        "achieved_rate": round(ok / max(sent_window, duration), 1),
        "scheduler_max_lag_ms": round(lag_max * 1000, 2),
        **summarise(latencies),
        "service_time": summarise(service),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=["closed", "open"], required=True)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--max-connections", type=int, default=512)
    parser.add_argument("--start-index", type=int, default=0, help="numbering of the bodies (distinct per phase)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    bodies = Bodies(args.start_index, args.seed)
    before = resource.getrusage(resource.RUSAGE_SELF)
    if args.mode == "closed":
        result = asyncio.run(closed_loop(args.url, args.concurrency, args.duration, bodies))
    else:
        result = asyncio.run(open_loop(args.url, args.rate, args.duration, bodies, args.max_connections))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["loadgen_cpu_s"] = round(cpu, 2)
    result["loadgen_cpu_share"] = round(cpu / result["elapsed_s"], 2)  # of one core
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
