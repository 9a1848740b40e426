"""Fitting, measuring, storing and loading classifiers (no database writes here: see actions.py)."""

from __future__ import annotations

import hashlib
import hmac
import io
import time
from typing import Any

from django.utils.translation import gettext as _

from .datasets import DataError, Labelled
from .features import DEFAULT, Config, build_pipeline, has_content

FORMAT_VERSION = 1
HOLDOUT = 0.2
SEED = 0


class ModelError(Exception):
    """A stored model cannot be used (missing blob, changed bytes, unknown format)."""


def fit(data: Labelled, config: Config = DEFAULT, *, n_jobs: int = 1) -> tuple[Any, dict[str, Any]]:
    """Measure on a stratified held-out fifth, then fit the model that ships on all rows.
    Returns (pipeline, metrics); the metrics say how they were measured."""
    from sklearn.model_selection import train_test_split

    started = time.perf_counter()
    train_x, test_x, train_y, test_y = train_test_split(
        data.texts, data.labels, test_size=HOLDOUT, stratify=data.labels, random_state=SEED
    )
    held_out = build_pipeline(config, n_jobs=n_jobs).fit(train_x, train_y)
    metrics = evaluate(held_out, Labelled(test_x, test_y, data.source))
    metrics["measured_on"] = f"stratified hold-out {HOLDOUT:.0%} (seed {SEED}), model refit on all rows"
    pipeline = build_pipeline(config, n_jobs=n_jobs).fit(data.texts, data.labels)
    metrics["training_seconds"] = round(time.perf_counter() - started, 2)
    return pipeline, metrics


def predict(pipeline: Any, texts: list[str]) -> list[tuple[str, float]]:
    """(label, calibrated probability) per text. A text without letters gets no prediction ("", 0.0):
    a model must not guess a category for a row of emoji."""
    import numpy

    usable = [i for i, text in enumerate(texts) if has_content(text)]
    result: list[tuple[str, float]] = [("", 0.0)] * len(texts)
    if not usable:
        return result
    proba = pipeline.predict_proba([texts[i] for i in usable])
    classes = pipeline.classes_
    best = numpy.argmax(proba, axis=1)
    for row, i in enumerate(usable):
        result[i] = (str(classes[best[row]]), float(proba[row, best[row]]))
    return result


def evaluate(pipeline: Any, data: Labelled) -> dict[str, Any]:
    """accuracy, macro_f1, weighted_f1, per_class, confusion_matrix, docs_per_second. Labels the
    model has never seen count as errors and are listed under `unknown_labels`."""
    started = time.perf_counter()
    predicted = [label for label, _confidence in predict(pipeline, data.texts)]
    seconds = max(time.perf_counter() - started, 1e-9)
    known = {str(c) for c in pipeline.classes_}
    unknown: dict[str, int] = {}
    for label in data.labels:
        if label not in known:
            unknown[label] = unknown.get(label, 0) + 1
    result = scores(data.labels, predicted)
    result["docs_per_second"] = round(len(data.texts) / seconds, 1)
    result["rows"] = len(data.texts)
    result["unknown_labels"] = unknown
    return result


def scores(truth: list[str], predicted: list[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = sorted(set(truth) | {p for p in predicted if p})
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)), 4
        ),
        "weighted_f1": round(float(f1_score(truth, predicted, average="weighted", zero_division=0)), 4),
        "per_class": {
            label: {
                "precision": round(float(precision[i]), 4),
                "recall": round(float(recall[i]), 4),
                "f1": round(float(f1[i]), 4),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": labels,
            "matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        },
    }


def cross_validate(data: Labelled, config: Config = DEFAULT, *, folds: int = 5, n_jobs: int = 1) -> dict[str, Any]:
    """Stratified k-fold (shuffled, seed 0) on the whole data: the mean and spread of each score."""
    import statistics

    from sklearn.model_selection import StratifiedKFold

    smallest = min(data.classes().values())
    if smallest < folds:
        raise DataError(
            _("交叉验证需要每个类别至少 %(folds)d 条样本（最少的类别只有 %(n)d 条）。")
            % {"folds": folds, "n": smallest}
        )
    runs = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for train, test in splitter.split(data.texts, data.labels):
        model = build_pipeline(config, n_jobs=n_jobs).fit(
            [data.texts[i] for i in train], [data.labels[i] for i in train]
        )
        runs.append(
            evaluate(model, Labelled([data.texts[i] for i in test], [data.labels[i] for i in test], data.source))
        )
    result = {"folds": folds, "split": f"stratified {folds}-fold, shuffled, seed {SEED}, whole data"}
    for key in ("accuracy", "macro_f1", "weighted_f1", "docs_per_second"):
        values = [run[key] for run in runs]
        result[key] = round(statistics.mean(values), 4)
        result[key + "_std"] = round(statistics.pstdev(values), 4)
    result["per_fold"] = [{k: run[k] for k in ("accuracy", "macro_f1", "weighted_f1")} for run in runs]
    return result


def dumps(pipeline: Any, **meta: Any) -> bytes:
    import joblib

    buffer = io.BytesIO()
    joblib.dump({"format": FORMAT_VERSION, "pipeline": pipeline, **meta}, buffer, compress=3)
    return buffer.getvalue()


def signature(content: bytes, secret: str | None = None) -> str:
    """HMAC-SHA256 of a model blob, keyed by SECRET_KEY. The SHA-256 names the blob in a store that
    also holds uploaded evidence; the HMAC proves that this process's own training wrote it, so that
    whoever can change a database row cannot point a model at a pickle of their own."""
    from django.conf import settings

    key = f"complaintdesk.intelligence.model:{settings.SECRET_KEY if secret is None else secret}"
    return hmac.new(key.encode(), content, hashlib.sha256).hexdigest()


def signed(content: bytes, mac: str) -> bool:
    """Whether `mac` is the blob's HMAC under SECRET_KEY or one of SECRET_KEY_FALLBACKS (rotation)."""
    from django.conf import settings

    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return bool(mac) and any(hmac.compare_digest(signature(content, s), mac) for s in secrets)


def loads(content: bytes, sha256: str, mac: str) -> Any:
    """The pipeline from stored bytes, after checking that they still hash to their recorded name and
    carry our HMAC (pickle runs code: never load bytes that are not what we stored)."""
    import joblib

    if hashlib.sha256(content).hexdigest() != sha256:
        raise ModelError(_("模型文件的 SHA-256 与记录不符，拒绝加载。"))
    if not signed(content, mac):
        raise ModelError(_("模型文件的签名（HMAC）不符，拒绝加载；请重新训练。"))
    payload = joblib.load(io.BytesIO(content))
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        raise ModelError(_("模型文件格式不受支持，请重新训练。"))
    return payload["pipeline"]
