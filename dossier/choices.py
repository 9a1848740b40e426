from django.db import models
from django.utils.translation import gettext_lazy as _


class Decision(models.TextChoices):
    """What the external body decided (ISO 10003: the outcome of the external dispute resolution)."""

    UPHELD = "upheld", _("支持投诉人请求")
    PARTLY_UPHELD = "partly_upheld", _("部分支持")
    NOT_UPHELD = "not_upheld", _("驳回投诉人请求")
    SETTLED = "settled", _("调解/和解达成")  # an agreement before the body
    NO_AGREEMENT = "no_agreement", _("调解不成")  # mediation failed; the case comes back
    WITHDRAWN = "withdrawn", _("撤回/撤诉")
    RETURNED = "returned", _("退回企业处理")  # the regulator hands the complaint back to us


class DocumentDirection(models.TextChoices):
    """Which way a document of an external procedure went."""

    SENT = "sent", _("我方提交/发出")  # our statement, evidence bundle, reply to the regulator
    RECEIVED = "received", _("收到")  # notice, summons, award, judgment, the regulator's letter
