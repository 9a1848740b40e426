from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    INBOUND = "inbound", _("来电/来信")  # the other side contacted us
    OUTBOUND = "outbound", _("去电/去信")  # we contacted them


class Party(models.TextChoices):
    CONSUMER = "consumer", _("投诉人")
    THIRD_PARTY = "third_party", _("第三方")  # named, with a kind (ThirdPartyKind)


class ThirdPartyKind(models.TextChoices):
    CARRIER = "carrier", _("承运商/快递")
    SUPPLIER = "supplier", _("供应商/生产商")
    REGULATOR = "regulator", _("监管部门")
    MEDIA = "media", _("媒体")
    OTHER = "other", _("其他")


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("电话")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信")
    LETTER = "letter", _("信函")
    VISIT = "visit", _("面谈/上门")
    OTHER = "other", _("其他")


class Language(models.TextChoices):
    """The languages of reply templates (the UI's languages)."""

    ZH_HANS = "zh-hans", _("简体中文")
    EN = "en", _("英文")


class Purpose(models.TextChoices):
    REPLY = "reply", _("书面答复")  # inserted into the written reply
    CONTACT = "contact", _("沟通话术")  # inserted into a contact's summary (what to say on the phone)


class Delivery(models.TextChoices):
    """How a written reply reached the consumer. It is always on the status page; mail is extra."""

    PENDING = "pending", _("邮件待发送")  # scheduled after commit
    SENDING = "sending", _("正在发送邮件")  # claimed by one worker: a retried task does not mail twice
    SENT = "sent", _("已发送邮件")
    FAILED = "failed", _("邮件发送失败")  # the reply stands; the agent may tell the consumer otherwise
    NOT_MAILED = "not_mailed", _("未发邮件（仅在查询页面公布）")  # no e-mail, opted out, or demo data


class SurveySkipped(models.TextChoices):
    """Why closing scheduled no satisfaction survey."""

    NO_CONTACT = "no_contact", _("投诉人未留联系方式")
    OPTED_OUT = "opted_out", _("投诉人选择不需联系")
