"""The complaint (case) and the configuration its handling depends on."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.fieldcrypt import EncryptedTextField, LookupHashesMixin, LookupHashesQuerySet, LookupHashField

from .choices import (
    Channel,
    ComplainantType,
    DuplicateStatus,
    EscalationLevel,
    ExternalRoute,
    Nature,
    Outcome,
    PreferredContact,
    Priority,
    Severity,
    Status,
)


class Category(models.Model):
    """The complaint taxonomy: categories and their sub-categories. Data, editable by admins."""

    code = models.SlugField(_("代码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("投诉分类")
        verbose_name_plural = pgettext_lazy("plural", "投诉分类")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class ComplaintQuerySet(LookupHashesQuerySet):
    def visible_to(self, user):  # type: ignore[no-untyped-def]
        """The only way views and the API list or fetch cases (complaints.permissions)."""
        from .permissions import visible_to

        return visible_to(self, user)


class Complaint(LookupHashesMixin, models.Model):
    objects = ComplaintQuerySet.as_manager()

    # --- identity
    tracking_no = models.CharField(_("投诉编号"), max_length=24, unique=True)
    access_code_hash = models.CharField(max_length=100, editable=False)
    channel = models.CharField(_("渠道"), max_length=30, choices=Channel.choices, default=Channel.WEB)
    received_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    is_demo = models.BooleanField(default=False, editable=False)
    # Where an imported or platform complaint came from and its id there: importing the same row
    # or receiving the same platform complaint again finds this case instead of creating one.
    external_source = models.CharField(_("来源系统"), max_length=40, blank=True)
    external_id = models.CharField(_("来源编号"), max_length=100, blank=True)
    # Incremented by every action; staff writes carry it (If-Match) so a stale write changes nothing.
    version = models.PositiveIntegerField(default=1)
    # Not indexed alone: the (status, …) indexes below lead with it (migration 0011).
    status = models.CharField(_("状态"), max_length=30, choices=Status.choices, default=Status.NEW)

    # --- complainant (投诉人信息); the subject key encrypts their data in the ledger
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.PROTECT)
    subject_key = models.ForeignKey("ledger.SubjectKey", on_delete=models.PROTECT, related_name="+")
    anonymous = models.BooleanField(_("匿名"), default=False)
    complainant_name = models.CharField(_("投诉人姓名"), max_length=100, blank=True)
    # Encrypted at rest (core.fieldcrypt); the case search matches a phone number or an e-mail
    # address exactly through the keyed hashes of their normalised values.
    complainant_phone = EncryptedTextField(_("电话"), max_length=20, blank=True)
    complainant_email = EncryptedTextField(_("电子邮箱"), max_length=254, blank=True)
    complainant_address = EncryptedTextField(_("地址"), max_length=300, blank=True)
    complainant_phone_hash = LookupHashField(source="complainant_phone", kind="phone")  # indexed in Meta
    complainant_email_hash = LookupHashField(source="complainant_email", kind="email")  # indexed in Meta
    preferred_contact = models.CharField(
        _("首选联系方式"), max_length=10, choices=PreferredContact.choices, default=PreferredContact.PHONE
    )

    # --- respondent (被投诉对象信息)
    org_unit = models.ForeignKey("accounts.OrgUnit", null=True, blank=True, on_delete=models.PROTECT)
    product_name = models.CharField(_("产品/服务"), max_length=200, blank=True)
    product_sku = models.CharField(_("SKU"), max_length=64, blank=True)  # indexed in Meta
    product_model = models.CharField(_("型号"), max_length=100, blank=True)
    product_batch = models.CharField(_("批次"), max_length=100, blank=True)
    order_no = models.CharField(_("订单号"), max_length=64, blank=True)
    purchase_date = models.DateField(_("购买日期"), null=True, blank=True)
    amount_paid = models.DecimalField(_("支付金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    staff_involved = models.CharField(_("涉及员工"), max_length=200, blank=True)

    # --- content (投诉内容)
    title = models.CharField(_("标题"), max_length=200, blank=True)
    description = models.TextField(_("投诉内容"))
    occurred_at = models.DateTimeField(_("发生时间"), null=True, blank=True)
    country = models.CharField(_("国家"), max_length=2, default="CN")
    province_code = models.CharField(_("省级代码"), max_length=6, blank=True)  # indexed in Meta
    city_code = models.CharField(_("市级代码"), max_length=6, blank=True)
    district_code = models.CharField(_("县级代码"), max_length=6, blank=True)
    us_state = models.CharField(_("美国州"), max_length=2, blank=True)
    postal_code = models.CharField(_("邮政编码"), max_length=12, blank=True)

    # --- demands (投诉要求)
    remedies_requested = models.JSONField(_("诉求"), default=list, blank=True)
    amount_claimed = models.DecimalField(_("索赔金额"), max_digits=14, decimal_places=2, null=True, blank=True)

    # --- classification
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subcategory = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices, default=Severity.GENERAL)
    # Not indexed alone: complaint_list_filters_due leads with it (migration 0011).
    priority = models.CharField(_("优先级"), max_length=2, choices=Priority.choices, default=Priority.P3)
    nature = models.CharField(_("性质"), max_length=10, choices=Nature.choices, blank=True)
    complainant_type = models.CharField(_("投诉人类型"), max_length=20, choices=ComplainantType.choices, blank=True)
    sentiment = models.DecimalField(_("情感"), max_digits=4, decimal_places=3, null=True, blank=True)
    risk_flags = models.JSONField(_("风险标记"), default=list, blank=True)
    # Denormalised from risk_flags for the legal/PR visibility rule (indexed booleans query the same
    # on SQLite and PostgreSQL; JSON containment does not).
    risk_legal_media_safety = models.BooleanField(default=False, editable=False, db_index=True)

    # --- handling
    # Neither is indexed alone: the (department, status) and (owner, status) indexes lead with them.
    department = models.ForeignKey(
        "accounts.Department", null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("第一责任人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_complaints",
        db_index=False,
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("升级级别"), choices=EscalationLevel.choices, default=EscalationLevel.FRONTLINE
    )
    reject_reason = models.TextField(_("不予受理理由"), blank=True)
    appealed = models.BooleanField(_("已申诉"), default=False)
    appeal_reason = models.TextField(_("申诉理由"), blank=True)

    # --- SLA clocks (all instants; deadlines are computed on the business calendar)
    ack_due_at = models.DateTimeField(_("受理时限"), null=True, blank=True)
    ack_warn_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("受理告知时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    regulator_due_at = models.DateTimeField(_("监管时限"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("办结时限"), null=True, blank=True, db_index=True)
    resolution_warn_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(null=True, blank=True)
    # Where the running resolution clock started (acceptance, or the reopening) and the working
    # seconds it has stood still since, so that a new priority recomputes the deadline exactly.
    resolution_clock_start = models.DateTimeField(null=True, blank=True)
    sla_paused_seconds = models.PositiveBigIntegerField(default=0)
    # Stamped once by the SLA tick, so a warning or a breach is acted on exactly once.
    ack_warned_at = models.DateTimeField(null=True, blank=True)
    ack_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_warned_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)

    # --- resolution, external route, closing
    proposal_text = models.TextField(_("处理方案"), blank=True)
    proposal_amount = models.DecimalField(_("方案金额"), max_digits=14, decimal_places=2, null=True, blank=True)
    proposed_at = models.DateTimeField(null=True, blank=True)
    refusal_reason = models.TextField(_("拒绝理由"), blank=True)
    outcome = models.CharField(_("处理结果"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("结果说明"), blank=True)
    open_routes = models.JSONField(_("可选外部途径"), default=list, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    external_route = models.CharField(_("外部途径"), max_length=20, choices=ExternalRoute.choices, blank=True)
    external_reference = models.CharField(_("外部案号"), max_length=100, blank=True)
    external_due_at = models.DateTimeField(_("外部程序期限"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("撤回理由"), blank=True)
    reply_text = models.TextField(_("书面答复"), blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    # A legal hold keeps the case and its evidence from being deleted or anonymised, whatever its age.
    legal_hold = models.BooleanField(_("法律保全"), default=False)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("合并至"), null=True, blank=True, on_delete=models.PROTECT, related_name="merged_cases"
    )

    # --- search: CJK bigrams + jieba words + Latin words, indexed by FTS5 / PostgreSQL full text
    search_text = models.TextField(default="", editable=False)

    class Meta:
        verbose_name = _("投诉")
        verbose_name_plural = pgettext_lazy("plural", "投诉")
        indexes = [
            # Equality look-ups only: plain btrees, without the varchar_pattern_ops copy that
            # db_index=True adds on PostgreSQL for LIKE (migration 0011; every insert pays per index).
            models.Index(fields=["complainant_phone_hash"], name="complaint_phone_hash"),
            models.Index(fields=["complainant_email_hash"], name="complaint_email_hash"),
            models.Index(fields=["product_sku"], name="complaint_product_sku"),
            models.Index(fields=["province_code"], name="complaint_province_code"),
            models.Index(fields=["department", "status"]),
            models.Index(fields=["owner", "status"]),
            models.Index(fields=["status", "ack_due_at"]),
            models.Index(fields=["status", "resolution_warn_at"]),
            models.Index(fields=["status", "closed_at"]),
            # --- issue 8: the case list at scale (docs/performance.md) ---
            # Priority + channel + category, the list's common filters, in the order of the default
            # sorting (deadline): the bounded count reads the index alone, the page walks it in order.
            models.Index(
                fields=["priority", "channel", "category", "resolution_due_at"], name="complaint_list_filters_due"
            ),
            # The default list (open cases, nearest deadline first) over the open cases only: the
            # values of choices.OPEN_STATES (a test holds them equal).
            models.Index(
                fields=["resolution_due_at", "ack_due_at"],
                condition=models.Q(
                    status__in=[
                        "accepted",
                        "awaiting_consumer",
                        "external",
                        "in_progress",
                        "new",
                        "reopened",
                        "resolution_proposed",
                    ]
                ),
                name="complaint_open_by_due",
            ),
            # --- end issue 8 ---
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~models.Q(external_id=""),
                name="complaint_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return self.tracking_no


class ComplaintMessage(models.Model):
    """Text added to a case outside the fields: consumer information, staff notes."""

    class Author(models.TextChoices):
        CONSUMER = "consumer", _("投诉人")
        STAFF = "staff", _("员工")

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="messages")
    author_kind = models.CharField(max_length=10, choices=Author.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    # Internal notes are never shown to the consumer.
    internal = models.BooleanField(default=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class DuplicateLink(models.Model):
    """A possible duplicate found at intake: the same complainant, similar text, within the window.
    An agent confirms it (and merges) or dismisses it."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="duplicate_links")
    candidate = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="+")
    score = models.DecimalField(max_digits=4, decimal_places=3)
    status = models.CharField(max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.SUSPECTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["complaint", "candidate"], name="duplicate_link_unique"),
        ]


class CaseShare(models.Model):
    """A case shared with a legal/PR user, who then sees it whatever its level or flags."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shared_complaints")
    shared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["complaint", "user"], name="case_share_unique")]


class TrackingSequence(models.Model):
    """The last tracking-number sequence used on each day (organisation time zone)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class SlaPolicy(models.Model):
    """Acknowledgement and resolution times per priority, optionally for one channel."""

    priority = models.CharField(_("优先级"), max_length=2, choices=Priority.choices)
    channel = models.CharField(_("渠道"), max_length=30, choices=Channel.choices, blank=True)
    ack_hours = models.PositiveIntegerField(_("受理告知时限（小时）"))
    resolution_working_days = models.PositiveIntegerField(_("办结时限（工作日）"))
    warn_ratio = models.DecimalField(_("预警比例"), max_digits=3, decimal_places=2, default=Decimal("0.80"))

    class Meta:
        verbose_name = _("SLA 策略")
        verbose_name_plural = pgettext_lazy("plural", "SLA 策略")
        constraints = [models.UniqueConstraint(fields=["priority", "channel"], name="sla_policy_priority_channel")]

    def __str__(self) -> str:
        return f"{self.priority} {self.channel or '*'}: {self.ack_hours}h / {self.resolution_working_days}d"


class CalendarYear(models.Model):
    """A year whose official schedule an admin entered or imported; it replaces the package's data."""

    year = models.PositiveIntegerField(_("年份"), unique=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("日历年度")
        verbose_name_plural = pgettext_lazy("plural", "日历年度")

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日")  # off, though it may be a weekday
        WORKDAY = "workday", _("调休上班")  # a working weekend day
        CLOSURE = "closure", _("单位停业")  # the organisation's own closure, on top of any schedule

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("日历日")
        verbose_name_plural = pgettext_lazy("plural", "日历日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class RoutingRule(models.Model):
    """At acceptance the first matching active rule (lowest order) picks the department."""

    order = models.PositiveIntegerField(_("顺序"), default=100)
    name = models.CharField(_("名称"), max_length=100)
    active = models.BooleanField(_("启用"), default=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE)
    # Matches when the complaint's SKU or model starts with it.
    product_prefix = models.CharField(_("产品 SKU/型号前缀"), max_length=64, blank=True)
    org_unit = models.ForeignKey(
        "accounts.OrgUnit", null=True, blank=True, on_delete=models.CASCADE, help_text=_("含下级单元")
    )
    # A GB/T 2260 code prefix: "44" Guangdong, "4403" Shenzhen.
    region_prefix = models.CharField(_("地区代码前缀"), max_length=6, blank=True)
    channel = models.CharField(_("渠道"), max_length=30, choices=Channel.choices, blank=True)
    department = models.ForeignKey("accounts.Department", on_delete=models.CASCADE)

    class Meta:
        verbose_name = _("分派规则")
        verbose_name_plural = pgettext_lazy("plural", "分派规则")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


def today_local() -> date:
    return timezone.localdate()
