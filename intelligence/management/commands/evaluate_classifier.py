import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from intelligence import actions, engine
from intelligence.datasets import DataError
from intelligence.models import ClassifierModel

from ._common import add_data_arguments, read_data


class Command(BaseCommand):
    help = (
        "Evaluate the active (or --model-version) classifier of a target on labelled data, or with --cv K "
        "cross-validate a fresh model on it; prints one JSON object (accuracy, macro_f1, weighted_f1, "
        "per_class, confusion_matrix, docs_per_second)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_data_arguments(parser)
        parser.add_argument("--model-version", type=int, help="a stored version (default: the active one)")
        parser.add_argument("--cv", type=int, help="stratified K-fold cross-validation of a fresh model instead")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["cv"] is not None:
            if options["cv"] < 2:
                raise CommandError(_("--cv 至少为 2。"))
            data = read_data(options)
            try:
                result = engine.cross_validate(data, folds=options["cv"], n_jobs=2)
            except DataError as error:
                raise CommandError(str(error)) from error
            result = {"target": options["target"], "data": data.source, "rows": len(data.texts), **result}
        else:
            models = ClassifierModel.objects.filter(target=options["target"])
            if options["model_version"] is not None:
                model = models.filter(version=options["model_version"]).first()
            else:
                model = models.filter(active=True).first()
            if model is None:
                raise CommandError(
                    _("目标“%(target)s”没有启用的（或指定版本的）模型；请先训练并启用，或用 --cv 5 交叉验证。")
                    % {"target": options["target"]}
                )
            # Every class is measured, however small (a class with one row still counts).
            data = read_data(options, min_per_class=1)
            try:
                result = actions.evaluate(model, data)
            except engine.ModelError as error:
                raise CommandError(str(error)) from error
        self.stdout.write(json.dumps(result, ensure_ascii=False))
