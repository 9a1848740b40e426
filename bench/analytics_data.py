# ruff: noqa: S608 -- every statement is built from this file's constants; values go as parameters.
"""Bench data for the analytics benchmark (bench/analytics_bench.py): millions of complaints made FAST
inside PostgreSQL, not through the application's actions (the intake path has its own benchmark,
bench/run.py).

Texts are resampled from ../shared/data (negative Chinese e-commerce, food-delivery and hotel reviews;
English CFPB narratives), each with its search text built by the application's own
`complaints.search.index_text` (bigrams, jieba words, Latin words) and a category guessed from its
words. They are copied into staging tables (COPY), with a day table (received-date weights: weekdays,
weekends, China's public holidays and make-up days, the 11.11 and Spring Festival seasons, growth over
the two years; the working seconds before each day for the handling times) and the reference data
(org units, departments, agents, products). Then INSERT … SELECT over generate_series writes, per
complaint: the complaint (states, SLA clocks, outcome as time has passed for it), one ledger event, a
paid remedy for some, a survey answer for some, and its CaseFact (the same rules as
analytics.rollups._facts_for, in SQL: working hours from the day table, handling buckets) — so that
`analytics.rollups.rebuild_days` (the job's own SQL) builds every rollup, the backfill and the job can
run on it, and the full-text search index answers as in the application.
"""

import csv
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"

CHANNELS = [
    ("web", 34), ("phone", 24), ("wechat", 14), ("ecommerce_platform", 11), ("email", 5), ("walk_in", 3),
    ("social_media", 3), ("letter", 2), ("api", 2), ("regulator_referral", 1), ("other", 1),
]  # fmt: skip
PRIORITIES = [("P1", 3), ("P2", 17), ("P3", 60), ("P4", 20)]
# Calendar hours from receipt to resolution by priority: a minimum and a log-spread (hours).
HANDLING = {"P1": (2, 30), "P2": (8, 70), "P3": (20, 160), "P4": (30, 260)}
REGIONS = [
    ("华东区", [("上海徐汇店", "310000", "310100", "310104"), ("杭州西湖店", "330000", "330100", "330106"),
                ("南京鼓楼店", "320000", "320100", "320106"), ("苏州工业园区店", "320000", "320500", "320571"),
                ("宁波鄞州店", "330000", "330200", "330212"), ("合肥蜀山店", "340000", "340100", "340104"),
                ("济南历下店", "370000", "370100", "370102"), ("青岛市南店", "370000", "370200", "370202"),
                ("福州鼓楼店", "350000", "350100", "350102"), ("厦门思明店", "350000", "350200", "350203"),
                ("无锡滨湖店", "320000", "320200", "320211"), ("上海浦东店", "310000", "310100", "310115")]),
    ("华南区", [("深圳南山店", "440000", "440300", "440305"), ("深圳福田店", "440000", "440300", "440304"),
                ("广州天河店", "440000", "440100", "440106"), ("广州越秀店", "440000", "440100", "440104"),
                ("东莞南城店", "440000", "441900", ""), ("佛山禅城店", "440000", "440600", "440604"),
                ("南宁青秀店", "450000", "450100", "450103"), ("海口龙华店", "460000", "460100", "460106"),
                ("珠海香洲店", "440000", "440400", "440402"), ("汕头龙湖店", "440000", "440500", "440507")]),
    ("华北区", [("北京朝阳店", "110000", "110100", "110105"), ("北京海淀店", "110000", "110100", "110108"),
                ("天津和平店", "120000", "120100", "120101"), ("石家庄长安店", "130000", "130100", "130102"),
                ("太原小店店", "140000", "140100", "140105"), ("呼和浩特新城店", "150000", "150100", "150102"),
                ("北京西城店", "110000", "110100", "110102"), ("唐山路北店", "130000", "130200", "130203")]),
    ("华中区", [("武汉江汉店", "420000", "420100", "420103"), ("武汉洪山店", "420000", "420100", "420111"),
                ("长沙岳麓店", "430000", "430100", "430104"), ("郑州金水店", "410000", "410100", "410105"),
                ("南昌东湖店", "360000", "360100", "360102"), ("洛阳西工店", "410000", "410300", "410303"),
                ("宜昌西陵店", "420000", "420500", "420502"), ("株洲天元店", "430000", "430200", "430211")]),
    ("西南区", [("成都锦江店", "510000", "510100", "510104"), ("成都高新店", "510000", "510100", "510107"),
                ("重庆渝中店", "500000", "500100", "500103"), ("重庆江北店", "500000", "500100", "500105"),
                ("昆明五华店", "530000", "530100", "530102"), ("贵阳南明店", "520000", "520100", "520102"),
                ("拉萨城关店", "540000", "540100", "540102"), ("绵阳涪城店", "510000", "510700", "510703")]),
    ("西北区", [("西安雁塔店", "610000", "610100", "610113"), ("西安碑林店", "610000", "610100", "610103"),
                ("兰州城关店", "620000", "620100", "620102"), ("银川兴庆店", "640000", "640100", "640104"),
                ("西宁城中店", "630000", "630100", "630103"), ("乌鲁木齐天山店", "650000", "650100", "650102"),
                ("宝鸡渭滨店", "610000", "610300", "610302"), ("咸阳秦都店", "610000", "610400", "610402")]),
]  # fmt: skip
DEPARTMENTS = [
    ("service", "客服中心", "Customer Service"), ("quality", "质量部", "Quality"), ("logistics", "物流部", "Logistics"),
    ("billing", "财务结算部", "Billing"), ("after_sales", "售后部", "After-sales"), ("legal", "法务部", "Legal"),
]  # fmt: skip
ROUTING = {
    "product_quality": "quality", "delivery": "logistics", "billing_error": "billing", "price_charges": "billing",
    "after_sales": "after_sales", "privacy": "legal", "contract_terms": "legal", "false_advertising": "quality",
    "short_measure": "quality",
}  # fmt: skip
US_STATES = ["CA", "TX", "FL", "NY", "GA", "IL", "PA", "NC", "OH", "NJ", "VA", "MI", "MD", "AZ", "WA"]
# Product families per text source and the number of models each has (300 products in all).
FAMILIES = {
    "手机": ("SJ", 40), "平板": ("PB", 20), "计算机": ("JSJ", 30), "热水器": ("RSQ", 25), "洗发水": ("XFS", 20),
    "衣服": ("YF", 35), "书籍": ("SHU", 30), "水果": ("SG", 20), "蒙牛": ("MN", 15), "酒店": ("JD", 15),
    "外卖": ("WM", 30), "金融服务": ("FIN", 20),
}  # fmt: skip
KEYWORDS = [  # (words, category, sub-category): the first rule that matches a text wins
    (("快递", "物流", "送货", "配送", "发货", "送餐", "送到", "外卖员", "骑手"), "delivery", None),
    (("客服", "态度", "服务员", "前台", "不理", "回复"), "service", None),
    (("退货", "退款", "换货", "维修", "售后", "保修", "三包"), "after_sales", None),
    (("假货", "正品", "假的", "山寨"), "product_quality", "counterfeit"),
    (("描述不符", "宣传", "图片", "与描述"), "false_advertising", None),
    (("价格", "太贵", "降价", "差价", "收费", "价钱"), "price_charges", None),
    (("分量", "少了", "缺少", "不够"), "short_measure", None),
    (("发票", "扣款", "多扣"), "billing_error", None),
    (("变质", "拉肚子", "异物", "头发", "虫子", "不新鲜"), "product_quality", "food_safety"),
    (("爆炸", "漏电", "着火", "烫伤"), "product_quality", "safety_hazard"),
]  # fmt: skip
SUBCATEGORIES = {
    "product_quality": ["defect"], "service": ["attitude", "response_time"],
    "price_charges": ["overcharge", "hidden_fee"], "contract_terms": ["unfair_terms", "cancellation"],
    "false_advertising": ["misleading_ad", "labelling"], "after_sales": ["repair", "return_refund", "warranty"],
    "delivery": ["late", "lost_damaged"], "privacy": ["leak", "marketing_calls"],
}  # fmt: skip
CFPB_CATEGORIES = {
    "credit_reporting": "privacy", "debt_collection": "contract_terms", "mortgage": "contract_terms",
    "credit_card": "billing_error", "bank_account": "billing_error", "loan": "contract_terms",
    "money_transfer": "service",
}  # fmt: skip


def log(message: str) -> None:
    print(f"[analytics-bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- texts ----------------------------------------------------------------------------------------------


@dataclass
class Text:
    title: str
    description: str
    language: str
    category: str
    subcategory: str | None
    family: str
    tokens: str = ""


def _guess(text: str, default: str, rng: random.Random) -> tuple[str, str | None]:
    for words, category, sub in KEYWORDS:
        if any(w in text for w in words):
            return category, sub if sub is not None else rng.choice(SUBCATEGORIES.get(category, [None]))
    subs = SUBCATEGORIES.get(default)
    return default, rng.choice(subs) if subs and rng.random() < 0.7 else None


def _title(text: str) -> str:
    first = text.replace("\n", " ").strip()
    for stop in "。！？!?，,":
        head = first.split(stop)[0]
        if 6 <= len(head) <= 40:
            return head
    return first[:30]


def read_texts(seed: int = 8) -> list[Text]:
    """The complaint texts: negative reviews (zh) and CFPB narratives (en), with a category guessed from
    their words and a product family."""
    rng = random.Random(seed)
    texts: list[Text] = []

    def rows(name: str) -> Any:
        with open(DATA / name, encoding="utf-8", newline="") as handle:
            yield from csv.DictReader(handle)

    for row in rows("online_shopping_reviews.csv"):
        review = (row.get("review") or "").strip()
        if row.get("label") == "0" and 8 <= len(review) <= 400:
            family = row.get("cat") or "衣服"
            category, sub = _guess(review, "product_quality", rng)
            texts.append(Text(_title(review), review, "zh-hans", category, sub, family))
    for name, family, default in (("waimai_reviews.csv", "外卖", "delivery"), ("hotel_reviews.csv", "酒店", "service")):
        for row in rows(name):
            review = (row.get("review") or "").strip()
            if row.get("label") == "0" and 8 <= len(review) <= 400:
                category, sub = _guess(review, default, rng)
                texts.append(Text(_title(review), review, "zh-hans", category, sub, family))
    english = []
    for row in rows("cfpb_narratives.csv"):
        narrative = (row.get("narrative") or "").strip()[:1500]
        if len(narrative) < 40:
            continue
        group = (row.get("product_group") or "").lower().replace(" ", "_")
        category = next((c for key, c in CFPB_CATEGORIES.items() if key in group), "service")
        issue = (row.get("issue") or row.get("product") or "Consumer complaint").strip()[:120]
        subs = SUBCATEGORIES.get(category)
        english.append(Text(issue, narrative, "en", category, rng.choice(subs) if subs else None, "金融服务"))
    # About one complaint in ten is in English (the CFPB narratives are a tenth of the texts already).
    texts += english
    for text in texts:
        if text.family not in FAMILIES:
            text.family = "衣服"
    return texts


def tokenize(texts: list[Text]) -> None:
    """Each text's search tokens, by the application's index_text (jieba words included)."""
    from complaints.search import index_text

    for text in texts:
        text.tokens = index_text(text.title, text.description)


# --- days -------------------------------------------------------------------------------------------------


def day_weights(first: date, last: date) -> list[tuple[date, float, bool]]:
    """(day, relative volume, working day) for every day: fewer complaints at weekends and on public
    holidays, more on make-up working days, after 11.11 and 6.18, fewer over the Spring Festival,
    and a 30 % growth over the two years."""
    from complaints import calendar

    days = []
    span = max((last - first).days, 1)
    day = first
    while day <= last:
        working = calendar.is_working_day(day)
        if working:
            weight = 1.0
        elif day.weekday() >= 5:
            weight = 0.7 if day.weekday() == 5 else 0.6
        else:
            weight = 0.45  # a public holiday on a weekday
        if day.month == 11 and 11 <= day.day <= 25:
            weight *= 1.9 - 0.05 * (day.day - 11)
        if day.month == 6 and 18 <= day.day <= 28:
            weight *= 1.4
        if day.month == 2 and day.day <= 20:
            weight *= 0.75
        weight *= 0.85 + 0.3 * (day - first).days / span
        days.append((day, weight, working))
        day += timedelta(days=1)
    return days


# --- the database side -------------------------------------------------------------------------------------


@dataclass
class Reference:
    stores: list[tuple[int, str, str, str, str]]  # (id, name, province, city, district)
    departments: dict[str, int]
    agents: dict[str, list[int]]
    categories: dict[str, int]
    subject_key: str
    users: dict[str, Any] = field(default_factory=dict)


def reference_data() -> Reference:
    """Org units (a company, six regions, 54 stores), departments, agents, supervisors, a manager of
    华南区, an analyst and an auditor; the categories the migrations seeded."""
    from accounts.choices import Role
    from accounts.models import Department, Membership, OrgUnit, User
    from complaints.models import Category
    from ledger.crypto import new_subject_key

    company = OrgUnit.objects.create(name="示例零售集团", kind="company")
    stores = []
    regions = {}
    for region_name, shops in REGIONS:
        region = OrgUnit.objects.create(name=region_name, kind="region", parent=company)
        regions[region_name] = region
        for name, province, city, district in shops:
            store = OrgUnit.objects.create(
                name=name, kind="store", parent=region, province_code=province, city_code=city, district_code=district
            )
            stores.append((store.pk, name, province, city, district))
    departments = {}
    for code, name, name_en in DEPARTMENTS:
        dept, _ = Department.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "is_default": code == "service"}
        )
        departments[code] = dept.pk
    agents: dict[str, list[int]] = {}
    for code, dept_id in departments.items():
        agents[code] = []
        for i in range(12 if code == "service" else 6):
            agent = User.objects.create_user(username=f"bench_{code}_agent{i}", password=None)
            Membership.objects.create(user=agent, role=Role.AGENT, department_id=dept_id)
            agents[code].append(agent.pk)
    users = {}
    for username, role, scope in (
        ("bench_analyst", Role.ANALYST, {}),
        ("bench_auditor", Role.AUDITOR, {}),
        ("bench_manager", Role.MANAGER, {"org_unit": regions["华南区"]}),
        ("bench_supervisor", Role.SUPERVISOR, {"department_id": departments["service"]}),
    ):
        user = User.objects.create_user(username=username, password=None)
        Membership.objects.create(user=user, role=role, **scope)
        users[username] = user
    categories = dict(Category.objects.values_list("code", "pk"))
    return Reference(stores, departments, agents, categories, str(new_subject_key().pk), users)


def _copy(cursor: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load_staging(cursor: Any, texts: list[Text], days: list[tuple[date, float, bool]], ref: Reference) -> None:
    """bench_text, bench_product, bench_store, bench_agent and bench_day (with each day's share of the
    complaints as a cumulative fraction, its working seconds before it, and its working-day ordinal)."""
    from complaints.calendar import default_working_hours

    start, end = default_working_hours()
    work_seconds = (datetime.combine(date.min, end) - datetime.combine(date.min, start)).seconds
    cursor.execute(
        "DROP TABLE IF EXISTS bench_text, bench_product, bench_store, bench_agent, bench_day;"
        "CREATE UNLOGGED TABLE bench_text (id int PRIMARY KEY, title text, description text, tokens text,"
        " language text, category_id int, subcategory_id int, department_id int, family int, family_size int,"
        " us boolean);"
        "CREATE UNLOGGED TABLE bench_product (family int, n int, sku text, name text, model text, tokens text,"
        " PRIMARY KEY (family, n));"
        "CREATE UNLOGGED TABLE bench_store (n int PRIMARY KEY, id int, province text, city text, district text);"
        "CREATE UNLOGGED TABLE bench_agent (department_id int, n int, id int, PRIMARY KEY (department_id, n));"
        "CREATE UNLOGGED TABLE bench_day (day date PRIMARY KEY, lo float8, hi float8, working boolean,"
        " work_before bigint, ordinal int);"
        "CREATE INDEX bench_day_lo ON bench_day (lo)"
    )
    from complaints.search import index_text

    families = list(FAMILIES)
    text_rows = []
    for i, t in enumerate(texts):
        category = ref.categories[t.category]
        sub = ref.categories.get(f"{t.category}-{t.subcategory}") if t.subcategory else None
        dept = ref.departments[ROUTING.get(t.category, "service")]
        text_rows.append(
            (i, t.title, t.description, t.tokens, t.language, category, sub, dept, families.index(t.family),
             FAMILIES[t.family][1], t.language == "en")
        )  # fmt: skip
    _copy(cursor, "bench_text", ["id", "title", "description", "tokens", "language", "category_id",
                                 "subcategory_id", "department_id", "family", "family_size", "us"],
          text_rows)  # fmt: skip
    product_rows = []
    for f, (family, (prefix, count)) in enumerate(FAMILIES.items()):
        for n in range(count):
            sku, model = f"{prefix}-{n + 1:04d}", f"{prefix}{100 + 7 * n}"
            name = f"{family} {model}"
            product_rows.append((f, n, sku, name, model, index_text(name, model, sku)))
    _copy(cursor, "bench_product", ["family", "n", "sku", "name", "model", "tokens"], product_rows)
    _copy(cursor, "bench_store", ["n", "id", "province", "city", "district"],
          [(n, pk, p, c, d) for n, (pk, _name, p, c, d) in enumerate(ref.stores)])  # fmt: skip
    _copy(cursor, "bench_agent", ["department_id", "n", "id"],
          [(ref.departments[code], n, pk) for code, ids in ref.agents.items() for n, pk in enumerate(ids)])  # fmt: skip
    total = sum(w for _d, w, _working in days)
    day_rows, acc, before, ordinal = [], 0.0, 0, 0
    for day, weight, working in days:
        ordinal += int(working)
        day_rows.append((day, acc / total, (acc + weight) / total, working, before, ordinal))
        acc += weight
        before += work_seconds if working else 0
    _copy(cursor, "bench_day", ["day", "lo", "hi", "working", "work_before", "ordinal"], day_rows)
    cursor.execute(
        "DROP TABLE IF EXISTS bench_workday;"
        "CREATE UNLOGGED TABLE bench_workday AS SELECT ordinal, min(day) AS day FROM bench_day WHERE working"
        " GROUP BY ordinal; ALTER TABLE bench_workday ADD PRIMARY KEY (ordinal);"
        "ANALYZE bench_text; ANALYZE bench_product; ANALYZE bench_day; ANALYZE bench_store; ANALYZE bench_workday"
    )


def _not_null_defaults(cursor: Any, table: str, given: set[str]) -> dict[str, str]:
    """SQL values for the NOT NULL columns without a database default that an INSERT does not give
    (Django keeps defaults in Python): '' for text, false, 0, '[]' for JSON."""
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
        "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
        [table],
    )
    values = {}
    for column, kind in cursor.fetchall():
        if column in given:
            continue
        if kind in ("character varying", "text"):
            values[column] = "''"
        elif kind == "boolean":
            values[column] = "false"
        elif kind in ("integer", "smallint", "bigint", "numeric", "double precision"):
            values[column] = "0"
        elif kind in ("jsonb", "json"):
            values[column] = "'[]'"
        else:
            raise SystemExit(f"bench: no default for {table}.{column} ({kind})")
    return values


def _insert(cursor: Any, table: str, columns: dict[str, str], source: str, params: dict[str, Any]) -> int:
    columns = {**columns, **_not_null_defaults(cursor, table, set(columns))}
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns.values())} {source}"
    cursor.execute(sql, params)
    return cursor.rowcount


def _weighted(choices: list[tuple[str, int]], r: str) -> str:
    """A CASE over a uniform random column `r` picking a value with the given weights."""
    total = sum(w for _v, w in choices)
    parts, acc = [], 0
    for value, weight in choices[:-1]:
        acc += weight
        parts.append(f"WHEN {r} < {acc / total:.6f} THEN '{value}'")
    return f"(CASE {' '.join(parts)} ELSE '{choices[-1][0]}' END)"


def generate(cursor: Any, n: int, offset: int, now: datetime, seed: float) -> None:
    """Complaints offset+1 … offset+n (their ids), and for each its ledger event, remedy, survey answer
    and CaseFact. One statement per table; the complaint's attributes come from random() columns of a
    seeded generator, so a run is repeatable."""
    from analytics.models import HANDLING_EDGES

    cursor.execute("SELECT setseed(%s)", [seed])
    cursor.execute("SELECT count(*), max(family) FROM bench_text")
    n_texts, _families = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM bench_store")
    (n_stores,) = cursor.fetchone()
    params = {"n": n, "offset": offset, "now": now, "texts": n_texts, "stores": n_stores}
    started = time.time()
    # 1. the plan of every complaint: day, time, text, product, unit, priority, channel and the random draws
    # that decide its fate; an unlogged staging table the other statements read.
    cursor.execute("DROP TABLE IF EXISTS bench_plan")
    cursor.execute(
        f"""
        CREATE UNLOGGED TABLE bench_plan AS
        SELECT s.g AS id, d.day, s.r_state, s.r_outcome, s.r_time,
               ((d.day + make_interval(secs => 8 * 3600 + (s.r_time ^ 0.9) * 13.5 * 3600))
                 AT TIME ZONE 'Asia/Shanghai') AS received_at,
               t.id AS text_id, t.family, t.us, t.category_id, t.subcategory_id, t.department_id,
               floor(power(s.r_product, 2.2) * t.family_size)::int AS product_n,
               CASE WHEN t.us OR s.r_unit > 0.96 THEN NULL ELSE floor(power(s.r_unit / 0.96, 1.5) * %(stores)s)::int END
                 AS store_n,
               {_weighted(PRIORITIES, "s.r_priority")} AS priority,
               {_weighted(CHANNELS, "s.r_channel")} AS channel,
               s.r_agent, s.r_escalate, s.r_survey, s.r_remedy, s.r_ack, s.r_handle, s.r_close
        FROM (
          SELECT g, random() AS r_day, random() AS r_time, random() AS r_text, random() AS r_product,
                 random() AS r_unit, random() AS r_priority, random() AS r_channel, random() AS r_state,
                 random() AS r_outcome, random() AS r_agent, random() AS r_escalate, random() AS r_survey,
                 random() AS r_remedy, random() AS r_ack, random() AS r_handle, random() AS r_close
          FROM generate_series(%(offset)s + 1, %(offset)s + %(n)s) AS g
        ) s
        CROSS JOIN LATERAL (SELECT b.day FROM bench_day b WHERE b.lo <= s.r_day ORDER BY b.lo DESC LIMIT 1) d
        JOIN bench_text t ON t.id = floor(s.r_text * %(texts)s)::int
        """,
        params,
    )
    cursor.execute("ALTER TABLE bench_plan ADD PRIMARY KEY (id)")
    # 2. the timeline as the case lived it: acknowledgement, resolution, closing, archiving; only what
    # happened before `now` is kept. Working days for the resolution deadline from the day ordinals.
    cursor.execute("DROP TABLE IF EXISTS bench_life")
    min_h = " ".join(f"WHEN '{p}' THEN {lo}" for p, (lo, _spread) in HANDLING.items())
    spread = " ".join(f"WHEN '{p}' THEN {s}" for p, (_lo, s) in HANDLING.items())
    cursor.execute(
        f"""
        CREATE UNLOGGED TABLE bench_life AS
        SELECT p.id,
               CASE WHEN p.r_state < 0.01 THEN 'merged' WHEN p.r_state < 0.05 THEN 'rejected'
                    WHEN p.r_state < 0.07 THEN 'withdrawn' ELSE 'handled' END AS fate,
               p.received_at + CASE WHEN p.priority = 'P1' THEN interval '1 minute' * (5 + p.r_ack * 150)
                                    ELSE interval '1 minute' * (10 + power(p.r_ack, 3) * 1800) END AS ack_at,
               p.received_at + CASE WHEN p.priority = 'P1' THEN interval '2 hours' ELSE interval '24 hours' END
                 AS ack_due,
               p.received_at + interval '1 hour' * (CASE p.priority {min_h} END
                 + power(p.r_handle, 2.5) * (CASE p.priority {spread} END)) AS resolved_plan,
               (w.day + interval '1 day' - interval '1 second') AT TIME ZONE 'Asia/Shanghai' AS resolution_due
        FROM bench_plan p JOIN bench_day d ON d.day = p.day
        JOIN bench_workday w ON w.ordinal = d.ordinal
          + CASE p.priority WHEN 'P1' THEN 1 WHEN 'P2' THEN 3 WHEN 'P3' THEN 7 ELSE 15 END
        """
    )
    cursor.execute("ALTER TABLE bench_life ADD PRIMARY KEY (id)")
    log(f"  plan of {n:,} complaints: {time.time() - started:.0f} s")
    # 3. the complaints
    started = time.time()
    status = """CASE
        WHEN l.fate = 'merged' THEN 'merged'
        WHEN l.ack_at > %(now)s THEN 'new'
        WHEN l.fate = 'rejected' THEN 'rejected'
        WHEN l.fate = 'withdrawn' THEN 'withdrawn'
        WHEN l.resolved_plan > %(now)s THEN
          (CASE WHEN p.r_close < 0.12 THEN 'awaiting_consumer' WHEN p.r_close < 0.2 THEN 'accepted'
                WHEN p.r_close < 0.25 THEN 'resolution_proposed' ELSE 'in_progress' END)
        WHEN l.resolved_plan + interval '2 days' > %(now)s THEN 'resolved'
        WHEN p.r_close < 0.02 AND l.resolved_plan + interval '6 days' > %(now)s THEN 'reopened'
        WHEN l.resolved_plan + interval '92 days' < %(now)s THEN 'archived'
        ELSE 'closed' END"""
    resolved = "l.fate = 'handled' AND l.resolved_plan <= %(now)s"
    closed = "l.fate = 'handled' AND l.resolved_plan + interval '2 days' <= %(now)s"
    columns = {
        "id": "p.id",
        "tracking_no": "'TS' || to_char(p.day, 'YYYYMMDD') || '-' || lpad(p.id::text, 8, '0')",
        "access_code_hash": "'bench$not-a-code'",
        "channel": "p.channel",
        "received_at": "p.received_at",
        "language": "t.language",
        "is_demo": "true",
        "version": "3",
        "status": f"({status})",
        "anonymous": "false",
        "complainant_name": "'投诉人' || p.id",
        # Encrypted at rest with its keyed hash (core.fieldcrypt): 1,000 numbers sealed once in Python.
        "complainant_phone": "(%(phones)s::text[])[1 + (p.id %% 1000)]",
        "complainant_phone_hash": "(%(phone_hashes)s::text[])[1 + (p.id %% 1000)]",
        "preferred_contact": "'phone'",
        "org_unit_id": "s.id",
        "product_name": "pr.name",
        "product_sku": "pr.sku",
        "product_model": "pr.model",
        "title": "t.title",
        "description": "t.description",
        "country": "CASE WHEN p.us THEN 'US' ELSE 'CN' END",
        "province_code": "CASE WHEN p.us THEN '' ELSE COALESCE(s.province, '440000') END",
        "city_code": "CASE WHEN p.us THEN '' ELSE COALESCE(s.city, '440300') END",
        "district_code": "CASE WHEN p.us THEN '' ELSE COALESCE(s.district, '') END",
        "us_state": (
            "CASE WHEN p.us THEN (ARRAY" + str(US_STATES) + ")[1 + (p.id %% " + str(len(US_STATES)) + ")] ELSE '' END"
        ),
        "remedies_requested": "'[\"refund\"]'",
        "severity": "'general'",
        "priority": "p.priority",
        "category_id": "p.category_id",
        "subcategory_id": "p.subcategory_id",
        "department_id": "p.department_id",
        "owner_id": "CASE WHEN l.ack_at > %(now)s OR l.fate IN ('merged', 'rejected') THEN NULL ELSE"
        " (SELECT a.id FROM bench_agent a WHERE a.department_id = p.department_id"
        " AND a.n = floor(p.r_agent * CASE WHEN p.department_id = %(service)s THEN 12 ELSE 6 END)::int) END",
        "escalation_level": "CASE WHEN p.r_escalate < 0.005 THEN 3 WHEN p.r_escalate < 0.025 THEN 2"
        " WHEN p.r_escalate < 0.1 THEN 1 ELSE 0 END",
        "risk_flags": "'[]'",
        "outcome": f"CASE WHEN {resolved} THEN (CASE WHEN p.r_outcome < 0.45 THEN 'executed'"
        " WHEN p.r_outcome < 0.9 THEN 'accepted' ELSE 'final_decision' END) ELSE '' END",
        "reopen_count": "CASE WHEN l.fate = 'handled' AND p.r_close < 0.02"
        " AND l.resolved_plan + interval '2 days' <= %(now)s THEN 1 ELSE 0 END",
        "search_text": "t.tokens || ' ' || pr.tokens || ' ' || lower('ts' || to_char(p.day, 'YYYYMMDD')) || ' '"
        " || lpad(p.id::text, 8, '0')",
        "subject_key_id": "%(key)s",
        "sla_paused_seconds": "0",
        "ack_due_at": "l.ack_due",
        "ack_warn_at": "l.ack_due - (l.ack_due - p.received_at) / 5",
        "acknowledged_at": "CASE WHEN l.ack_at <= %(now)s AND l.fate <> 'merged' THEN l.ack_at END",
        "accepted_at": "CASE WHEN l.ack_at <= %(now)s AND l.fate = 'handled' THEN l.ack_at END",
        "resolution_clock_start": "CASE WHEN l.ack_at <= %(now)s AND l.fate = 'handled' THEN l.ack_at END",
        "resolution_due_at": "CASE WHEN l.ack_at <= %(now)s AND l.fate = 'handled' THEN l.resolution_due END",
        "resolution_warn_at": "CASE WHEN l.ack_at <= %(now)s AND l.fate = 'handled'"
        " THEN l.resolution_due - (l.resolution_due - l.ack_at) / 5 END",
        "ack_breached_at": "CASE WHEN l.ack_at > l.ack_due AND l.ack_due <= %(now)s THEN l.ack_due END",
        "resolution_breached_at": "CASE WHEN l.fate = 'handled' AND l.resolution_due <= %(now)s"
        " AND l.resolved_plan > l.resolution_due THEN l.resolution_due END",
        "resolved_at": f"CASE WHEN {resolved} AND NOT (p.r_close < 0.02 AND l.resolved_plan + interval '2 days'"
        " <= %(now)s AND l.resolved_plan + interval '6 days' > %(now)s) THEN l.resolved_plan END",
        "closed_at": f"CASE WHEN {closed} AND NOT (p.r_close < 0.02 AND l.resolved_plan + interval '6 days' > %(now)s)"
        " THEN l.resolved_plan + interval '2 days' END",
        "archived_at": "CASE WHEN l.fate = 'handled' AND l.resolved_plan + interval '92 days' < %(now)s"
        " THEN l.resolved_plan + interval '92 days' END",
        "reject_reason": "CASE WHEN l.fate = 'rejected' THEN '不属于受理范围。' ELSE '' END",
        "withdrawn_reason": "CASE WHEN l.fate = 'withdrawn' THEN '已与商家协商解决。' ELSE '' END",
        "merged_into_id": "CASE WHEN l.fate = 'merged' AND p.id > 1 THEN p.id - 1 END",
    }
    source = """FROM bench_plan p JOIN bench_life l ON l.id = p.id JOIN bench_text t ON t.id = p.text_id
        JOIN bench_product pr ON pr.family = p.family AND pr.n = p.product_n
        LEFT JOIN bench_store s ON s.n = p.store_n ORDER BY p.id"""
    cursor.execute("SELECT id FROM accounts_department WHERE code = 'service'")
    (service,) = cursor.fetchone()
    from core.fieldcrypt import encrypt, lookup_hash

    phones = [f"+86138{n:08d}" for n in range(1000)]
    sealed = {"phones": [encrypt(p) for p in phones], "phone_hashes": [lookup_hash("phone", p) for p in phones]}
    rows = _insert(
        cursor,
        "complaints_complaint",
        columns,
        source,
        {**params, **sealed, "key": _subject_key(cursor), "service": service},
    )
    log(f"  {rows:,} complaints: {time.time() - started:.0f} s")
    # A merged case points at the case before it; the first of a batch at none (merged_into is nullable).
    started = time.time()
    ledger = {
        "complaint_id": "c.id",
        "seq": "1",
        "action": "'import'",
        "actor": "'system'",
        "actor_label": "'bench'",
        "changes": "'{}'",
        "data": "'{}'",
        "created_at": "c.received_at",
        "prev_hash": "repeat('0', 64)",
        "hash": "md5(c.tracking_no) || md5(c.id::text)",
    }
    rows = _insert(
        cursor, "ledger_ledgerevent", ledger,
        "FROM complaints_complaint c WHERE c.id > %(offset)s AND c.id <= %(offset)s + %(n)s ORDER BY c.id", params,
    )  # fmt: skip
    log(f"  {rows:,} ledger events: {time.time() - started:.0f} s")
    # 4. remedies paid (about a sixth of the closed cases) and survey answers (a third of them)
    started = time.time()
    cursor.execute("SELECT id FROM accounts_user WHERE username = 'bench_service_agent0'")
    (agent,) = cursor.fetchone()
    remedy = {
        "complaint_id": "c.id",
        "kind": "'compensation'",
        "description": "'补偿'",
        "amount": "round((20 + power(p.r_remedy * 6, 3))::numeric, 2)",
        "currency": "'CNY'",
        "status": "'paid'",
        "required_steps": "'[]'",
        "proposed_by_id": "%(agent)s",
        "proposed_at": "c.resolved_at - interval '1 hour'",
        "paid_at": "c.resolved_at",
        "paid_by_id": "%(agent)s",
        "paid_reference": "'BENCH' || c.id",
    }
    closed_cases = (
        "FROM complaints_complaint c JOIN bench_plan p ON p.id = c.id "
        "WHERE c.id > %(offset)s AND c.id <= %(offset)s + %(n)s AND c.resolved_at IS NOT NULL"
    )
    rows = _insert(
        cursor, "resolutions_remedy", remedy, closed_cases + " AND p.r_remedy < 0.16", {**params, "agent": agent}
    )
    survey = {
        "complaint_id": "c.id",
        "status": "'answered'",
        "round": "1",
        "due_at": "c.closed_at + interval '1 day'",
        "sent_at": "c.closed_at + interval '1 day'",
        "expires_at": "c.closed_at + interval '15 days'",
        "created_at": "c.closed_at",
    }
    answered = " AND c.closed_at IS NOT NULL AND c.closed_at + interval '3 days' <= %(now)s AND p.r_survey < 0.35"
    _insert(cursor, "feedback_survey", survey, closed_cases + answered, params)
    answer = {
        "survey_id": "s.id",
        "complaint_id": "c.id",
        # satisfied more often when the case was resolved within its SLA
        "outcome": "LEAST(5, GREATEST(1, 1 + floor(p.r_outcome * 5)::int"
        " + CASE WHEN c.resolved_at <= c.resolution_due_at THEN 1 ELSE 0 END))",
        "handling": "LEAST(5, 1 + floor(p.r_survey * 14)::int)",
        "solved": "CASE WHEN p.r_outcome < 0.8 THEN 'yes' ELSE 'no' END",
        "language": "c.language",
        "answered_at": "c.closed_at + interval '2 days'",
    }
    answers = _insert(
        cursor, "feedback_surveyanswer", answer,
        closed_cases.replace("FROM complaints_complaint c", "FROM complaints_complaint c JOIN feedback_survey s"
                             " ON s.complaint_id = c.id"), params,
    )  # fmt: skip
    log(f"  {rows:,} remedies paid, {answers:,} survey answers: {time.time() - started:.0f} s")
    # 5. the facts, by the rules of analytics.rollups._facts_for
    started = time.time()

    def work(moment: str, day: str) -> str:
        """Working seconds before `moment` since the first bench day: the day table's count before its day
        (joined as `day`) and the part of its own day inside the working hours."""
        local = f"({moment} AT TIME ZONE 'Asia/Shanghai')"
        return (
            f"({day}.work_before + CASE WHEN {day}.working THEN LEAST(GREATEST(extract(epoch FROM {local}::time)"
            f" - %(work_start)s, 0), %(work_len)s) ELSE 0 END)"
        )

    def bucket(column: str) -> str:
        cases = " ".join(
            f"WHEN {column} >= {edge * 3600} THEN {i}" for i, edge in reversed(list(enumerate(HANDLING_EDGES)))
        )
        return f"CASE {cases} END"

    from complaints.calendar import default_working_hours

    work_start, work_end = default_working_hours()
    fact_params = {
        **params,
        "work_start": work_start.hour * 3600 + work_start.minute * 60,
        "work_len": (work_end.hour * 60 + work_end.minute - work_start.hour * 60 - work_start.minute) * 60,
    }
    closed_now = "(c.status IN ('closed', 'archived') AND c.closed_at IS NOT NULL)"
    fact = {
        "complaint_id": "c.id",
        "tracking_no": "c.tracking_no",
        "received_date": "(c.received_at AT TIME ZONE 'Asia/Shanghai')::date",
        "category_id": "c.category_id",
        "subcategory_id": "c.subcategory_id",
        "product": "left(COALESCE(NULLIF(c.product_sku, ''), NULLIF(c.product_model, ''), c.product_name), 200)",
        "org_unit_id": "c.org_unit_id",
        "region": "COALESCE(NULLIF(c.province_code, ''), c.us_state)",
        "channel": "c.channel",
        "priority": "c.priority",
        "department_id": "c.department_id",
        "owner_id": "c.owner_id",
        "status": "c.status",
        "outcome": "c.outcome",
        "merged": "c.status = 'merged'",
        "acknowledged": "c.acknowledged_at IS NOT NULL",
        "ack_in_sla": "c.acknowledged_at IS NOT NULL AND (c.ack_due_at IS NULL OR c.acknowledged_at <= c.ack_due_at)",
        "resolved": "c.resolved_at IS NOT NULL",
        "resolved_date": "(c.resolved_at AT TIME ZONE 'Asia/Shanghai')::date",
        "resolved_in_sla": "c.resolved_at IS NOT NULL AND (c.resolution_due_at IS NULL"
        " OR c.resolved_at <= c.resolution_due_at)",
        "closed": closed_now,
        "ever_closed": f"({closed_now} OR c.reopen_count > 0)",
        "closed_resolved": f"({closed_now} AND (c.outcome IN ('accepted', 'executed') OR r.n IS NOT NULL))",
        "closed_with_remedy": f"({closed_now} AND r.n IS NOT NULL)",
        "reopen_count": "c.reopen_count",
        "escalation_max": "c.escalation_level",
        "handling_working_seconds": f"CASE WHEN c.resolved_at IS NOT NULL THEN "
        f"GREATEST({work('c.resolved_at', 'wr')} - {work('c.received_at', 'wc')}, 0) END",
        "handling_calendar_seconds": "CASE WHEN c.resolved_at IS NOT NULL THEN "
        "GREATEST(extract(epoch FROM c.resolved_at - c.received_at), 0) END",
        "compensation_paid": "COALESCE(r.amount, 0)",
        "survey_score": "a.outcome",
        "last_seq": "1",
        "refreshed_at": "%(now)s",
    }
    source = """FROM complaints_complaint c
        LEFT JOIN (SELECT complaint_id, count(*) AS n, sum(amount) FILTER (WHERE currency = 'CNY') AS amount
                   FROM resolutions_remedy WHERE status = 'paid' AND complaint_id > %(offset)s
                   AND complaint_id <= %(offset)s + %(n)s GROUP BY complaint_id) r ON r.complaint_id = c.id
        LEFT JOIN feedback_surveyanswer a ON a.complaint_id = c.id
        JOIN bench_day wc ON wc.day = (c.received_at AT TIME ZONE 'Asia/Shanghai')::date
        LEFT JOIN bench_day wr ON wr.day = (c.resolved_at AT TIME ZONE 'Asia/Shanghai')::date
        WHERE c.id > %(offset)s AND c.id <= %(offset)s + %(n)s ORDER BY c.id"""
    rows = _insert(cursor, "analytics_casefact", fact, source, fact_params)
    cursor.execute(
        f"UPDATE analytics_casefact SET working_bucket = {bucket('handling_working_seconds')},"
        f" calendar_bucket = {bucket('handling_calendar_seconds')}"
        " WHERE complaint_id > %(offset)s AND complaint_id <= %(offset)s + %(n)s AND resolved",
        params,
    )
    log(f"  {rows:,} case facts: {time.time() - started:.0f} s")


def _subject_key(cursor: Any) -> str:
    cursor.execute("SELECT id FROM ledger_subjectkey ORDER BY created_at LIMIT 1")
    return str(cursor.fetchone()[0])


def reset_sequences(cursor: Any) -> None:
    for table in ("complaints_complaint", "ledger_ledgerevent", "resolutions_remedy", "feedback_survey",
                  "feedback_surveyanswer"):  # fmt: skip
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(max(id), 1) FROM {table}))"
        )


def check_working_hours(cursor: Any, sample: int = 300) -> float:
    """The largest difference (seconds) between the SQL working hours of the facts and the application's
    complaints.calendar.working_hours_between on a sample of resolved cases (0 when they agree)."""
    from complaints import calendar
    from complaints.models import Complaint

    cursor.execute(
        "SELECT complaint_id, handling_working_seconds FROM analytics_casefact WHERE resolved "
        "ORDER BY complaint_id DESC LIMIT %s",
        [sample],
    )
    worst = 0.0
    found = dict(cursor.fetchall())
    for c in Complaint.objects.filter(pk__in=list(found)).only("received_at", "resolved_at"):
        app = calendar.working_hours_between(c.received_at, c.resolved_at) * 3600
        worst = max(worst, abs(app - found[c.pk]))
    return worst
