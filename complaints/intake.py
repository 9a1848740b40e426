"""What a complaint is made of at intake, validated: types and limits here (pydantic), then what needs
the database (regions, taxonomy, org units) in `check_intake`."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from accounts.models import OrgUnit
from core import configcache
from core.errors import ValidationError
from core.regions import check_region
from core.validation import BoundedDate, BoundedDatetime, no_control
from customers.normalise import normalise_email, normalise_phone

from .choices import Channel, PreferredContact, Priority, Remedy, RiskFlag, Severity
from .models import Category

DESCRIPTION_MAX = 10_000


def _text(max_length: int, min_length: int = 0) -> Any:
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, max_length=max_length, min_length=min_length),
        AfterValidator(no_control),
    ]


Money = Annotated[Decimal, Field(ge=0, le=Decimal("999999999999.99"), max_digits=14, decimal_places=2)]
RegionCode = Annotated[str, StringConstraints(pattern=r"^(\d{6})?$")]


class IntakeData(BaseModel):
    """A complaint as the consumer (or an agent for them) submits it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # complainant
    anonymous: bool = False
    complainant_name: _text(100) = ""  # type: ignore[valid-type]
    complainant_phone: _text(30) = ""  # type: ignore[valid-type]
    complainant_email: _text(254) = ""  # type: ignore[valid-type]
    complainant_address: _text(300) = ""  # type: ignore[valid-type]
    preferred_contact: PreferredContact = PreferredContact.PHONE
    # respondent
    org_unit: int | None = None
    product_name: _text(200) = ""  # type: ignore[valid-type]
    product_sku: _text(64) = ""  # type: ignore[valid-type]
    product_model: _text(100) = ""  # type: ignore[valid-type]
    product_batch: _text(100) = ""  # type: ignore[valid-type]
    order_no: _text(64) = ""  # type: ignore[valid-type]
    purchase_date: BoundedDate | None = None
    amount_paid: Money | None = None
    staff_involved: _text(200) = ""  # type: ignore[valid-type]
    # content
    title: _text(200) = ""  # type: ignore[valid-type]
    description: _text(DESCRIPTION_MAX, 5)  # type: ignore[valid-type]
    occurred_at: BoundedDatetime | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "CN"
    province_code: RegionCode = ""
    city_code: RegionCode = ""
    district_code: RegionCode = ""
    us_state: Annotated[str, StringConstraints(pattern=r"^([A-Z]{2})?$")] = ""
    postal_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z -]{0,12}$")] = ""
    language: Annotated[str, StringConstraints(pattern=r"^(zh-hans|en)$")] = "zh-hans"
    # demands
    remedies_requested: Annotated[list[Remedy], Field(max_length=7)] = []
    amount_claimed: Money | None = None
    # classification the consumer may choose
    category: _text(60) = ""  # type: ignore[valid-type]
    subcategory: _text(60) = ""  # type: ignore[valid-type]

    # what only staff set at registration (phone, letter, walk-in, referrals)
    channel: Channel = Channel.WEB
    priority: Priority = Priority.P3
    severity: Severity = Severity.GENERAL
    risk_flags: Annotated[list[RiskFlag], Field(max_length=7)] = []
    regulator_due_at: BoundedDatetime | None = None

    @field_validator("complainant_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if not value:
            return value
        normalised = normalise_phone(value)
        if normalised is None:
            raise PydanticCustomError("phone_invalid", "not a valid phone number")
        return normalised

    @field_validator("complainant_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not value:
            return value
        normalised = normalise_email(value)
        if normalised is None:
            raise PydanticCustomError("email_invalid", "not a valid e-mail address")
        return normalised

    @field_validator("occurred_at", "regulator_due_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())
        return value

    @field_validator("occurred_at")
    @classmethod
    def _not_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > timezone.now() + timedelta(minutes=5):
            raise PydanticCustomError("future", "must not be in the future")
        return value

    @field_validator("purchase_date")
    @classmethod
    def _date_not_future(cls, value: date | None) -> date | None:
        if value is not None and value > timezone.localdate() + timedelta(days=1):
            raise PydanticCustomError("future", "must not be in the future")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> "IntakeData":
        if not self.anonymous and not (self.complainant_phone or self.complainant_email or self.complainant_address):
            raise PydanticCustomError("contact_required", "give a phone, e-mail or address, or file anonymously")
        return self

    def model_fields_for_complaint(self) -> dict[str, Any]:
        """Field values for the Complaint row (taxonomy and org unit resolved by check_intake)."""
        values = self.model_dump(exclude={"category", "subcategory", "org_unit", "risk_flags"})
        values["remedies_requested"] = [str(r) for r in self.remedies_requested]
        values["preferred_contact"] = str(self.preferred_contact)
        values["channel"] = str(self.channel)
        values["priority"] = str(self.priority)
        values["severity"] = str(self.severity)
        values.update(self._resolved)
        return values

    _resolved: dict[str, Any] = PrivateAttr(default_factory=dict)


def active_category(code: str, parent: Category | None = None) -> Category | None:
    """An active category by code (top level, or under `parent`), from the per-process cache."""

    def load() -> Category | None:
        query = Category.objects.filter(code=code, active=True)
        query = query.filter(parent=parent) if parent is not None else query.filter(parent__isnull=True)
        return query.first()

    return configcache.cached(("category", code, parent.pk if parent else None), load)


def check_intake(data: IntakeData, *, staff: bool) -> IntakeData:
    """Checks that need the database; raises ValidationError naming each field."""
    errors: dict[str, str] = {}
    if not staff:
        for name, default in (
            ("channel", Channel.WEB),
            ("priority", Priority.P3),
            ("severity", Severity.GENERAL),
            ("risk_flags", []),
            ("regulator_due_at", None),
        ):
            if getattr(data, name) != default and name in data.model_fields_set:
                errors[name] = _("只有工作人员登记投诉时可以填写此项。")
    resolved: dict[str, Any] = {"category": None, "subcategory": None, "org_unit": None}
    if data.category:
        category = active_category(data.category)
        if category is None:
            errors["category"] = _("不在投诉分类中：%(code)s") % {"code": data.category}
        resolved["category"] = category
        if data.subcategory and category is not None:
            sub = active_category(data.subcategory, parent=category)
            if sub is None:
                errors["subcategory"] = _("不是所选分类下的子分类：%(code)s") % {"code": data.subcategory}
            resolved["subcategory"] = sub
    elif data.subcategory:
        errors["category"] = _("填写子分类时必须同时填写分类。")
    if data.org_unit is not None:
        unit = OrgUnit.objects.filter(pk=data.org_unit).first()
        if unit is None:
            errors["org_unit"] = _("组织单元不存在。")
        resolved["org_unit"] = unit
    if data.country == "CN":
        try:
            check_region(data.province_code, data.city_code, data.district_code)
        except ValidationError as exc:
            errors.update(exc.errors)
    elif data.province_code or data.city_code or data.district_code:
        errors["province_code"] = _("GB/T 2260 地区代码只用于中国（country=CN）。")
    if data.us_state and data.country != "US":
        errors["us_state"] = _("美国州代码只用于 country=US。")
    if data.channel == Channel.REGULATOR_REFERRAL and staff and data.regulator_due_at is None:
        errors["regulator_due_at"] = _("监管转办的投诉须填写监管机关给出的办结期限。")
    if errors:
        raise ValidationError(errors)
    data._resolved = resolved
    return data
