"""Similar cases: for an open case, the most similar resolved cases (with their remedies and outcomes)
and likely duplicates, from an approximate-neighbour index.

Text → TF-IDF of character 2–3-grams (Chinese needs no word splitting, English keeps its word pieces)
→ a 128-dimensional LSA projection (TruncatedSVD) → unit vectors in a FAISS HNSW graph searched by
inner product (= cosine). A query costs one projection and one graph walk, milliseconds at a million
cases (`bench/similarity_bench.py`). Nothing is downloaded: the projection is fitted on our own cases.

The index lives in COMPLAINTDESK_SIMILARITY_DIR as three files written atomically: projection.pkl
(with its HMAC keyed by SECRET_KEY in state.json, checked before unpickling), index.faiss, state.json. The scheduler's
job `update_similarity_index` builds it when there are enough cases, adds new cases every minute, and
refits when the collection has doubled since the projection was fitted. Cases received since the last
update are compared exactly (there are few), so a query never misses a new case."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pickle  # our own file; its HMAC (keyed with SECRET_KEY) is checked before loading
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone

log = logging.getLogger("complaintdesk.intelligence")

DIM = 128
HNSW_M = 32
EF_CONSTRUCTION = 80
EF_SEARCH = 128
FIT_SAMPLE = 60_000  # cases the projection is fitted on (a random sample beyond that)
MIN_CASES = 20  # below this there is nothing worth indexing
BATCH = 20_000
CANDIDATES = 200  # neighbours fetched before filtering by state and visibility
EXACT_TAIL = 1_000  # at most this many unindexed cases compared exactly at query time
RESOLVED_STATES = ("resolved", "closed", "archived")


def directory() -> Path:
    return Path(getattr(settings, "COMPLAINTDESK_SIMILARITY_DIR", "") or Path(settings.MEDIA_ROOT) / "similarity")


TEXT_CHARS = 1000  # the start of a long narrative says what it is about; the rest costs time


def case_text(title: str, description: str) -> str:
    return (f"{title}\n{description}" if title else description)[:TEXT_CHARS]


class Projection:
    """TF-IDF + TruncatedSVD, fitted once, then text → unit float32 vectors."""

    def __init__(self, texts: list[str], seed: int = 0) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.tfidf = TfidfVectorizer(
            analyzer="char",
            ngram_range=(2, 3),
            min_df=2,
            max_features=300_000,
            sublinear_tf=True,
            dtype=np.float32,
        )
        matrix = self.tfidf.fit_transform(texts)
        components = min(DIM, max(2, matrix.shape[1] - 1), max(2, len(texts) - 1))
        self.svd = TruncatedSVD(n_components=components, random_state=seed, algorithm="randomized", n_iter=4)
        self.svd.fit(matrix)
        # TruncatedSVD.transform multiplies by components_.T, a Fortran-ordered view that scipy copies
        # on every call (tens of megabytes): keep the C-ordered transpose once.
        self.basis = np.ascontiguousarray(self.svd.components_.T, dtype=np.float32)
        self.dim = DIM

    def vectors(self, texts: list[str]) -> np.ndarray:
        reduced = np.asarray(self.tfidf.transform([t[:TEXT_CHARS] for t in texts]) @ self.basis, dtype=np.float32)
        if reduced.shape[1] < DIM:  # a tiny collection: pad, so every index has the same width
            reduced = np.hstack([reduced, np.zeros((reduced.shape[0], DIM - reduced.shape[1]), np.float32)])
        norms = np.linalg.norm(reduced, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return np.ascontiguousarray(reduced / norms, dtype=np.float32)


def new_index() -> Any:
    import faiss

    graph = faiss.IndexHNSWFlat(DIM, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = EF_CONSTRUCTION
    graph.hnsw.efSearch = EF_SEARCH
    return faiss.IndexIDMap2(graph)


def search(index: Any, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    import faiss

    params = faiss.SearchParametersHNSW(efSearch=max(EF_SEARCH, k))
    try:
        return index.search(vectors, k, params=params)
    except TypeError:  # an IDMap wrapper that does not pass parameters through
        return index.search(vectors, k)


# --- the stored index --------------------------------------------------------------------------------


@dataclass
class Loaded:
    projection: Projection
    index: Any
    state: dict[str, Any]
    stamp: float


_loaded: Loaded | None = None
_lock = threading.Lock()


def _mac(blob: bytes) -> str:
    return hmac.new(f"similarity:{settings.SECRET_KEY}".encode(), blob, hashlib.sha256).hexdigest()


def _atomic_write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    os.replace(tmp, path)


def _save(projection: Projection | None, index: Any, state: dict[str, Any]) -> None:
    import faiss

    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    if projection is not None:
        blob = pickle.dumps(projection, protocol=pickle.HIGHEST_PROTOCOL)
        state["projection_hmac"] = _mac(blob)
        _atomic_write(folder / "projection.pkl", blob)
    _atomic_write(folder / "index.faiss", faiss.serialize_index(index).tobytes())
    # state.json last: a reader that sees the new state finds the files it names.
    _atomic_write(folder / "state.json", json.dumps(state, sort_keys=True).encode())


def load() -> Loaded | None:
    """The index as stored, cached per process and reloaded when state.json changes."""
    import faiss

    global _loaded
    state_path = directory() / "state.json"
    try:
        stamp = state_path.stat().st_mtime
    except FileNotFoundError:
        return None
    with _lock:
        if _loaded is not None and _loaded.stamp == stamp:
            return _loaded
        state = json.loads(state_path.read_text())
        blob = (directory() / "projection.pkl").read_bytes()
        if not hmac.compare_digest(_mac(blob), str(state.get("projection_hmac", ""))):
            # Whoever can write the folder can rewrite state.json too; not the key in the settings.
            log.error("similarity projection fails its HMAC: not loaded (rebuild with build_similarity_index)")
            return None
        projection = pickle.loads(blob)  # noqa: S301 (checked above)
        raw = np.frombuffer((directory() / "index.faiss").read_bytes(), dtype=np.uint8)
        index = faiss.deserialize_index(raw)
        _loaded = Loaded(projection, index, state, stamp)
        return _loaded


def _texts(queryset: Any) -> tuple[list[int], list[str]]:
    ids, texts = [], []
    for pk, title, description in queryset.values_list("pk", "title", "description").iterator(chunk_size=2000):
        ids.append(pk)
        texts.append(case_text(title, description))
    return ids, texts


def build(*, seed: int = 0) -> dict[str, Any]:
    """Fit the projection on (a sample of) the cases and index them all."""
    import random

    from complaints.models import Complaint

    cases = Complaint.objects.exclude(status="merged")
    total = cases.count()
    if total < MIN_CASES:
        return {"indexed": 0, "reason": f"fewer than {MIN_CASES} cases"}
    ids = list(cases.values_list("pk", flat=True))
    sample = sorted(random.Random(seed).sample(ids, min(FIT_SAMPLE, len(ids))))
    _ids, sample_texts = _texts(Complaint.objects.filter(pk__in=sample))
    projection = Projection(sample_texts, seed=seed)
    index = new_index()
    last = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        chunk_ids, texts = _texts(Complaint.objects.filter(pk__in=chunk).order_by("pk"))
        index.add_with_ids(projection.vectors(texts), np.asarray(chunk_ids, dtype=np.int64))
        last = max(last, max(chunk_ids))
    state = {"fitted_on": len(sample), "count": index.ntotal, "last_id": last, "built_at": timezone.now().isoformat()}
    _save(projection, index, state)
    return {"indexed": index.ntotal, "fitted_on": len(sample)}


def update() -> dict[str, Any]:
    """The scheduler's job: build when missing (and there are enough cases), refit when the
    collection doubled since fitting, otherwise add the cases received since the last run."""
    from complaints.models import Complaint

    loaded = load()
    if loaded is None:
        return build()
    state = dict(loaded.state)
    if state["count"] >= 2 * max(state["fitted_on"], MIN_CASES) and state["fitted_on"] < FIT_SAMPLE:
        return build()
    fresh = Complaint.objects.filter(pk__gt=state["last_id"]).exclude(status="merged").order_by("pk")
    added = 0
    for start in range(0, 10**9, BATCH):
        ids, texts = _texts(fresh[start : start + BATCH])
        if not ids:
            break
        loaded.index.add_with_ids(loaded.projection.vectors(texts), np.asarray(ids, dtype=np.int64))
        state["last_id"] = max(state["last_id"], max(ids))
        added += len(ids)
    if added:
        state["count"] = loaded.index.ntotal
        _save(None, loaded.index, state)
    return {"added": added, "count": state["count"]}


# --- queries -------------------------------------------------------------------------------------------


def neighbours(text: str, k: int = CANDIDATES, exclude: int | None = None) -> list[tuple[int, float]]:
    """(complaint id, cosine) of the nearest cases, best first: the graph for indexed cases, an exact
    comparison for the few received since the last update."""
    from complaints.models import Complaint

    loaded = load()
    if loaded is None:
        return []
    query = loaded.projection.vectors([text])
    if not query.any():
        return []  # nothing of the text is in the vocabulary: no basis for a comparison
    scores, ids = search(loaded.index, query, k)
    found = {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}
    tail = Complaint.objects.filter(pk__gt=loaded.state["last_id"]).exclude(status="merged").order_by("-pk")
    tail_ids, tail_texts = _texts(tail[:EXACT_TAIL])
    if tail_ids:
        exact = loaded.projection.vectors(tail_texts) @ query[0]
        found.update({pk: float(s) for pk, s in zip(tail_ids, exact, strict=True)})
    found.pop(exclude, None)
    return sorted(found.items(), key=lambda item: -item[1])[:k]


def similar_for(complaint: Any, user: Any, *, limit: int = 5) -> dict[str, Any]:
    """The case's most similar resolved cases (visible to the user) with remedies and outcomes, and
    open cases similar enough to be likely duplicates."""
    from complaints.models import Complaint

    threshold = float(getattr(settings, "COMPLAINTDESK_SIMILAR_DUPLICATE_SCORE", 0.9))
    ranked = neighbours(case_text(complaint.title, complaint.description), exclude=complaint.pk)
    if not ranked:
        return {"indexed": load() is not None, "resolved": [], "duplicates": []}
    score = dict(ranked)
    cases = {
        c.pk: c
        for c in Complaint.objects.visible_to(user)
        .filter(pk__in=list(score))
        .exclude(status="merged")
        .select_related("category")
        .prefetch_related("remedies")
    }
    resolved, duplicates = [], []
    for pk, similarity in ranked:
        case = cases.get(pk)
        if case is None:
            continue
        row = {
            "tracking_no": case.tracking_no,
            "score": round(similarity, 3),
            "status": case.status,
            "status_display": case.get_status_display(),
            "category": case.category.name if case.category_id else "",
            "outcome": case.outcome,
            "outcome_display": case.get_outcome_display() if case.outcome else "",
            "received_at": case.received_at,
            "remedies": [
                {
                    "kind": r.kind,
                    "kind_display": r.get_kind_display(),
                    "amount": None if r.amount is None else format(r.amount, "f"),
                    "currency": r.currency,
                    "status": r.status,
                }
                for r in case.remedies.all()
            ],
        }
        if case.status in RESOLVED_STATES and len(resolved) < limit:
            resolved.append(row)
        elif case.status not in RESOLVED_STATES and similarity >= threshold and len(duplicates) < limit:
            duplicates.append(row)
    return {"indexed": True, "resolved": resolved, "duplicates": duplicates}
