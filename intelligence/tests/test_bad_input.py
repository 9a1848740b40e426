"""Bad data gives a clear error or a "not enough data" answer: never a crash, never a silent default."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from intelligence import engine
from intelligence.datasets import DataError, NotEnoughData, load
from intelligence.features import has_content, normalise

from .helpers import made_up, write_csv


def train(path, *extra: str) -> str:  # type: ignore[no-untyped-def]
    out = StringIO()
    call_command("train_classifier", "--data", str(path), "--target", "category", *extra, stdout=out)
    return out.getvalue()


def rows(n: int, labels: list[str]) -> list[dict[str, str]]:
    return [{"text": f"快递没有送到，第{i}次投诉", "label": labels[i % len(labels)]} for i in range(n)]


@pytest.mark.django_db
def test_an_empty_file_is_not_enough_data(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(CommandError, match="空的"):
        train(tmp_path / "empty.csv", "--text-field", "text", "--label-field", "label")


@pytest.mark.django_db
def test_a_label_column_with_one_class_is_not_enough_data(tmp_path):
    write_csv(tmp_path / "one.csv", rows(40, ["delivery"]))
    with pytest.raises(CommandError, match="至少需要两个"):
        train(tmp_path / "one.csv", "--text-field", "text", "--label-field", "label")


@pytest.mark.django_db
def test_wrong_columns_are_named_with_the_columns_the_file_has(tmp_path):
    write_csv(tmp_path / "cols.csv", rows(40, ["a", "b"]))
    with pytest.raises(CommandError, match=r"没有列 body.*text, label"):
        train(tmp_path / "cols.csv", "--text-field", "body", "--label-field", "label")


def test_an_unknown_format_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("train_classifier", "--data", "x.csv", "--format", "xlsx", "--target", "category")
    with pytest.raises(DataError, match="未知的数据格式"):
        load("x.csv", "xlsx", text_field="t", label_field="l", target="category")


@pytest.mark.django_db
def test_a_file_in_the_wrong_format_says_so(tmp_path):
    path = write_csv(tmp_path / "data.csv", rows(40, ["a", "b"]))
    with pytest.raises(CommandError, match="第 1 行不是 JSON"):
        train(path, "--format", "jsonl", "--text-field", "text", "--label-field", "label")
    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows(40, ["a", "b"])))
    with pytest.raises(CommandError, match="看起来是 JSON"):
        train(jsonl, "--format", "csv", "--text-field", "text", "--label-field", "label")
    (tmp_path / "binary.csv").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(CommandError, match="空字节"):
        train(tmp_path / "binary.csv", "--text-field", "text", "--label-field", "label")
    with pytest.raises(CommandError, match="找不到"):
        train(tmp_path / "missing.csv", "--text-field", "text", "--label-field", "label")


def test_emoji_or_digit_only_texts_are_skipped_and_counted(tmp_path):
    data = [
        *rows(40, ["a", "b"]),
        {"text": "😡😡😡", "label": "a"},
        {"text": "12345", "label": "b"},
        {"text": "", "label": "a"},
    ]
    data += [{"text": "没有标签的投诉", "label": ""}]
    labelled = load(str(write_csv(tmp_path / "d.csv", data)), "csv", text_field="text", label_field="label", target="t")
    assert len(labelled.texts) == 40
    assert labelled.skipped == {"no_letters": 2, "empty_text": 1, "no_label": 1}
    only_emoji = [{"text": "😡🙏", "label": "ab"[i % 2]} for i in range(40)]
    with pytest.raises(NotEnoughData, match="数据不足"):
        load(str(write_csv(tmp_path / "e.csv", only_emoji)), "csv", text_field="text", label_field="label", target="t")


def test_rare_classes_are_dropped_and_reported(tmp_path):
    labelled = load(
        str(write_csv(tmp_path / "r.csv", rows(40, ["a", "b"]) + rows(2, ["rare"]))),
        "csv",
        text_field="text",
        label_field="label",
        target="t",
    )
    assert labelled.dropped_classes == {"rare": 2} and "rare" not in labelled.classes()


def test_gb18030_csv_is_read(tmp_path):
    path = write_csv(tmp_path / "gbk.csv", rows(40, ["物流", "质量"]), encoding="gb18030")
    assert load(str(path), "csv", text_field="text", label_field="label", target="t").classes() == {
        "物流": 20,
        "质量": 20,
    }


def test_odd_texts_get_a_prediction_or_a_clear_none_never_a_crash():
    data = made_up(rows_per_class=8)
    pipeline, _metrics = engine.fit(data)
    long_text = "快递没有送到" * 20000 + " parcel never arrived " * 5000
    odd = ["", "😡😡😡", "1234567890", long_text, "The 快递 parcel 没有送到 at all, 请处理 please"]
    predictions = engine.predict(pipeline, odd)
    assert predictions[:3] == [("", 0.0)] * 3
    assert all(label in data.classes() and 0 < confidence <= 1 for label, confidence in predictions[3:])
    assert len(normalise(long_text)) <= 3000 and not has_content("🙏 123 !!!")


def test_evaluation_lists_labels_the_model_never_saw():
    data = made_up(rows_per_class=8)
    pipeline, _metrics = engine.fit(data)
    from intelligence.datasets import Labelled

    result = engine.evaluate(pipeline, Labelled(["快递三天还没送到", "屏幕碎了"], ["delivery", "screen"], "x"))
    assert result["unknown_labels"] == {"screen": 1} and "screen" in result["per_class"]
