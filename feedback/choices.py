"""Statuses and answers of the satisfaction survey and the call-back."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("待发送")  # waiting for its due date (N working days after resolution)
    SENT = "sent", _("已发送")  # the link is out; answerable until expires_at
    ANSWERED = "answered", _("已回答")  # the one answer of the case is in (SurveyAnswer)
    EXPIRED = "expired", _("已过期")  # sent, not answered in time
    CANCELLED = "cancelled", _("已取消")  # the case was reopened before the survey was answered
    NOT_SENT = "not_sent", _("未发送")  # the consumer may not be contacted for surveys (opt-out)


# A survey whose link may still be answered.
ANSWERABLE = frozenset({SurveyStatus.SENT})
# States a re-closing may restart (a fresh survey); an answered survey is never replaced.
RESTARTABLE = frozenset(
    {SurveyStatus.SCHEDULED, SurveyStatus.SENT, SurveyStatus.EXPIRED, SurveyStatus.CANCELLED, SurveyStatus.NOT_SENT}
)


class Solved(models.TextChoices):
    YES = "yes", _("已解决")
    PARTLY = "partly", _("部分解决")
    NO = "no", _("未解决")


class RuleAction(models.TextChoices):
    CALLBACK = "callback", _("安排跟进回访")  # a follow-up call-back for the case owner
    # Reopen when the case is closed and within the reopen window; otherwise a follow-up call-back.
    REOPEN = "reopen", _("重开投诉（超出期限则安排回访）")


class CallbackRuleKind(models.TextChoices):
    PRIORITY = "priority", _("按优先级")  # every case of the listed priorities
    COMPENSATION = "compensation", _("有赔偿/补偿金额")  # every case with a paid remedy that has an amount
    SAMPLE = "sample", _("随机抽样")  # a stable pseudo-random share of the rest (hash of number and seed)


class CallbackStatus(models.TextChoices):
    OPEN = "open", _("待回访")  # not yet reached (attempts may already be counted)
    DONE = "done", _("已完成")  # reached, the outcome recorded
    CANCELLED = "cancelled", _("已取消")  # e.g. the case was reopened: the handling continues instead


class CallbackSource(models.TextChoices):
    RULE = "rule", _("回访规则")  # chosen at closing by a CallbackRule
    SURVEY = "survey", _("满意度跟进")  # a low survey answer (SurveyRule)
