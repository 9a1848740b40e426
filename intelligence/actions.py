"""Every write of the intelligence app: train a version, activate it, roll back, deactivate. Each is
one event in the model audit chain (audit.py). Commands and admin actions call these."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core.errors import ValidationError
from evidence import store

from . import audit, engine
from .choices import ModelAction
from .datasets import Labelled
from .features import DEFAULT, Config
from .models import ClassifierModel

log = logging.getLogger("complaintdesk.intelligence")
_CACHE: dict[str, Any] = {}
_CACHE_SIZE = 8


def _who(user: Any) -> tuple[str, str]:
    if user is None:
        return "system", "system"
    return f"staff:{user.pk}", user.get_username()


def check_target(target: str) -> str:
    target = (target or "").strip()
    if not target or len(target) > 60 or not target.replace("_", "").replace("-", "").isalnum():
        raise ValidationError("target", _("预测目标须是 1–60 个字母、数字、下划线或连字符，例如 category。"))
    return target


def train(
    data: Labelled,
    *,
    target: str,
    user: Any = None,
    config: Config = DEFAULT,
    n_jobs: int = 1,
    details: dict[str, Any] | None = None,
) -> ClassifierModel:
    """Fit a new version for the target (not active until `activate`), store it, record it."""
    target = check_target(target)
    pipeline, metrics = engine.fit(data, config, n_jobs=n_jobs)
    content = engine.dumps(pipeline, target=target, classes=sorted(data.classes()))
    sha256, size = store.put(content)
    training = {**data.summary(), **(details or {}), "features": config.as_dict()}
    actor, label = _who(user)
    with transaction.atomic():
        latest = ClassifierModel.objects.filter(target=target).aggregate(v=Max("version"))["v"] or 0
        model = ClassifierModel.objects.create(
            target=target,
            version=latest + 1,
            created_by=user,
            training=training,
            metrics=metrics,
            blob_sha256=sha256,
            blob_size=size,
            blob_hmac=engine.signature(content),
        )
        audit.append(
            ModelAction.TRAIN,
            model=model,
            target=target,
            actor=actor,
            actor_label=label,
            data={
                "version": model.version,
                "sha256": sha256,
                "rows": data.summary()["rows"],
                "metrics": _headline(metrics),
            },
        )
    _CACHE[sha256] = pipeline
    return model


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: metrics.get(k) for k in ("accuracy", "macro_f1", "weighted_f1")}


def activate(model: ClassifierModel, *, user: Any = None, action: str = ModelAction.ACTIVATE) -> ClassifierModel:
    """Make this version the one that predicts for its target (the previous one steps down)."""
    load(model)  # refuse a version whose blob is missing or changed before it goes live
    actor, label = _who(user)
    with transaction.atomic():
        current = ClassifierModel.objects.select_for_update().filter(target=model.target, active=True).first()
        if current is not None and current.pk == model.pk:
            raise ValidationError("model", _("该版本已经是启用状态。"))
        if current is not None:
            current.active = False
            current.save(update_fields=["active"])
        model.active = True
        model.save(update_fields=["active"])
        audit.append(
            action,
            model=model,
            target=model.target,
            actor=actor,
            actor_label=label,
            data={
                "version": model.version,
                "previous": current.version if current else None,
                "sha256": model.blob_sha256,
            },
        )
    return model


def rollback(target: str, *, user: Any = None) -> ClassifierModel:
    """Activate the highest earlier version of the target that was ever active."""
    current = ClassifierModel.objects.filter(target=target, active=True).first()
    if current is None:
        raise ValidationError("target", _("目标“%(target)s”没有启用的模型，无法回滚。") % {"target": target})
    earlier = (
        ClassifierModel.objects.filter(
            target=target,
            version__lt=current.version,
            events__action__in=[ModelAction.ACTIVATE, ModelAction.ROLLBACK],
        )
        .order_by("-version")
        .first()
    )
    if earlier is None:
        raise ValidationError("target", _("目标“%(target)s”没有更早启用过的版本可以回滚。") % {"target": target})
    return activate(earlier, user=user, action=ModelAction.ROLLBACK)


def deactivate(target: str, *, user: Any = None) -> None:
    actor, label = _who(user)
    with transaction.atomic():
        current = ClassifierModel.objects.select_for_update().filter(target=target, active=True).first()
        if current is None:
            raise ValidationError("target", _("目标“%(target)s”没有启用的模型。") % {"target": target})
        current.active = False
        current.save(update_fields=["active"])
        audit.append(
            ModelAction.DEACTIVATE,
            model=current,
            target=target,
            actor=actor,
            actor_label=label,
            data={"version": current.version},
        )


def evaluate(model: ClassifierModel, data: Labelled) -> dict[str, Any]:
    """Scores of a stored version on labelled data it was (one hopes) not trained on."""
    result = engine.evaluate(load(model), data)
    return {"target": model.target, "version": model.version, "data": data.source, **result}


def load(model: ClassifierModel) -> Any:
    """The fitted pipeline of a version, checked against its SHA-256 and HMAC, cached per process."""
    cached = _CACHE.get(model.blob_sha256)
    if cached is not None:
        return cached
    if not store.exists(model.blob_sha256):
        raise engine.ModelError(_("模型文件不存在：%(sha)s") % {"sha": model.blob_sha256})
    with store.open(model.blob_sha256) as blob:
        content = blob.read()
    pipeline = engine.loads(content, model.blob_sha256, model.blob_hmac)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[model.blob_sha256] = pipeline
    return pipeline
