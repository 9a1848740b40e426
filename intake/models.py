"""Idempotent public intake (a retry with the same Idempotency-Key returns the original response),
access-code recovery, and the webhook and mail channels."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from complaints.choices import Channel


class IdempotencyRecord(models.Model):
    key = models.CharField(max_length=200, unique=True)
    # SHA-256 of the request body: the same key with another body is refused.
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The original response, encrypted with a key derived from SECRET_KEY and the idempotency key,
    # since it holds the access code, which is otherwise stored only hashed.
    response = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)


class RecoveryCode(models.Model):
    """A one-time code, sent to the complaint's e-mail, that issues a new access code when it is lost."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)


# --- channels: platform webhooks and inbound mail ---------------------------------------------


class WebhookSource(models.Model):
    """A platform that posts complaints to /api/v1/intake/webhooks/<slug> (an e-commerce platform,
    a WeChat official account relay, 12315 referral exports, a social-media monitor)."""

    slug = models.SlugField(_("标识"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    channel = models.CharField(_("渠道"), max_length=30, choices=Channel.choices, default=Channel.ECOMMERCE_PLATFORM)
    # The shared HMAC secret is needed in plain to check signatures, so it cannot be hashed; it is
    # stored encrypted (AES-GCM, key derived from SECRET_KEY, the slug as associated data).
    secret_encrypted = models.TextField(editable=False)
    # {"<IntakeData field>": "<JSON path>"}, e.g. {"complainant_phone": "$.buyer.phone"}.
    mapping = models.JSONField(_("字段映射"), default=dict)
    # Constant values for fields the platform does not send, e.g. {"category": "after_sales"}.
    defaults = models.JSONField(_("固定取值"), default=dict, blank=True)
    # Where the platform's own id of the complaint is: a delivery with an id seen before creates nothing.
    event_id_path = models.CharField(_("事件编号路径"), max_length=200)
    rate_per_minute = models.PositiveIntegerField(_("每分钟上限"), default=120)
    # Mail the complainant the receipt (tracking number and access code) when an e-mail is mapped.
    notify_complainant = models.BooleanField(_("向投诉人发送受理回执"), default=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("平台推送来源")
        verbose_name_plural = pgettext_lazy("plural", "平台推送来源")

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class WebhookEvent(models.Model):
    """One accepted delivery; (source, event_id) is unique, so a replay finds its complaint."""

    source = models.ForeignKey(WebhookSource, on_delete=models.PROTECT, related_name="events")
    event_id = models.CharField(max_length=100)
    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="+")
    body_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "event_id"], name="webhook_event_unique")]


class InboundMailStatus(models.TextChoices):
    NEW = "new", _("待处理")  # stored, not parsed yet (or the process stopped while parsing)
    PARSED = "parsed", _("已登记投诉")  # became a new complaint
    REPLY = "reply", _("已归入投诉")  # a reply that went into an existing case's contact log
    FAILED = "failed", _("处理失败")  # could not become a complaint: an agent looks at it
    HANDLED = "handled", _("已处理")  # dealt with by an agent, or an auto-reply that is never answered


class InboundMail(models.Model):
    """A mail received by the intake channel. The raw message is stored (content-addressed, in the
    evidence store) before anything else, so a mail that cannot be parsed loses nothing."""

    received_at = models.DateTimeField(_("收到时间"), default=timezone.now, db_index=True)
    via = models.CharField(max_length=10, default="smtp")  # smtp | imap
    envelope_from = models.CharField(max_length=254, blank=True)
    recipients = models.CharField(max_length=1000, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    from_address = models.CharField(_("发件人"), max_length=254, blank=True)
    subject = models.CharField(_("主题"), max_length=300, blank=True)
    # The same bytes delivered twice (a relay's retry, an IMAP poll after a crash) are one mail.
    raw_sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveIntegerField()
    status = models.CharField(
        _("状态"), max_length=10, choices=InboundMailStatus.choices, default=InboundMailStatus.NEW, db_index=True
    )
    # Why it failed, or what was noticed while parsing (charset guessed, body cut), for the agent.
    error = models.TextField(_("说明"), blank=True)
    complaint = models.ForeignKey(
        "complaints.Complaint", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_note = models.CharField(_("处理说明"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("来信")
        verbose_name_plural = pgettext_lazy("plural", "来信")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_address or '?'}: {self.subject}"
