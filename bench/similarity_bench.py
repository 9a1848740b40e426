"""Similar-cases benchmark: the index of intelligence.similar at 1,000,000 complaints.
Target: a query (projection of the text + the HNSW graph walk) under 50 ms.

    .venv/bin/python bench/similarity_bench.py [--cases 1000000] [--queries 1000]

The complaints are the real texts of ../shared/data (CFPB narratives, COCC telecom complaints,
shopping, waimai and hotel reviews), each varied (another text's sentence appended, numbers changed)
so that a million rows are a million different texts. The projection is fitted on a 60,000 sample
as in production; the vectors go into the same FAISS HNSW index the product builds. Recall@5 is
measured against an exact search (a matrix product over all vectors) for 200 queries.
Writes bench/results/similarity.json.
"""

import argparse
import csv
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from intelligence import similar  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SOURCES = {
    "cfpb_narratives.csv": "narrative",
    "cocc_telecom_complaints.csv": "text",
    "online_shopping_reviews.csv": "review",
    "waimai_reviews.csv": "review",
    "hotel_reviews.csv": "review",
}


def real_texts() -> list[str]:
    texts: list[str] = []
    for name, column in SOURCES.items():
        path = DATA / name
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as f:
            reader = csv.DictReader(f)
            field = column if column in (reader.fieldnames or []) else (reader.fieldnames or [""])[-1]
            texts.extend(row[field][:1500] for row in reader if row.get(field))
    if not texts:
        sys.exit(f"no data under {DATA}")
    return texts


def varied(texts: list[str], count: int, rng: random.Random) -> list[str]:
    sentence = re.compile(r"[^。！？.!?]+[。！？.!?]?")
    pieces = [p for t in rng.sample(texts, min(len(texts), 20_000)) for p in sentence.findall(t)[:2] if len(p) > 6]
    out = []
    for i in range(count):
        base = texts[i % len(texts)]
        if i >= len(texts):
            base = re.sub(r"\d+", lambda m: str(rng.randint(1, 999)), base) + rng.choice(pieces)
        out.append(base)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(0)
    texts = varied(real_texts(), args.cases, rng)
    result: dict = {"cases": args.cases, "machine": platform.platform(), "cpus": os.cpu_count()}

    started = time.perf_counter()
    projection = similar.Projection(rng.sample(texts, min(similar.FIT_SAMPLE, len(texts))))
    result["fit_seconds"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    index = similar.new_index()
    vectors = np.empty((len(texts), similar.DIM), dtype=np.float32)
    for start in range(0, len(texts), similar.BATCH):
        chunk = projection.vectors(texts[start : start + similar.BATCH])
        vectors[start : start + len(chunk)] = chunk
        index.add_with_ids(chunk, np.arange(start, start + len(chunk), dtype=np.int64))
    result["index_seconds"] = round(time.perf_counter() - started, 1)
    result["index_rows_per_second"] = round(len(texts) / result["index_seconds"])

    queries = [texts[rng.randrange(len(texts))][:400] for _ in range(args.queries)]
    latencies = []
    for text in queries:
        t = time.perf_counter()
        query = projection.vectors([text])
        similar.search(index, query, similar.CANDIDATES)
        latencies.append((time.perf_counter() - t) * 1000)
    latencies.sort()
    result["query_ms"] = {
        "p50": round(statistics.median(latencies), 2),
        "p95": round(latencies[int(0.95 * len(latencies)) - 1], 2),
        "p99": round(latencies[int(0.99 * len(latencies)) - 1], 2),
        "max": round(latencies[-1], 2),
    }

    hits = total = 0
    for text in queries[:200]:
        query = projection.vectors([text])
        _scores, ids = similar.search(index, query, 5)
        exact = np.argpartition(-(vectors @ query[0]), 5)[:5]
        hits += len(set(ids[0].tolist()) & set(exact.tolist()))
        total += 5
    result["recall_at_5"] = round(hits / total, 3)
    result["target_ms"] = 50
    result["met"] = result["query_ms"]["p99"] < 50
    out = BENCH / "results" / "similarity.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
