"""Events, channels, statuses and purposes of notifications."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    """The messages this app sends. Other apps may add events of their own (e.g. callback_followup)
    by adding templates for them; these are the ones with seeded templates."""

    ACKNOWLEDGED = "acknowledged", _("已受理")  # case action accept
    ASSIGNED = "assigned", _("已分派")  # assign
    AWAITING_INFORMATION = "awaiting_information", _("待补充信息")  # wait_for_consumer
    REMEDY_PROPOSED = "remedy_proposed", _("已提出处理方案")  # propose_resolution
    RESOLVED = "resolved", _("已解决")  # resolve, accept_proposal, an external outcome that resolves
    SURVEY = "survey", _("满意度调查")  # sent by the feedback app through notify_consumer
    REOPENED = "reopened", _("已重开")  # reopen
    SLA_WARNING = "sla_warning", _("时限预警（员工）")  # staff only
    SLA_BREACH = "sla_breach", _("已超时（员工）")  # staff only


# Events whose messages go to staff, never to the consumer.
STAFF_EVENTS = frozenset({Event.SLA_WARNING, Event.SLA_BREACH})


class Channel(models.TextChoices):
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("简体中文")
    EN = "en", _("英文")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")  # waiting for its (next) attempt
    SENT = "sent", _("已发送")  # accepted by the mail server / SMS gateway / webhook receiver
    FAILED = "failed", _("发送失败")  # every attempt of the retry schedule failed
    SKIPPED = "skipped", _("未发送")  # opted out, or no contact wanted; the reason is in last_error


class Purpose(models.TextChoices):
    """What a consumer can opt out of."""

    ALL = "all", _("全部消息")  # an opt-out only; messages have a narrower purpose
    UPDATES = "updates", _("投诉进展通知")
    SURVEY = "survey", _("满意度调查")


def purpose_of(event: str) -> str:
    return Purpose.SURVEY if event == Event.SURVEY else Purpose.UPDATES
