from django.db import models
from django.utils.translation import gettext_lazy as _


class RemedyKind(models.TextChoices):
    """DESIGN.md §2: 道歉/解释/维修/更换/退货退款/赔偿/补偿/纠正措施."""

    APOLOGY = "apology", _("道歉")
    EXPLANATION = "explanation", _("解释说明")
    REPAIR = "repair", _("维修")
    REPLACEMENT = "replacement", _("更换")
    RETURN_REFUND = "return_refund", _("退货退款")
    COMPENSATION = "compensation", _("赔偿")  # money for a loss, or statutory additional compensation
    GOODWILL = "goodwill", _("补偿（礼品、优惠券）")  # a gesture, not owed
    SERVICE_UPGRADE = "service_upgrade", _("服务升级")
    CORRECTIVE_ACTION = "corrective_action", _("纠正措施")  # a change in the organisation, not for the consumer


# Kinds whose amounts need approval above the proposer's authority limit (DESIGN.md §5).
NEEDS_AUTHORITY = frozenset({RemedyKind.COMPENSATION, RemedyKind.GOODWILL})


class RemedyStatus(models.TextChoices):
    PROPOSED = "proposed", _("已提出")  # within the proposer's authority (or needs none): may be executed
    PENDING_APPROVAL = "pending_approval", _("待审批")  # above the proposer's authority: up the chain
    APPROVED = "approved", _("已批准")  # every required approval given: may be executed
    REJECTED = "rejected", _("已驳回")  # an approver said no (with a comment); final
    PAID = "paid", _("已执行/已支付")  # executed; money paid with a reference
    CANCELLED = "cancelled", _("已取消")  # withdrawn before execution


# Remedies that count as authorised (for totals and for payment).
AUTHORISED = frozenset({RemedyStatus.PROPOSED, RemedyStatus.APPROVED})
# Remedies still waiting for a decision or an execution (may be cancelled).
LIVE = frozenset({RemedyStatus.PROPOSED, RemedyStatus.PENDING_APPROVAL, RemedyStatus.APPROVED})


class Step(models.TextChoices):
    """One approval a remedy needs. Supervisor and manager steps are filled by anyone whose authority
    covers the amount; above the managers' limit legal and an executive both approve."""

    SUPERVISOR = "supervisor", _("主管审批")
    MANAGER = "manager", _("经理审批")
    LEGAL = "legal", _("法务审批")
    EXECUTIVE = "executive", _("高管审批")  # a manager of a top-level org unit (the company)


class Decision(models.TextChoices):
    APPROVE = "approve", _("批准")
    REJECT = "reject", _("驳回")


class LimitRole(models.TextChoices):
    """The roles that carry an authority limit (accounts.Role values)."""

    AGENT = "agent", _("客服/投诉专员")
    SUPERVISOR = "supervisor", _("主管")
    MANAGER = "manager", _("经理")


# Defaults when no AuthorityLimit row applies (the data migration seeds the same values).
DEFAULT_LIMITS = {LimitRole.AGENT: 200, LimitRole.SUPERVISOR: 2_000, LimitRole.MANAGER: 20_000}

# Currencies a remedy may be given in. Authority limits are in CNY; an amount in another currency
# that needs authority always goes to the top of the chain (docs/remedies.md).
CURRENCIES = ("CNY", "HKD", "MOP", "TWD", "USD", "EUR", "GBP", "JPY")


class OfferSide(models.TextChoices):
    """Who made an offer of the negotiation thread."""

    ORGANISATION = "organisation", _("本单位")  # a staff member's proposal (propose_resolution)
    CONSUMER = "consumer", _("投诉人")  # the consumer's counter-offer


class OfferStatus(models.TextChoices):
    OPEN = "open", _("待答复")  # waiting for the other side (an organisation offer until it expires)
    ACCEPTED = "accepted", _("已接受")  # the consumer accepted it: the settlement agreement follows
    REFUSED = "refused", _("已拒绝")  # the consumer refused it, with a reason
    COUNTERED = "countered", _("已还价")  # answered by a counter-offer (either side)
    WITHDRAWN = "withdrawn", _("已撤回")  # withdrawn by staff, or replaced by a newer offer
    EXPIRED = "expired", _("已过期")  # not answered within its validity
    LAPSED = "lapsed", _("已失效")  # the case left the negotiation (withdrawn, external route, decided)


# Offers that still wait for an answer.
OFFER_OPEN = frozenset({OfferStatus.OPEN})
