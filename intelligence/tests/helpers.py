"""Small labelled sets for the tests: real slices of ../shared/data, and a made-up Chinese one whose
labels are codes of our own taxonomy (for prediction at intake)."""

import csv
import random
from pathlib import Path

import pytest

from intelligence.datasets import Labelled

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

PHRASES = {
    "delivery": ["快递三天还没送到", "物流信息一直不更新", "包裹被送错了地址", "快递员把包裹扔在门口", "配送严重延迟"],
    "product_quality": [
        "电热水壶用了三天就漏电",
        "手机屏幕出现裂纹",
        "衣服洗一次就掉色",
        "插座冒烟有安全隐患",
        "产品质量太差",
    ],
    "privacy": [
        "个人信息被泄露",
        "每天接到骚扰营销电话",
        "我的手机号被卖给了别人",
        "未经同意发送推销短信",
        "隐私数据被滥用",
    ],
    "price_charges": ["结账时多收了费用", "价格和标价不一致", "有隐性收费项目", "被重复扣款两次", "收费标准不透明"],
}
FILLERS = ["请尽快处理", "我非常不满意", "要求给个说法", "已经联系客服多次", "", "希望得到赔偿", "订单号12345"]


def made_up(rows_per_class: int = 40, seed: int = 0) -> Labelled:
    rng = random.Random(seed)
    texts, labels = [], []
    for label, phrases in PHRASES.items():
        for _ in range(rows_per_class):
            text = "，".join([rng.choice(phrases), rng.choice(FILLERS), rng.choice(phrases)])
            texts.append(text)
            labels.append(label)
    return Labelled(texts, labels, "made-up")


def real_slice(file: str, text: str, label: str, per_class: int, *, min_count: int = 0) -> list[dict[str, str]]:
    """The first `per_class` rows of each label (labels with fewer than `min_count` rows left out)."""
    path = DATA / file
    if not path.exists():
        pytest.skip(f"{path} is absent: the real-data tests need ../shared/data (see DESIGN.md §12)")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[label]] = counts.get(row[label], 0) + 1
    taken: dict[str, int] = {}
    chosen = []
    for row in rows:
        value = row[label]
        if counts[value] < min_count or taken.get(value, 0) >= per_class:
            continue
        taken[value] = taken.get(value, 0) + 1
        chosen.append({"text": row[text], "label": value})
    return chosen


def write_csv(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
