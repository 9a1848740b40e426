"""Admin actions on classifier versions: activate, roll back, deactivate, retrain from our own cases.
Read-only otherwise: versions change only through intelligence.actions (the model audit chain)."""

from typing import Any

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.choices import Role
from complaints.permissions import Principal
from core.admin import ReadOnlyAdmin
from core.errors import DomainError

from . import actions
from .engine import ModelError
from .models import ClassifierModel, ModelEvent, Prediction


def _is_admin(request: Any) -> bool:
    return bool(request.user.is_superuser or Principal.of(request.user).has(Role.ADMIN))


@admin.register(ClassifierModel)
class ClassifierModelAdmin(ReadOnlyAdmin):
    list_display = ("target", "version", "active", "created_at", "created_by", "rows", "accuracy", "macro_f1")
    list_filter = ("target", "active")
    actions = ["activate", "rollback", "deactivate", "retrain_from_cases"]

    @admin.display(description=gettext_lazy("训练行数"))
    def rows(self, obj: ClassifierModel) -> Any:
        return obj.training.get("rows")

    @admin.display(description=gettext_lazy("准确率"))
    def accuracy(self, obj: ClassifierModel) -> Any:
        return obj.metrics.get("accuracy")

    @admin.display(description="macro-F1")
    def macro_f1(self, obj: ClassifierModel) -> Any:
        return obj.metrics.get("macro_f1")

    def _run(self, request: Any, queryset: Any, work: Any) -> None:
        if not _is_admin(request):
            self.message_user(request, _("只有管理员可以管理分类模型。"), messages.ERROR)
            return
        for model in queryset:
            try:
                done = work(model)
            except (DomainError, ModelError) as error:
                self.message_user(request, f"{model}: {error}", messages.ERROR)
            else:
                self.message_user(request, done, messages.SUCCESS)

    @admin.action(description=gettext_lazy("启用所选版本"))
    def activate(self, request: Any, queryset: Any) -> None:
        def work(model: ClassifierModel) -> str:
            actions.activate(model, user=request.user)
            return _("已启用 %(model)s。") % {"model": model}

        self._run(request, queryset, work)

    @admin.action(description=gettext_lazy("回滚所选目标到上一个启用过的版本"))
    def rollback(self, request: Any, queryset: Any) -> None:
        targets = sorted({m.target for m in queryset})

        def work(target: str) -> str:
            model = actions.rollback(target, user=request.user)
            return _("已回滚到 %(model)s。") % {"model": model}

        self._run(request, targets, work)

    @admin.action(description=gettext_lazy("停用所选目标的模型"))
    def deactivate(self, request: Any, queryset: Any) -> None:
        targets = sorted({m.target for m in queryset.filter(active=True)})

        def work(target: str) -> str:
            actions.deactivate(target, user=request.user)
            return _("已停用目标 %(target)s 的模型。") % {"target": target}

        self._run(request, targets, work)

    @admin.action(description=gettext_lazy("用本机构的投诉记录（含人工更正）重新训练所选目标"))
    def retrain_from_cases(self, request: Any, queryset: Any) -> None:
        from .tasks import train_from_cases

        targets = sorted({m.target for m in queryset})

        def work(target: str) -> str:
            train_from_cases.enqueue(target, request.user.pk)
            return _("已排队重新训练目标 %(target)s（训练完成后需手动启用）。") % {"target": target}

        self._run(request, targets, work)


@admin.register(ModelEvent)
class ModelEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "action", "target", "model", "actor_label", "created_at")
    list_filter = ("action", "target")


@admin.register(Prediction)
class PredictionAdmin(ReadOnlyAdmin):
    list_display = ("complaint", "target", "label", "confidence", "applied", "corrected_to", "created_at")
    list_filter = ("target", "applied")
    list_select_related = ("complaint",)
