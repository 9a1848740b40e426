"""Remedies of a case, their approvals, and the authority limits that decide who approves."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import Decision, LimitRole, OfferSide, OfferStatus, RemedyKind, RemedyStatus, Step


class Remedy(models.Model):
    """One remedy of a case (an apology, a refund, a compensation…). Written only by
    resolutions.actions, each change an event in the case's ledger chain."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="remedies")
    kind = models.CharField(_("类型"), max_length=20, choices=RemedyKind.choices)
    description = models.TextField(_("说明"), blank=True)
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    # The rule the handler relied on, e.g. the calculator's "消费者权益保护法第五十五条第一款".
    statutory_basis = models.CharField(_("法律依据"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=20, choices=RemedyStatus.choices, default=RemedyStatus.PROPOSED)
    # The approvals still needed when proposed (Step values, in order); empty within authority.
    required_steps = models.JSONField(default=list)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)  # approved or rejected
    paid_reference = models.CharField(_("支付/执行凭证号"), max_length=100, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("补救措施")
        verbose_name_plural = pgettext_lazy("plural", "补救措施")
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "proposed_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="remedy_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount or ''} {self.currency}".strip()


class Approval(models.Model):
    """One decision on a remedy: a step of the chain approved or the remedy rejected, with a comment."""

    remedy = models.ForeignKey(Remedy, on_delete=models.PROTECT, related_name="approvals")
    step = models.CharField(_("审批环节"), max_length=20, choices=Step.choices)
    decision = models.CharField(_("决定"), max_length=10, choices=Decision.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("意见"), blank=True)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("审批")
        verbose_name_plural = pgettext_lazy("plural", "审批")
        ordering = ["id"]
        constraints = [
            # One decision per step, and one per person: nobody fills two steps of the same remedy.
            models.UniqueConstraint(fields=["remedy", "step"], name="approval_one_per_step"),
            models.UniqueConstraint(fields=["remedy", "decided_by"], name="approval_one_per_person"),
        ]


class AuthorityLimit(models.Model):
    """How much compensation or goodwill a role may grant without approval. A row with an org unit
    applies to the cases of that unit and the units below it; the most specific row wins, and a row
    without an org unit applies everywhere else."""

    role = models.CharField(_("角色"), max_length=20, choices=LimitRole.choices)
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("组织单元")
    )
    limit = models.DecimalField(_("权限额度（元）"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("审批权限额度")
        verbose_name_plural = pgettext_lazy("plural", "审批权限额度")
        ordering = ["role", "org_unit__path"]
        constraints = [
            models.UniqueConstraint(fields=["role", "org_unit"], name="authority_limit_unique"),
            models.UniqueConstraint(
                fields=["role"], condition=models.Q(org_unit__isnull=True), name="authority_limit_one_default"
            ),
            models.CheckConstraint(condition=models.Q(limit__gte=0), name="authority_limit_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.org_unit or '—'} {self.limit}"


class Offer(models.Model):
    """One message of a case's negotiation thread: an organisation offer (a proposal the consumer may
    accept, refuse or counter) or a consumer counter-offer (staff answer it with a new offer). Written
    only by the negotiation actions, each change an event in the case's ledger chain."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="offers")
    side = models.CharField(_("提出方"), max_length=20, choices=OfferSide.choices)
    text = models.TextField(_("方案内容"))
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    # The case's remedies an organisation offer bundles (authorised ones only).
    remedies = models.ManyToManyField(Remedy, blank=True, related_name="offers", verbose_name=_("补救措施"))
    status = models.CharField(_("状态"), max_length=20, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    # Organisation offers only: after this moment the offer can no longer be accepted.
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies", verbose_name=_("答复")
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    decided_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    # Why it was refused (the consumer) or withdrawn (staff).
    reason = models.TextField(_("理由"), blank=True)
    # Acceptance: how it was given (status page, API, recorded by staff with their note).
    accepted_via = models.CharField(_("接受方式"), max_length=20, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acceptance_note = models.TextField(_("接受说明"), blank=True)
    agreement_no = models.CharField(_("协议编号"), max_length=40, blank=True)
    agreement = models.ForeignKey(
        "evidence.Evidence",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("和解协议"),
    )

    class Meta:
        verbose_name = _("协商方案")
        verbose_name_plural = pgettext_lazy("plural", "协商方案")
        ordering = ["made_at", "id"]
        indexes = [models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="offer_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.amount or ''} {self.currency}".strip()
