"""Message templates, deliveries (one row per message), consumers' opt-outs, and outgoing webhooks."""

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationError

from .choices import Channel, DeliveryStatus, Language, Purpose


class MessageTemplate(models.Model):
    """The text of one event's message on one channel in one language; admins edit it."""

    event = models.SlugField(_("事件"), max_length=40)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("语言"), max_length=10, choices=Language.choices)
    subject = models.CharField(_("邮件主题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("通知模板")
        verbose_name_plural = _("通知模板")
        ordering = ["event", "channel", "language"]
        constraints = [
            models.UniqueConstraint(fields=["event", "channel", "language"], name="notification_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event} · {self.channel} · {self.language}"

    def clean(self) -> None:
        from .placeholders import BODY_MAX, SMS_MAX, SUBJECT_MAX, check_text

        errors: dict[str, str] = {}
        for field, required, maximum in (
            ("subject", self.channel == Channel.EMAIL, SUBJECT_MAX),
            ("body", True, SMS_MAX if self.channel == Channel.SMS else BODY_MAX),
        ):
            try:
                setattr(
                    self, field, check_text(field, getattr(self, field), self.event, required=required, maximum=maximum)
                )
            except ValidationError as exc:
                errors.update(exc.errors)
        if errors:
            raise DjangoValidationError(errors)


class Delivery(models.Model):
    """One message to one address (a consumer's e-mail or phone, or a staff user's e-mail). Rendered
    at each attempt, so that values registered by other apps (a survey token) are never stored."""

    complaint = models.ForeignKey(
        "complaints.Complaint", on_delete=models.CASCADE, related_name="notification_deliveries"
    )
    event = models.SlugField(_("事件"), max_length=40)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.UPDATES)
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    # The address at the time of sending; blanked when the person is erased.
    recipient = models.CharField(_("收件地址"), max_length=254, blank=True)
    # Set for messages to staff.
    recipient_user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Values the caller of notify_consumer passed (never secrets: see notifications.service).
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_error = models.CharField(_("错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    retried_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    retried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知发送记录")
        verbose_name_plural = _("通知发送记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["complaint", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.event} · {self.channel} · {self.status}"


class OptOut(models.Model):
    """A consumer's "do not send me this". Keyed by a hash of the normalised address, so that the
    marker survives the erasure of the person (their plain address is then blanked) and an erased
    person never starts receiving messages again."""

    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    address_hash = models.CharField(max_length=64, db_index=True)
    # Shown to staff and in a person's data export; blanked when the person is erased.
    address = models.CharField(_("地址"), max_length=254, blank=True)
    purpose = models.CharField(_("范围"), max_length=10, choices=Purpose.choices, default=Purpose.ALL)
    created_at = models.DateTimeField(_("退订时间"), default=timezone.now)
    # Where it came from: "link" (the consumer's unsubscribe link) or "staff".
    source = models.CharField(max_length=10, default="link")

    class Meta:
        verbose_name = _("退订")
        verbose_name_plural = _("退订")
        constraints = [
            models.UniqueConstraint(fields=["channel", "address_hash", "purpose"], name="notification_optout_unique")
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.purpose} {self.address_hash[:8]}"


class WebhookSubscription(models.Model):
    """Another system (ERP, CRM, a regulator's platform) told about chosen case events."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    url = models.URLField(_("接收地址"), max_length=500)
    # The HMAC key is needed in plain to sign, so it cannot be hashed: encrypted with a key derived
    # from SECRET_KEY (notifications.webhooks), never shown again after saving.
    secret_encrypted = models.TextField(editable=False)
    # Case actions (complaints.transitions), e.g. ["accept", "resolve", "sla_breach"].
    events = models.JSONField(_("事件"), default=list)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("Webhook 订阅")
        verbose_name_plural = _("Webhook 订阅")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event sent to one subscription: the exact body signed, and every attempt's outcome."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    event = models.CharField(_("事件"), max_length=50)
    complaint = models.ForeignKey(
        "complaints.Complaint", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The raw JSON body as signed and sent (no personal data: see notifications.webhooks.payload).
    payload = models.TextField()
    status = models.CharField(_("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    status_code = models.PositiveSmallIntegerField(_("HTTP 状态码"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    response_excerpt = models.CharField(_("响应摘要"), max_length=500, blank=True)
    last_error = models.CharField(_("错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("Webhook 发送记录")
        verbose_name_plural = _("Webhook 发送记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.event} {self.status}"
