"""The NB-SVM classifier (features.NBSVC): its scaling, its folded weights, and that a stored model with
it loads again by name."""

import hashlib
from dataclasses import replace

import numpy
import pytest
from scipy import sparse

from intelligence import engine, features

from .helpers import made_up, real_slice


def ratio(present: numpy.ndarray, inside: numpy.ndarray, alpha: float = 1.0) -> numpy.ndarray:
    p = alpha + present[inside].sum(axis=0)
    q = alpha + present[~inside].sum(axis=0)
    return numpy.log(p / p.sum()) - numpy.log(q / q.sum())


def test_binary_nbsvc_is_a_linear_svc_on_features_scaled_by_the_log_count_ratio():
    from sklearn.svm import LinearSVC

    rng = numpy.random.default_rng(0)
    dense = rng.random((60, 12)) * (rng.random((60, 12)) < 0.4)
    labels = numpy.array(["neg", "pos"] * 30)
    dense[labels == "pos", 0] += 1.0  # feature 0 marks the positive class
    model = features.NBSVC(C=0.5, class_weight="balanced").fit(sparse.csr_matrix(dense), labels)

    r = ratio(dense > 0, labels == "pos")
    assert r[0] > 0 and r[0] == pytest.approx(max(r))
    svc = LinearSVC(C=0.5, class_weight="balanced").fit(dense * r, labels == "pos")
    numpy.testing.assert_allclose(
        model.decision_function(sparse.csr_matrix(dense)), svc.decision_function(dense * r), rtol=1e-3, atol=1e-3
    )
    assert model.decision_function(sparse.csr_matrix(dense)).shape == (60,)
    assert list(model.predict(sparse.csr_matrix(dense))) == ["pos" if s else "neg" for s in svc.predict(dense * r)]


def test_multiclass_nbsvc_fits_one_scaled_model_per_class():
    rng = numpy.random.default_rng(1)
    labels = numpy.array(["a", "b", "c"] * 30)
    dense = rng.random((90, 9)) * (rng.random((90, 9)) < 0.3)
    for k, label in enumerate("abc"):
        dense[labels == label, k] += 1.0
    model = features.NBSVC().fit(sparse.csr_matrix(dense), labels)
    assert model.coef_.shape == (3, 9)
    assert model.decision_function(sparse.csr_matrix(dense)).shape == (90, 3)
    assert (model.predict(sparse.csr_matrix(dense)) == labels).mean() > 0.95


def test_nbsvc_refuses_a_single_class():
    with pytest.raises(ValueError):
        features.NBSVC().fit(sparse.csr_matrix(numpy.ones((5, 3))), ["a"] * 5)


def test_pipeline_with_nbsvc_is_calibrated_and_survives_storage():
    data = made_up(rows_per_class=30)
    config = replace(features.DEFAULT, model="nbsvc")
    pipeline = features.build_pipeline(config).fit(data.texts, data.labels)
    proba = pipeline.predict_proba(["快递三天还没送到，物流信息一直不更新"])
    assert proba.shape == (1, 4) and proba.sum() == pytest.approx(1.0)
    blob = engine.dumps(pipeline)
    loaded = engine.loads(blob, hashlib.sha256(blob).hexdigest(), engine.signature(blob))
    assert engine.predict(loaded, ["个人信息被泄露，每天接到骚扰营销电话"])[0][0] == "privacy"
    numpy.testing.assert_allclose(loaded.predict_proba(data.texts[:10]), pipeline.predict_proba(data.texts[:10]))


def test_nbsvc_learns_real_sentiment_better_than_chance():
    rows = real_slice("hotel_reviews.csv", "review", "label", per_class=300)
    train, test = rows[::2], rows[1::2]
    pipeline = features.build_pipeline(replace(features.DEFAULT, model="nbsvc")).fit(
        [r["text"] for r in train], [r["label"] for r in train]
    )
    predicted = pipeline.predict([r["text"] for r in test])
    accuracy = numpy.mean([p == r["label"] for p, r in zip(predicted, test, strict=True)])
    assert accuracy > 0.8
