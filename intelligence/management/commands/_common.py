"""Arguments shared by train_classifier and evaluate_classifier."""

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from intelligence.datasets import FORMATS, MIN_PER_CLASS, DataError, Labelled, load


def add_data_arguments(parser: CommandParser) -> None:
    parser.add_argument("--data", help="CSV / JSONL file (not needed with --format db)")
    parser.add_argument("--format", choices=FORMATS, default="csv", help="cfpb, csv, jsonl or db (our own cases)")
    parser.add_argument("--text-field", help="column holding the text (cfpb: 'Consumer complaint narrative')")
    parser.add_argument("--label-field", help="column holding the label (db: the case field; default: the target)")
    parser.add_argument("--target", required=True, help="what is predicted: category, priority, department or any name")


def read_data(options: dict[str, Any], *, min_per_class: int = MIN_PER_CLASS) -> Labelled:
    if options["format"] != "db" and not options["data"]:
        raise CommandError(_("请用 --data 指定数据文件。"))
    try:
        return load(
            options["data"],
            options["format"],
            text_field=options["text_field"],
            label_field=options["label_field"],
            target=options["target"],
            min_per_class=min_per_class,
        )
    except DataError as error:
        raise CommandError(str(error)) from error


def user_named(username: str | None):  # type: ignore[no-untyped-def]
    if not username:
        return None
    from accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(_("没有用户“%(name)s”。") % {"name": username})
    return user
