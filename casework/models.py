"""Contacts (沟通记录), reply templates (话术), written replies, and the closing checklist of each closing.

Contacts, replies and checklists are written only by casework.actions and complaints.actions.close,
each with an event in the case's ledger chain; templates are configuration, edited by admins."""

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.errors import ValidationError

from .choices import ContactChannel, Delivery, Direction, Language, Party, Purpose, SurveySkipped, ThirdPartyKind
from .placeholders import check_body


class ReplyTemplate(models.Model):
    """A reply or phone script with placeholders ({name} {tracking_no} {due_date} {remedy}), per
    category (none: any) and language."""

    name = models.CharField(_("名称"), max_length=100)
    category = models.ForeignKey(
        "complaints.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("分类"),
        help_text=_("留空表示适用于所有分类。"),
    )
    language = models.CharField(_("语言"), max_length=10, choices=Language.choices, default=Language.ZH_HANS)
    purpose = models.CharField(_("用途"), max_length=10, choices=Purpose.choices, default=Purpose.REPLY)
    body = models.TextField(
        _("正文"),
        help_text=_("可用占位符：{name} 投诉人姓名，{tracking_no} 投诉编号，{due_date} 办结期限，{remedy} 补救措施。"),
    )
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("答复模板")
        verbose_name_plural = pgettext_lazy("plural", "答复模板")
        ordering = ["purpose", "language", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            self.body = check_body(self.body)
        except ValidationError as exc:
            raise DjangoValidationError(exc.errors) from exc


class Contact(models.Model):
    """One contact with the consumer or a third party: who, how, when, how long, what was said."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="contacts")
    direction = models.CharField(_("方向"), max_length=10, choices=Direction.choices)
    party = models.CharField(_("对象"), max_length=12, choices=Party.choices)
    third_party_kind = models.CharField(_("第三方类型"), max_length=12, choices=ThirdPartyKind.choices, blank=True)
    third_party_name = models.CharField(_("第三方名称"), max_length=100, blank=True)
    channel = models.CharField(_("方式"), max_length=10, choices=ContactChannel.choices)
    occurred_at = models.DateTimeField(_("时间"))
    duration_seconds = models.PositiveIntegerField(_("时长（秒）"), null=True, blank=True)
    summary = models.TextField(_("内容摘要"))
    # A recording or a message kept as communication evidence (its own chain of custody).
    evidence = models.ForeignKey("evidence.Evidence", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_via = models.CharField(max_length=40, blank=True)  # the actor's label: a username, "mail"
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("沟通记录")
        verbose_name_plural = pgettext_lazy("plural", "沟通记录")
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(party="consumer") | ~models.Q(third_party_name=""), name="contact_third_party_named"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.get_channel_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class Reply(models.Model):
    """A written reply (反馈) to the consumer: on the status page (Complaint.reply_text), and mailed
    when the consumer left an e-mail address."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="replies")
    text = models.TextField(_("答复内容"))
    template = models.ForeignKey(
        ReplyTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("模板")
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    delivery = models.CharField(_("邮件送达"), max_length=12, choices=Delivery.choices, default=Delivery.PENDING)
    delivery_note = models.CharField(_("送达说明"), max_length=300, blank=True)  # why not mailed, or the error
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("书面答复")
        verbose_name_plural = pgettext_lazy("plural", "书面答复")
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.sent_at:%Y-%m-%d %H:%M}"


class ClosingChecklist(models.Model):
    """What closing found, once per closing (a reopened case is closed again with a new row). The
    satisfaction survey picks up `survey_due_at`."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="closings")
    closed_at = models.DateTimeField(_("结案时间"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    reply = models.ForeignKey(Reply, null=True, on_delete=models.PROTECT, related_name="+")
    remedies_settled = models.BooleanField(_("补救措施已执行或已拒绝"))
    remedies_basis = models.CharField(_("依据"), max_length=300, blank=True)
    evidence_complete = models.BooleanField(_("证据已齐全"))
    survey_due_at = models.DateTimeField(_("回访期限"), null=True, blank=True, db_index=True)
    survey_skipped = models.CharField(_("不回访原因"), max_length=12, choices=SurveySkipped.choices, blank=True)

    class Meta:
        verbose_name = _("结案核对")
        verbose_name_plural = pgettext_lazy("plural", "结案核对")
        ordering = ["closed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(survey_due_at__isnull=False) | ~models.Q(survey_skipped=""),
                name="closing_survey_scheduled_or_skipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.closed_at:%Y-%m-%d}"
