import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ValidationError
from intelligence import actions

from ._common import add_data_arguments, read_data, user_named


class Command(BaseCommand):
    help = "Train a new version of a classifier on labelled history; prints the version and its metrics as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        add_data_arguments(parser)
        parser.add_argument("--activate", action="store_true", help="activate the new version at once")
        parser.add_argument("--user", help="the admin who trains (recorded in the model audit chain)")
        parser.add_argument("--jobs", type=int, default=2, help="processes for the calibration folds (default 2)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = user_named(options["user"])
        started = time.perf_counter()
        data = read_data(options)
        try:
            model = actions.train(
                data,
                target=options["target"],
                user=user,
                n_jobs=max(1, options["jobs"]),
                details={
                    "format": options["format"],
                    "text_field": options["text_field"],
                    "label_field": options["label_field"],
                },
            )
            if options["activate"]:
                actions.activate(model, user=user)
        except ValidationError as error:
            raise CommandError(str(error)) from error
        result = {
            "target": model.target,
            "version": model.version,
            "active": model.active,
            "sha256": model.blob_sha256,
            "training": model.training,
            "metrics": model.metrics,
            "seconds": round(time.perf_counter() - started, 2),
        }
        self.stdout.write(json.dumps(result, ensure_ascii=False))
