"""Customer profiles (客户档案): matched from complaints by normalised phone, e-mail or customer
number, with their orders, service records and care actions (关怀)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.fieldcrypt import EncryptedTextField, LookupHashesMixin, LookupHashesQuerySet, LookupHashField

from .choices import CareKind, CareStatus, ImportKind, ServiceKind, ValueTier


class Customer(LookupHashesMixin, models.Model):
    objects = LookupHashesQuerySet.as_manager()

    name = models.CharField(_("姓名"), max_length=100, blank=True)
    # Contact details are encrypted at rest (core.fieldcrypt); each look-up key has a keyed hash of
    # its normalised value beside it, which is what matching and the search boxes compare.
    # E.164 (+8613812345678); the match key for phone numbers written in any common form.
    phone = EncryptedTextField(_("电话"), max_length=20, blank=True)
    phone_hash = LookupHashField(source="phone", kind="phone")  # indexed in Meta
    # Lower-cased; the match key for e-mail.
    email = EncryptedTextField(_("电子邮箱"), max_length=254, blank=True)
    email_hash = LookupHashField(source="email", kind="email")  # indexed in Meta
    customer_no = models.CharField(_("客户编号"), max_length=64, blank=True)  # indexed in Meta
    address = EncryptedTextField(_("地址"), max_length=300, blank=True)
    # 18-character PRC resident ID, checksum verified (customers.normalise.normalise_id_number).
    # db_default: raw SQL inserts (imports.writer, the benchmarks) may leave it out.
    id_number = EncryptedTextField(_("身份证号"), max_length=18, blank=True, default="", db_default="")
    id_number_hash = LookupHashField(source="id_number", kind="id_number")  # indexed in Meta
    # Cached result of customers.tiers.tier_of (orders of the last 12 months); refreshed when orders
    # are imported and by the daily job customers.jobs.refresh_value_tiers. Pages compute it afresh.
    value_tier = models.CharField(
        _("客户等级"),
        max_length=10,
        choices=ValueTier.choices,
        default=ValueTier.STANDARD,
        db_default=ValueTier.STANDARD,
    )  # indexed in Meta
    tier_refreshed_on = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The data subject's key for personal data in the ledger; destroying it erases them (crypto-shredding).
    subject_key = models.ForeignKey("ledger.SubjectKey", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = pgettext_lazy("plural", "客户")
        # Equality look-ups only: plain btrees, without the varchar_pattern_ops copies that
        # db_index=True adds on PostgreSQL for LIKE (migration 0005).
        indexes = [
            models.Index(fields=["phone_hash"], name="customer_phone_hash"),
            models.Index(fields=["email_hash"], name="customer_email_hash"),
            models.Index(fields=["customer_no"], name="customer_no"),
            models.Index(fields=["id_number_hash"], name="customer_id_number_hash"),
            models.Index(fields=["value_tier"], name="customer_value_tier"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone or self.email or f"#{self.pk}"


class Order(models.Model):
    """An order or purchase, imported from the shop's or ERP's export."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    order_no = models.CharField(_("订单号"), max_length=64)
    ordered_at = models.DateTimeField(_("下单时间"), db_index=True)
    product_name = models.CharField(_("产品名称"), max_length=200, blank=True)
    product_sku = models.CharField(_("SKU"), max_length=64, blank=True)
    quantity = models.PositiveIntegerField(_("数量"), default=1)
    amount = models.DecimalField(_("金额"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    channel = models.CharField(_("渠道/门店"), max_length=100, blank=True)
    # Where the row came from (the file name or the system), for tracing an import back.
    source = models.CharField(_("来源"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = pgettext_lazy("plural", "订单")
        ordering = ["-ordered_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["customer", "order_no"], name="customers_order_unique")]
        indexes = [models.Index(fields=["customer", "ordered_at"])]


class ServiceRecord(models.Model):
    """A repair, installation, maintenance visit or return."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="service_records")
    kind = models.CharField(_("类型"), max_length=20, choices=ServiceKind.choices)
    occurred_at = models.DateTimeField(_("发生时间"))
    product = models.CharField(_("产品"), max_length=200, blank=True)
    # Free text: may hold anything the customer said; blanked on erasure (CustomersConfig.erase_personal).
    description = models.TextField(_("说明"), blank=True)
    # The service system's ticket number: the idempotency key of an import, per customer.
    reference = models.CharField(_("单号"), max_length=64)
    source = models.CharField(_("来源"), max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = pgettext_lazy("plural", "服务记录")
        ordering = ["-occurred_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["customer", "reference"], name="customers_service_unique")]


class CareAction(models.Model):
    """A care task (关怀) for a valued customer: a manager's call, a gift, a visit."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="care_actions")
    complaint = models.ForeignKey(
        "complaints.Complaint", null=True, blank=True, on_delete=models.PROTECT, related_name="care_actions"
    )
    kind = models.CharField(_("关怀方式"), max_length=20, choices=CareKind.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="care_actions",
    )
    due_at = models.DateTimeField(_("完成期限"), db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=CareStatus.choices, default=CareStatus.OPEN)
    # Free text; blanked on erasure.
    note = models.TextField(_("备注"), blank=True)
    # Created by the rule (customers.care.apply_rule) rather than by hand: at most one per complaint.
    automatic = models.BooleanField(default=False, editable=False)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_note = models.TextField(_("完成说明"), blank=True)

    class Meta:
        verbose_name = _("关怀任务")
        verbose_name_plural = pgettext_lazy("plural", "关怀任务")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint"], condition=models.Q(automatic=True), name="customers_care_once_per_complaint"
            )
        ]
        indexes = [models.Index(fields=["assignee", "status"])]


class CustomerDataImport(models.Model):
    """One run of an orders or service-records import, with its error report."""

    kind = models.CharField(max_length=10, choices=ImportKind.choices)
    filename = models.CharField(max_length=255, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    dry_run = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    customers_created = models.PositiveIntegerField(default=0)
    # [[row, line, field, reason, value], ...] — refused rows, the value masked (complaints.selectors.mask:
    # no phone, e-mail or name in clear is kept here); the report shows them, neutralised for spreadsheets.
    errors = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at", "-id"]
