"""Trained classifiers (versioned, one active per target), their audit chain, and the predictions
made for cases at intake with the agents' corrections."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import ModelAction


class ClassifierModel(models.Model):
    """One trained version of the classifier for a target. The fitted pipeline is a blob in the
    content-addressed store (evidence.store), named by its SHA-256; that and its HMAC are checked before loading."""

    target = models.CharField(_("预测目标"), max_length=60, db_index=True)
    version = models.PositiveIntegerField(_("版本"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # rows, classes with counts, data source, format, text and label fields, features, seconds.
    training = models.JSONField(_("训练数据摘要"), default=dict)
    # Measured on a held-out part of the training data (see actions.train).
    metrics = models.JSONField(_("评估指标"), default=dict)
    blob_sha256 = models.CharField(max_length=64)
    blob_size = models.PositiveBigIntegerField(default=0)
    # HMAC-SHA256 of the blob keyed by SECRET_KEY (engine.signature), checked before unpickling.
    blob_hmac = models.CharField(max_length=64, blank=True, default="")
    active = models.BooleanField(_("启用"), default=False)

    class Meta:
        verbose_name = _("分类模型")
        verbose_name_plural = pgettext_lazy("plural", "分类模型")
        ordering = ["target", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["target", "version"], name="classifier_target_version"),
            models.UniqueConstraint(
                fields=["target"], condition=Q(active=True), name="classifier_one_active_per_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} v{self.version}"


class ModelEvent(models.Model):
    """The audit chain of model changes (training, activation, rollback). Activation is no case
    event, so it has a hash chain of its own, built like the case chains (ledger/chain.py)."""

    seq = models.PositiveIntegerField(unique=True)
    action = models.CharField(max_length=20, choices=ModelAction.choices)
    model = models.ForeignKey(ClassifierModel, null=True, on_delete=models.PROTECT, related_name="events")
    target = models.CharField(max_length=60)
    actor = models.CharField(max_length=40)
    actor_label = models.CharField(max_length=150)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("模型事件")
        verbose_name_plural = pgettext_lazy("plural", "模型事件")
        ordering = ["seq"]


class Prediction(models.Model):
    """What the active model of a target said about a case at intake, and what an agent made of it."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.CASCADE, related_name="predictions")
    target = models.CharField(_("预测目标"), max_length=60)
    model = models.ForeignKey(ClassifierModel, on_delete=models.PROTECT, related_name="predictions")
    label = models.CharField(_("预测结果"), max_length=200)
    confidence = models.FloatField(_("置信度"))
    # True: the prediction was set on the case (a `classify` event by the system); False: a suggestion.
    applied = models.BooleanField(_("已自动应用"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    corrected_to = models.CharField(_("更正为"), max_length=200, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("预测")
        verbose_name_plural = pgettext_lazy("plural", "预测")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["complaint", "target"], name="prediction_complaint_target")]


class CaseSignals(models.Model):
    """What the text of a case says beyond its category (intelligence.signals): risk phrases (negated
    ones kept, marked), sentiment and emotion intensity, a complainant-type suggestion and a priority
    suggestion, each with the signals behind it. Read at intake; risk flags found are added to the case
    by a `classify` of the system (a ledger event), the rest stays a suggestion for the agent."""

    complaint = models.OneToOneField("complaints.Complaint", on_delete=models.CASCADE, related_name="signals")
    risk = models.JSONField(default=list)  # [{flag, phrase, context, start, end, negated}]
    flags = models.JSONField(default=list)  # the flags raised (not negated)
    sentiment = models.FloatField()  # -1 … 1
    sentiment_source = models.CharField(max_length=60)  # "lexicon" or "model:<target> v<version>"
    intensity = models.FloatField()  # 0 … 1
    sentiment_signals = models.JSONField(default=list)
    complainant_type = models.CharField(max_length=20, blank=True)
    type_signals = models.JSONField(default=list)
    type_scores = models.JSONField(default=dict)
    priority = models.CharField(max_length=2)
    priority_reasons = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("文本信号")
        verbose_name_plural = pgettext_lazy("plural", "文本信号")


# --- forecast and spikes (intelligence/forecast.py) ----------------------------------------------------


class TrendDimension(models.TextChoices):
    TOTAL = "total", _("全部投诉")  # every complaint, one series
    CATEGORY = "category", _("投诉分类")  # the top-level category
    PRODUCT = "product", _("产品/服务")  # product_name, or the SKU where no name was given
    ORG_UNIT = "org_unit", _("组织单元")  # the unit complained about (not rolled up to its parents)
    REGION = "region", _("所属区域")  # the unit's region: its nearest unit of kind region, itself included


class SpikeAlert(models.Model):
    """More complaints than the forecast allowed for one value of a dimension (a product, a unit…) over
    the last `window_days` complete days ending on `day`. Raised by the scheduler's `detect_spikes`;
    the unique constraint makes running the detection again the same day harmless."""

    dimension = models.CharField(_("维度"), max_length=20, choices=TrendDimension.choices)
    value = models.CharField(_("取值"), max_length=200)  # category code, product key, unit id, "all"
    value_label = models.CharField(_("名称"), max_length=200)
    day = models.DateField(_("日期"))  # the last day of the window, in the organisation's time zone
    window_days = models.PositiveSmallIntegerField(_("窗口天数"))
    observed = models.PositiveIntegerField(_("实际数量"))
    expected = models.FloatField(_("预期数量"))
    rise_percent = models.FloatField(_("增幅（%）"))
    p_value = models.FloatField(_("p 值"))
    phrases = models.JSONField(_("高频短语"), default=list)  # [{"phrase", "count", "score"}]
    # The complaints of the window (ids, at most 500): who is told, and which supervisors see the alert.
    complaint_ids = models.JSONField(default=list)
    method = models.CharField(max_length=30, blank=True)  # the forecast model used
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投诉激增预警")
        verbose_name_plural = pgettext_lazy("plural", "投诉激增预警")
        ordering = ["-day", "-rise_percent"]
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "value", "day", "window_days"], name="spike_alert_once_per_day"
            )
        ]
        indexes = [models.Index(fields=["acknowledged_at", "-day"])]

    def __str__(self) -> str:
        return f"{self.dimension}:{self.value_label} {self.day} +{self.rise_percent:.0f}%"


class SpikeDetectionRun(models.Model):
    """One row per clock hour in which the detection ran: several workers may run the scheduler, and the
    unique hour lets only one of them do the work. The next run skips the fitting when neither the day
    nor the newest complaint changed since."""

    hour = models.DateTimeField(unique=True)
    day = models.DateField()  # the last complete day examined
    last_complaint_id = models.BigIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    skipped = models.BooleanField(default=False)
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["-hour"]
