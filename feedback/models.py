"""Satisfaction surveys (ISO 10004), their answers and rules; call-backs (回访) and their rules."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .choices import CallbackRuleKind, CallbackSource, CallbackStatus, RuleAction, Solved, SurveyStatus


class Survey(models.Model):
    """The satisfaction survey of a case: one per case. A reopening cancels an unanswered one; closing
    again restarts it (a new `round`) unless it was answered. The link's token is signed at render
    time from (id, round) and never stored, so a link of an earlier round no longer opens it."""

    complaint = models.OneToOneField("complaints.Complaint", on_delete=models.PROTECT, related_name="survey")
    closing = models.ForeignKey("casework.ClosingChecklist", null=True, blank=True, on_delete=models.PROTECT)
    status = models.CharField(_("状态"), max_length=12, choices=SurveyStatus.choices, default=SurveyStatus.SCHEDULED)
    round = models.PositiveSmallIntegerField(default=1)
    due_at = models.DateTimeField(_("计划发送时间"), db_index=True)
    sent_at = models.DateTimeField(_("已发送"), null=True, blank=True)
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("满意度调查")
        verbose_name_plural = pgettext_lazy("plural", "满意度调查")
        indexes = [models.Index(fields=["status", "due_at"]), models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.status}"


class SurveyAnswer(models.Model):
    """The consumer's one answer for a case. Unique per survey and per case, so that two concurrent
    posts cannot both be recorded. The comment is blanked when the person is erased; scores stay."""

    survey = models.OneToOneField(Survey, on_delete=models.PROTECT, related_name="answer")
    complaint = models.OneToOneField("complaints.Complaint", on_delete=models.PROTECT, related_name="survey_answer")
    outcome = models.PositiveSmallIntegerField(_("对处理结果的满意度"))
    handling = models.PositiveSmallIntegerField(_("对处理过程的满意度"))
    solved = models.CharField(_("问题是否解决"), max_length=6, choices=Solved.choices)
    comment = models.TextField(_("意见"), blank=True)
    language = models.CharField(max_length=10, default="zh-hans")
    answered_at = models.DateTimeField(_("回答时间"), default=timezone.now, db_index=True)
    # What the survey rules did with the answer (reopened / call-back / nothing), for the case panel.
    rule = models.ForeignKey("SurveyRule", null=True, blank=True, on_delete=models.SET_NULL)
    rule_result = models.CharField(max_length=20, blank=True)
    # When the rules ran (in the same transaction as what they did); empty: not yet, and the job
    # apply_pending_survey_rules takes over an answer left so by a lost worker.
    rules_applied_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("满意度回答")
        verbose_name_plural = pgettext_lazy("plural", "满意度回答")
        constraints = [
            models.CheckConstraint(condition=models.Q(outcome__gte=1, outcome__lte=5), name="survey_outcome_1_5"),
            models.CheckConstraint(condition=models.Q(handling__gte=1, handling__lte=5), name="survey_handling_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.outcome}/{self.handling} {self.solved}"


class SurveyRule(models.Model):
    """What a poor answer sets off. The first active rule (lowest order) that matches applies: a score
    (outcome or handling) at or below `score_at_most`, or the problem not solved."""

    order = models.PositiveIntegerField(_("顺序"), default=100)
    name = models.CharField(_("名称"), max_length=100)
    active = models.BooleanField(_("启用"), default=True)
    score_at_most = models.PositiveSmallIntegerField(
        _("低分阈值"), null=True, blank=True, help_text=_("结果或过程评分不高于此值即触发；留空则不按评分")
    )
    when_not_solved = models.BooleanField(_("问题未解决时触发"), default=False)
    action = models.CharField(_("动作"), max_length=10, choices=RuleAction.choices, default=RuleAction.CALLBACK)

    class Meta:
        verbose_name = _("满意度规则")
        verbose_name_plural = pgettext_lazy("plural", "满意度规则")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score_at_most__isnull=True) | models.Q(score_at_most__gte=1, score_at_most__lte=5),
                name="survey_rule_threshold_1_5",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def matches(self, outcome: int, handling: int, solved: str) -> bool:
        low = self.score_at_most is not None and min(outcome, handling) <= self.score_at_most
        return low or (self.when_not_solved and solved == Solved.NO)


class CallbackRule(models.Model):
    """Which closed cases get a call-back. The first active rule (lowest order) that chooses a case
    gives the call-back its reason."""

    order = models.PositiveIntegerField(_("顺序"), default=100)
    name = models.CharField(_("名称"), max_length=100)
    active = models.BooleanField(_("启用"), default=True)
    kind = models.CharField(_("类型"), max_length=14, choices=CallbackRuleKind.choices)
    priorities = models.JSONField(_("优先级"), default=list, blank=True, help_text=_('例如 ["P1", "P2"]'))
    percent = models.DecimalField(_("抽样比例（%）"), max_digits=5, decimal_places=2, default=0)
    seed = models.CharField(
        _("抽样种子"), max_length=40, blank=True, help_text=_("改变种子即换一批样本；同一种子下同一投诉的结果不变")
    )

    class Meta:
        verbose_name = _("回访规则")
        verbose_name_plural = pgettext_lazy("plural", "回访规则")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent__gte=0, percent__lte=100), name="callback_rule_percent_0_100"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Callback(models.Model):
    """A call-back (回访) to the complainant after closing: due 7 days after closing by default."""

    complaint = models.ForeignKey("complaints.Complaint", on_delete=models.PROTECT, related_name="callbacks")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="callbacks"
    )
    due_at = models.DateTimeField(_("回访到期"), db_index=True)
    source = models.CharField(_("来源"), max_length=8, choices=CallbackSource.choices)
    rule = models.ForeignKey(CallbackRule, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.CharField(_("回访原因"), max_length=200)
    status = models.CharField(_("状态"), max_length=10, choices=CallbackStatus.choices, default=CallbackStatus.OPEN)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)
    reached = models.BooleanField(_("已联系上"), null=True, blank=True)
    satisfied = models.BooleanField(_("满意"), null=True, blank=True)
    note = models.TextField(_("回访记录"), blank=True)
    linked_complaint = models.ForeignKey(
        "complaints.Complaint",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("新投诉"),
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = pgettext_lazy("plural", "回访")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["assignee", "status", "due_at"]), models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.reason}"

    @property
    def overdue(self) -> bool:
        return self.status == CallbackStatus.OPEN and self.due_at < timezone.now()
