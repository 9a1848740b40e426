from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NEW = "new", _("已登记")  # received; the 201 of intake is the receipt
    ACCEPTED = "accepted", _("已受理")  # classified, prioritised, consumer told: the acknowledgement
    REJECTED = "rejected", _("不予受理")  # with a reason told to the consumer; one appeal
    IN_PROGRESS = "in_progress", _("处理中")  # the owner works on it
    AWAITING_CONSUMER = "awaiting_consumer", _("待投诉人补充")  # the SLA clock pauses
    RESOLUTION_PROPOSED = "resolution_proposed", _("方案待确认")  # the consumer accepts or refuses
    EXTERNAL = "external", _("外部程序中")  # mediation, arbitration, court or regulator
    RESOLVED = "resolved", _("已解决")  # with an outcome
    CLOSED = "closed", _("已结案")  # reply sent, closing checklist met
    REOPENED = "reopened", _("已重开")  # the consumer was dissatisfied within the reopen window
    WITHDRAWN = "withdrawn", _("已撤回")  # by the consumer, with a reason
    ARCHIVED = "archived", _("已归档")  # read-only for everyone
    MERGED = "merged", _("已合并")  # a confirmed duplicate, folded into another case (merged_into)


OPEN_STATES = frozenset(
    {
        Status.NEW,
        Status.ACCEPTED,
        Status.IN_PROGRESS,
        Status.AWAITING_CONSUMER,
        Status.RESOLUTION_PROPOSED,
        Status.EXTERNAL,
        Status.REOPENED,
    }
)
# States in which the resolution clock does not run.
PAUSED_STATES = frozenset({Status.AWAITING_CONSUMER, Status.EXTERNAL})


class Channel(models.TextChoices):
    WEB = "web", _("网页")
    API = "api", _("接口")
    EMAIL = "email", _("电子邮件")
    PHONE = "phone", _("电话")
    LETTER = "letter", _("信函")
    WALK_IN = "walk_in", _("来访")
    WECHAT = "wechat", _("微信")
    SOCIAL_MEDIA = "social_media", _("社交媒体")
    ECOMMERCE_PLATFORM = "ecommerce_platform", _("电商平台")
    REGULATOR_REFERRAL = "regulator_referral", _("监管转办")
    OTHER = "other", _("其他")


class DuplicateStatus(models.TextChoices):
    SUSPECTED = "suspected", _("疑似重复")  # found at intake, for an agent to confirm or dismiss
    CONFIRMED = "confirmed", _("确认重复")  # the agent merged the cases
    DISMISSED = "dismissed", _("不是重复")


class Severity(models.TextChoices):
    MINOR = "minor", _("轻微")
    GENERAL = "general", _("一般")
    SERIOUS = "serious", _("严重")
    MAJOR = "major", _("重大")


class Priority(models.TextChoices):
    P1 = "P1", _("P1 紧急")
    P2 = "P2", _("P2 高")
    P3 = "P3", _("P3 中")  # the default until someone or a model sets another
    P4 = "P4", _("P4 低")


class Nature(models.TextChoices):
    # A human decision, never automatic.
    VALID = "valid", _("有效投诉")
    UNFOUNDED = "unfounded", _("不实投诉")
    MALICIOUS = "malicious", _("恶意投诉")


class ComplainantType(models.TextChoices):
    DETAIL_ORIENTED = "detail_oriented", _("挑剔型")
    NEGOTIATOR = "negotiator", _("谈判型")
    VENTING = "venting", _("宣泄型")


class Remedy(models.TextChoices):
    REFUND = "refund", _("退款")
    REPLACEMENT = "replacement", _("更换")
    REPAIR = "repair", _("维修")
    COMPENSATION = "compensation", _("赔偿")
    APOLOGY = "apology", _("道歉")
    EXPLANATION = "explanation", _("解释说明")
    OTHER = "other", _("其他")


class PreferredContact(models.TextChoices):
    PHONE = "phone", _("电话")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    MAIL = "mail", _("信函")
    NONE = "none", _("不需联系")


class RiskFlag(models.TextChoices):
    SAFETY = "safety", _("安全/健康隐患")
    MEDIA = "media", _("媒体曝光威胁")
    LEGAL = "legal", _("诉讼威胁")
    REGULATOR = "regulator", _("监管投诉")
    REPEAT = "repeat", _("重复投诉")
    GROUP = "group", _("群体投诉")
    VULNERABLE = "vulnerable", _("弱势消费者")


class Outcome(models.TextChoices):
    ACCEPTED = "accepted", _("投诉人接受方案")  # the consumer accepted the proposed remedy
    EXECUTED = "executed", _("已执行补救")  # the remedy was executed without a proposal
    FINAL_DECISION = "final_decision", _("最终决定")  # issued after a refusal, naming the external routes
    EXTERNAL_DECISION = "external_decision", _("外部程序结论")  # mediation/arbitration/court/regulator decided


class ExternalRoute(models.TextChoices):
    MEDIATION = "mediation", _("调解")
    ARBITRATION = "arbitration", _("仲裁")
    LITIGATION = "litigation", _("诉讼")
    REGULATOR = "regulator", _("市场监管/12315")


class EscalationLevel(models.IntegerChoices):
    FRONTLINE = 0, _("L0 一线")
    SUPERVISOR = 1, _("L1 主管")
    DEPARTMENT_HEAD = 2, _("L2 部门负责人/经理")
    CRISIS = 3, _("L3 法务/公关危机小组")


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", _("正常")
    WARNING = "warning", _("预警")
    BREACHED = "breached", _("超时")
    PAUSED = "paused", _("暂停")
    STOPPED = "stopped", _("已停止")  # the case is no longer open
