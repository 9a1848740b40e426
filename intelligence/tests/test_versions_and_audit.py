import pytest
from django.db import IntegrityError, transaction

from core.errors import ValidationError
from intelligence import actions, audit, engine
from intelligence.models import ClassifierModel, ModelEvent

from .helpers import made_up


@pytest.fixture
def three_versions(cast, fit_once):  # type: ignore[no-untyped-def]
    data = made_up(rows_per_class=15)
    return [actions.train(data, target="category", user=cast.admin) for _ in range(3)]


def test_each_training_is_a_new_version_with_its_summary_and_metrics(three_versions):
    assert [m.version for m in three_versions] == [1, 2, 3]
    first = three_versions[0]
    assert first.training["rows"] == 60
    assert first.training["classes"] == {"delivery": 15, "product_quality": 15, "privacy": 15, "price_charges": 15}
    assert first.training["source"] == "made-up"
    assert {"accuracy", "macro_f1", "weighted_f1", "per_class"} <= set(first.metrics)
    assert len(first.blob_sha256) == 64 and first.blob_size > 0
    assert not any(m.active for m in three_versions)


def test_activation_and_rollback_keep_one_active_version_and_are_chained_events(three_versions, cast):
    v1, _v2, v3 = three_versions
    actions.activate(v1, user=cast.admin)
    actions.activate(v3, user=cast.admin)
    assert list(ClassifierModel.objects.filter(active=True)) == [v3]
    back = actions.rollback("category", user=cast.admin)
    assert back.pk == v1.pk  # v2 was never active: rollback returns to the version used before
    assert list(ClassifierModel.objects.filter(active=True).values_list("version", flat=True)) == [1]
    assert list(ModelEvent.objects.values_list("action", flat=True)) == [
        "train",
        "train",
        "train",
        "activate",
        "activate",
        "rollback",
    ]
    last = ModelEvent.objects.last()
    assert last.actor == f"staff:{cast.admin.pk}" and last.data["previous"] == 3
    assert audit.verify() == []


def test_rollback_without_an_earlier_active_version_is_refused(three_versions):
    actions.activate(three_versions[0])
    with pytest.raises(ValidationError, match="没有更早启用过的版本"):
        actions.rollback("category")
    with pytest.raises(ValidationError, match="没有启用的模型"):
        actions.rollback("priority")


def test_the_database_refuses_two_active_versions_of_a_target(three_versions):
    actions.activate(three_versions[0])
    with pytest.raises(IntegrityError), transaction.atomic():
        ClassifierModel.objects.filter(pk=three_versions[1].pk).update(active=True)


def test_a_rewritten_model_event_breaks_the_audit_chain(three_versions):
    actions.activate(three_versions[1])
    ModelEvent.objects.filter(action="activate").update(data={"version": 3, "previous": None})
    problems = audit.verify()
    assert problems and "seq 4" in problems[0] and "hash" in problems[0]


def test_a_model_whose_stored_bytes_changed_is_not_loaded(three_versions, settings):
    from evidence import store

    model = three_versions[0]
    actions._CACHE.clear()
    path = store._storage().path(store.path_of(model.blob_sha256))
    with open(path, "r+b") as blob:
        blob.seek(20)
        blob.write(b"tampered")
    with pytest.raises(engine.ModelError, match="SHA-256"):
        actions.load(model)
    with pytest.raises(engine.ModelError):
        actions.activate(model)
    assert not ClassifierModel.objects.filter(active=True).exists()


def test_a_model_row_pointed_at_bytes_we_did_not_write_is_not_loaded(three_versions, settings):
    """Whoever can change a database row cannot make us unpickle a blob of their own from the shared
    store (uploaded evidence lives there too): the HMAC is keyed by SECRET_KEY, not in the database."""
    from evidence import store

    model = three_versions[0]
    actions._CACHE.clear()
    foreign = engine.dumps({"not": "ours"})
    sha256, size = store.put(foreign)
    ClassifierModel.objects.filter(pk=model.pk).update(blob_sha256=sha256, blob_size=size)
    model.refresh_from_db()
    with pytest.raises(engine.ModelError, match="HMAC"):
        actions.load(model)
    ClassifierModel.objects.filter(pk=model.pk).update(blob_hmac=engine.signature(foreign, "another key"))
    model.refresh_from_db()
    with pytest.raises(engine.ModelError, match="HMAC"):
        actions.load(model)
    ClassifierModel.objects.filter(pk=model.pk).update(blob_hmac="")
    model.refresh_from_db()
    with pytest.raises(engine.ModelError, match="HMAC"):
        actions.activate(model)
    assert not ClassifierModel.objects.filter(active=True).exists()


def test_a_model_signed_before_a_key_rotation_still_loads(three_versions, settings):
    model = three_versions[1]
    actions._CACHE.clear()
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "the new key " + "x" * 40, [old_key]
    assert engine.predict(actions.load(model), ["快递三天还没送到"])[0][0] in {
        "delivery",
        "product_quality",
        "privacy",
        "price_charges",
    }
    actions._CACHE.clear()
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(engine.ModelError, match="HMAC"):
        actions.load(model)


def test_the_migration_signs_versions_stored_before_it(three_versions):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("intelligence.migrations.0004_classifiermodel_blob_hmac")
    signed = {m.pk: m.blob_hmac for m in ClassifierModel.objects.all()}
    ClassifierModel.objects.update(blob_hmac="")
    migration.sign_existing(apps, None)
    assert {m.pk: m.blob_hmac for m in ClassifierModel.objects.all()} == signed
    assert all(len(mac) == 64 for mac in signed.values())
    # A row whose blob is not in the store stays unsigned, and so refused.
    ClassifierModel.objects.filter(pk=three_versions[0].pk).update(blob_sha256="0" * 64, blob_hmac="")
    migration.sign_existing(apps, None)
    assert ClassifierModel.objects.get(pk=three_versions[0].pk).blob_hmac == ""


def test_deactivation_leaves_the_target_without_a_model(three_versions):
    actions.activate(three_versions[0])
    actions.deactivate("category")
    assert not ClassifierModel.objects.filter(active=True).exists()
    assert ModelEvent.objects.last().action == "deactivate"
    assert audit.verify() == []
