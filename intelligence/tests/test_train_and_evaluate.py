import json
from io import StringIO

import pytest
from django.core.management import call_command

from intelligence.models import ClassifierModel

from .helpers import real_slice, write_csv

KEYS = {"accuracy", "macro_f1", "weighted_f1", "per_class", "confusion_matrix", "docs_per_second"}


def run(*args: str) -> dict:
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def check_report(report: dict, labels: set[str]) -> None:
    assert KEYS <= set(report)
    for key in ("accuracy", "macro_f1", "weighted_f1"):
        assert 0.0 <= report[key] <= 1.0
    assert report["docs_per_second"] > 0
    assert set(report["per_class"]) == labels
    for scores in report["per_class"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"}
        assert all(0.0 <= scores[k] <= 1.0 for k in ("precision", "recall", "f1"))
    matrix = report["confusion_matrix"]
    assert matrix["labels"] == sorted(labels)
    assert sum(map(sum, matrix["matrix"])) == sum(s["support"] for s in report["per_class"].values())


@pytest.mark.django_db
def test_cocc_slice_trains_and_evaluates_to_json_with_every_key(tmp_path):
    rows = real_slice("cocc_telecom_complaints.csv", "text", "label", per_class=90)
    train, test = rows[::2], rows[1::2]  # interleaved: every class in both halves
    write_csv(tmp_path / "train.csv", train)
    write_csv(tmp_path / "test.csv", test)
    trained = run(
        "train_classifier",
        "--data",
        str(tmp_path / "train.csv"),
        "--format",
        "csv",
        "--text-field",
        "text",
        "--label-field",
        "label",
        "--target",
        "cocc",
        "--activate",
    )
    assert trained["version"] == 1 and trained["active"] is True
    assert trained["training"]["rows"] == len(train)
    assert set(trained["training"]["classes"]) == {r["label"] for r in rows}
    report = run(
        "evaluate_classifier",
        "--data",
        str(tmp_path / "test.csv"),
        "--format",
        "csv",
        "--text-field",
        "text",
        "--label-field",
        "label",
        "--target",
        "cocc",
    )
    check_report(report, {r["label"] for r in rows})
    assert report["accuracy"] > 0.6  # eight classes: chance is 0.125


@pytest.mark.django_db
def test_cfpb_slice_trains_with_the_cfpb_format_and_evaluates(tmp_path):
    rows = real_slice("cfpb_narratives.csv", "narrative", "product_group", per_class=60, min_count=50)
    for row in rows:
        row["Consumer complaint narrative"] = row.pop("text")
        row["Product group"] = row.pop("label")
    write_csv(tmp_path / "train.csv", rows[::2])
    write_csv(tmp_path / "test.csv", rows[1::2])
    trained = run(
        "train_classifier",
        "--data",
        str(tmp_path / "train.csv"),
        "--format",
        "cfpb",
        "--label-field",
        "Product group",
        "--target",
        "product_group",
        "--activate",
    )
    assert trained["training"]["text_field"] is None  # the CFPB narrative column, found by name
    assert trained["metrics"]["measured_on"].startswith("stratified hold-out")
    report = run(
        "evaluate_classifier",
        "--data",
        str(tmp_path / "test.csv"),
        "--format",
        "cfpb",
        "--label-field",
        "Product group",
        "--target",
        "product_group",
    )
    check_report(report, {r["Product group"] for r in rows})
    assert report["accuracy"] > 0.6


@pytest.mark.django_db
def test_cross_validation_reports_mean_and_spread_without_storing_a_model(tmp_path):
    rows = real_slice("cocc_telecom_complaints.csv", "text", "label", per_class=25)
    write_csv(tmp_path / "all.csv", rows)
    report = run(
        "evaluate_classifier",
        "--data",
        str(tmp_path / "all.csv"),
        "--text-field",
        "text",
        "--label-field",
        "label",
        "--target",
        "cocc",
        "--cv",
        "3",
    )
    assert report["folds"] == 3 and len(report["per_fold"]) == 3
    assert 0 <= report["macro_f1_std"] <= report["macro_f1"] <= 1
    assert not ClassifierModel.objects.exists()


@pytest.mark.django_db
def test_jsonl_data_trains(tmp_path):
    rows = real_slice("cocc_telecom_complaints.csv", "text", "label", per_class=10)
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps({"body": r["text"], "kind": r["label"]}, ensure_ascii=False) for r in rows))
    trained = run(
        "train_classifier",
        "--data",
        str(path),
        "--format",
        "jsonl",
        "--text-field",
        "body",
        "--label-field",
        "kind",
        "--target",
        "kind",
    )
    assert trained["training"]["rows"] == len(rows) and trained["active"] is False
