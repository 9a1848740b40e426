"""Labelled history to train and evaluate on: a CFPB CSV, any CSV, JSON Lines, or our own cases.

Every problem is a `DataError` with a message a user can act on; rows that cannot be used (no text,
text without a letter, no label) are counted and reported, never silently taken as something else."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from .features import has_content

FORMATS = ("cfpb", "csv", "jsonl", "db")
CFPB_TEXT = "Consumer complaint narrative"
CFPB_LABEL = "Product"
# Fewer rows than this, or a class with fewer examples, is "not enough data" for a model.
MIN_ROWS = 20
MIN_PER_CLASS = 5
MAX_FILE_BYTES = 2 * 1024**3


class DataError(Exception):
    """The data cannot be used as given; the message says why and what to do."""


class NotEnoughData(DataError):
    """Readable data, but too little of it to train or evaluate a model."""


@dataclass
class Labelled:
    texts: list[str]
    labels: list[str]
    source: str
    skipped: dict[str, int] = field(default_factory=dict)
    dropped_classes: dict[str, int] = field(default_factory=dict)

    def classes(self) -> dict[str, int]:
        return dict(Counter(self.labels).most_common())

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows": len(self.texts),
            "classes": self.classes(),
            "skipped_rows": self.skipped,
            "dropped_classes": self.dropped_classes,
        }


def load(
    path: str | None,
    fmt: str,
    *,
    text_field: str | None,
    label_field: str | None,
    target: str,
    min_per_class: int = MIN_PER_CLASS,
) -> Labelled:
    """Read labelled rows. For `db`, `path` is unused and the label is the named case field.
    Classes with fewer than `min_per_class` rows are dropped (and reported): too few to learn from."""
    if fmt not in FORMATS:
        raise DataError(_("未知的数据格式“%(fmt)s”，可选：%(formats)s。") % {"fmt": fmt, "formats": ", ".join(FORMATS)})
    if fmt == "db":
        return _from_cases(label_field or target, min_per_class)
    if not path:
        raise DataError(_("请用 --data 指定数据文件。"))
    file = Path(path)
    if not file.is_file():
        raise DataError(_("找不到数据文件：%(path)s") % {"path": path})
    if file.stat().st_size == 0:
        raise NotEnoughData(_("数据文件是空的：%(path)s") % {"path": path})
    if file.stat().st_size > MAX_FILE_BYTES:
        raise DataError(_("数据文件超过 2 GB，请拆分后再训练。"))
    raw = file.read_bytes()
    if fmt == "jsonl":
        records, columns = _jsonl(raw)
    else:
        records, columns = _csv(raw)
    if fmt == "cfpb":
        text_field = text_field or (CFPB_TEXT if CFPB_TEXT in columns else "narrative")
        label_field = label_field or (CFPB_LABEL if CFPB_LABEL in columns else "product")
    if not text_field or not label_field:
        raise DataError(_("请用 --text-field 和 --label-field 指定文本列和标签列。"))
    missing = [name for name in (text_field, label_field) if name not in columns]
    if missing:
        raise DataError(
            _("数据中没有列 %(missing)s；文件中的列为：%(columns)s。")
            % {"missing": ", ".join(missing), "columns": ", ".join(columns) or "-"}
        )
    pairs = ((_str(r.get(text_field)), _str(r.get(label_field))) for r in records)
    return _clean(pairs, f"{fmt}:{file.name} {text_field} -> {label_field}", min_per_class)


def _str(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _csv(raw: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    from imports import encoding

    try:
        enc = encoding.detect(raw[: encoding.PREFIX_BYTES])
    except encoding.EncodingError as error:
        raise DataError(str(error)) from error
    text = raw.decode(enc, errors="replace")
    if text.lstrip().startswith(("{", "[")):
        raise DataError(_("这不是 CSV 文件（看起来是 JSON）；请用 --format jsonl。"))
    csv.field_size_limit(10 * 1024 * 1024)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        columns = [c for c in (reader.fieldnames or []) if c]
        records = list(reader)
    except csv.Error as error:
        raise DataError(_("CSV 文件无法解析：%(error)s") % {"error": error}) from error
    if not columns:
        raise NotEnoughData(_("CSV 文件没有表头。"))
    return records, columns


def _jsonl(raw: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(_("JSON Lines 文件必须是 UTF-8 编码。")) from error
    records: list[dict[str, Any]] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(
                _("第 %(line)d 行不是 JSON（%(error)s）；JSON Lines 每行须是一个 JSON 对象。")
                % {"line": number, "error": error.msg}
            ) from error
        if not isinstance(record, dict):
            raise DataError(_("第 %(line)d 行不是 JSON 对象。") % {"line": number})
        records.append(record)
        for key in record:
            columns.setdefault(key)
    return records, list(columns)


def _clean(pairs: Any, source: str, min_per_class: int) -> Labelled:
    """Drop what cannot teach (counted by reason), then refuse what is too little to learn from."""
    texts: list[str] = []
    labels: list[str] = []
    skipped: Counter[str] = Counter()
    for text, label in pairs:
        label = label.strip()
        if not text.strip():
            skipped["empty_text"] += 1
        elif not has_content(text):
            skipped["no_letters"] += 1  # only emoji, digits or punctuation
        elif not label:
            skipped["no_label"] += 1
        else:
            texts.append(text)
            labels.append(label)
    return check_trainable(Labelled(texts, labels, source, dict(skipped)), min_per_class)


def check_trainable(data: Labelled, min_per_class: int = MIN_PER_CLASS) -> Labelled:
    counts = Counter(data.labels)
    rare = {label: n for label, n in counts.items() if n < min_per_class}
    if rare:
        keep = [i for i, label in enumerate(data.labels) if label not in rare]
        data = Labelled([data.texts[i] for i in keep], [data.labels[i] for i in keep], data.source, data.skipped, rare)
    if len(data.texts) < MIN_ROWS:
        raise NotEnoughData(
            _("数据不足：可用的有标签文本只有 %(rows)d 条（至少需要 %(min)d 条）。跳过的行：%(skipped)s")
            % {"rows": len(data.texts), "min": MIN_ROWS, "skipped": data.skipped or "-"}
        )
    if len(set(data.labels)) < 2:
        raise NotEnoughData(
            _("数据不足：至少需要两个各有 %(min)d 条以上样本的类别，现在只有：%(classes)s。")
            % {"min": min_per_class, "classes": ", ".join(set(data.labels)) or "-"}
        )
    return data


# --- the organisation's own cases -----------------------------------------------------------------

CASE_FIELDS = {
    "category": "category__code",
    "subcategory": "subcategory__code",
    "department": "department__code",
}


def case_field(target: str) -> str:
    """The Complaint field (as a values() path) a target names; DataError if there is none."""
    from complaints.models import Complaint

    if target in CASE_FIELDS:
        return CASE_FIELDS[target]
    names = {f.name for f in Complaint._meta.concrete_fields if not f.is_relation}
    if target not in names or target in {"id", "title", "description", "search_text"}:
        raise DataError(_("投诉没有可作标签的字段“%(field)s”。") % {"field": target})
    return target


def _from_cases(target: str, min_per_class: int) -> Labelled:
    """Title + description of our own cases, labelled with the named field as it stands now.

    An agent's correction is the field's current value (and is kept on the prediction as
    `corrected_to`, which wins). Cases whose value is only the model's own applied prediction, never
    looked at by a person (still `new`, no correction), are left out: a model must not learn from
    itself."""
    from complaints.choices import Status
    from complaints.models import Complaint

    from .models import Prediction

    path = case_field(target)
    corrections = dict(
        Prediction.objects.filter(target=target).exclude(corrected_to="").values_list("complaint_id", "corrected_to")
    )
    unreviewed = set(
        Prediction.objects.filter(target=target, applied=True, corrected_to="", complaint__status=Status.NEW)
        .values_list("complaint_id", flat=True)
        .iterator()
    )
    skipped: Counter[str] = Counter()

    def pairs() -> Any:
        rows = Complaint.objects.order_by("pk").values_list("pk", "title", "description", path)
        for pk, title, description, value in rows.iterator(chunk_size=2000):
            if pk in unreviewed and pk not in corrections:
                skipped["unreviewed_prediction"] += 1
                continue
            label = corrections.get(pk, value)
            yield "\n".join(p for p in (title, description) if p), _str(label)

    data = _clean(pairs(), f"db: complaints title+description -> {target}", min_per_class)
    data.skipped.update(skipped)
    return data
