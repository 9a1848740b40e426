import pytest

from intelligence import engine

_FITTED: dict = {}


@pytest.fixture
def fit_once(monkeypatch):  # type: ignore[no-untyped-def]
    """Fitting the same rows again gives the same model: tests that only need *a* trained model share
    one fit per data set for the whole session (training itself is tested without this)."""
    real = engine.fit

    def fit(data, config=engine.DEFAULT, *, n_jobs=1):  # type: ignore[no-untyped-def]
        key = (tuple(data.texts), tuple(data.labels), config)
        if key not in _FITTED:
            _FITTED[key] = real(data, config, n_jobs=n_jobs)
        pipeline, metrics = _FITTED[key]
        return pipeline, dict(metrics)

    monkeypatch.setattr(engine, "fit", fit)
