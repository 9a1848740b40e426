"""The statutory calculator beside a remedy proposal (DESIGN.md §5).

Pure functions on Decimal: each returns a `Result` that names the rule it came from (law, article, a
short text of the rule) and shows its computation step by step. The calculator proposes; the handler
decides. Nothing here reads or writes the database.

Periods are counted as the Civil Code reckons them (art. 201): the day of receipt does not count, so
"within 7 days of receipt" means on or before the 7th day after it.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CENT = Decimal("0.01")
CRPL = gettext_lazy("《中华人民共和国消费者权益保护法》")
FOOD_SAFETY = gettext_lazy("《中华人民共和国食品安全法》")
PRODUCT_QUALITY = gettext_lazy("《中华人民共和国产品质量法》")


@dataclass(frozen=True)
class Rule:
    code: str
    law: Any
    article: Any
    text: Any  # a short statement of the rule, in the law's own words where they are short


@dataclass
class Result:
    rule: Rule
    applies: bool
    amount: Decimal | None = None  # the statutory amount, when the rule gives one
    remedies: list[str] = field(default_factory=list)  # Remedy kinds the rule opens to the consumer
    steps: list[str] = field(default_factory=list)  # the computation, one line each
    notes: list[str] = field(default_factory=list)  # what the handler must still weigh

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": {
                "code": self.rule.code,
                "law": str(self.rule.law),
                "article": str(self.rule.article),
                "text": str(self.rule.text),
            },
            "applies": self.applies,
            "amount": None if self.amount is None else format(self.amount, "f"),
            "currency": "CNY",
            "remedies": self.remedies,
            "steps": self.steps,
            "notes": self.notes,
        }


CRPL_24 = Rule(
    "crpl_24",
    CRPL,
    gettext_lazy("第二十四条"),
    gettext_lazy(
        "商品或者服务不符合质量要求的，消费者可以依照国家规定、当事人约定退货，或者要求经营者履行更换、修理等义务；"
        "没有国家规定和当事人约定的，可以自收到商品之日起七日内退货；七日后符合法定解除合同条件的，可以及时退货，"
        "不符合的，可以要求更换、修理。经营者应当承担运输等必要费用。"
    ),
)
CRPL_25 = Rule(
    "crpl_25",
    CRPL,
    gettext_lazy("第二十五条"),
    gettext_lazy(
        "经营者采用网络、电视、电话、邮购等方式销售商品，消费者有权自收到商品之日起七日内退货，且无需说明理由，"
        "但消费者定作的、鲜活易腐的、在线下载或者消费者拆封的音像制品和计算机软件等数字化商品、交付的报纸期刊，"
        "以及根据商品性质并经消费者在购买时确认不宜退货的商品除外。退货的商品应当完好；经营者应当自收到退回商品之日起"
        "七日内返还价款；退回商品的运费由消费者承担，另有约定的按照约定。"
    ),
)
CRPL_55 = Rule(
    "crpl_55",
    CRPL,
    gettext_lazy("第五十五条第一款"),
    gettext_lazy(
        "经营者提供商品或者服务有欺诈行为的，应当按照消费者的要求增加赔偿其受到的损失，增加赔偿的金额为消费者购买商品的"
        "价款或者接受服务的费用的三倍；增加赔偿的金额不足五百元的，为五百元。法律另有规定的，依照其规定。"
    ),
)
FOOD_148 = Rule(
    "food_148",
    FOOD_SAFETY,
    gettext_lazy("第一百四十八条第二款"),
    gettext_lazy(
        "生产不符合食品安全标准的食品或者经营明知是不符合食品安全标准的食品，消费者除要求赔偿损失外，还可以向生产者或者"
        "经营者要求支付价款十倍或者损失三倍的赔偿金；增加赔偿的金额不足一千元的，为一千元。但是，食品的标签、说明书存在"
        "不影响食品安全且不会对消费者造成误导的瑕疵的除外。"
    ),
)
PQL_41 = Rule(
    "pql_41",
    PRODUCT_QUALITY,
    gettext_lazy("第四十一条"),
    gettext_lazy(
        "因产品存在缺陷造成人身、缺陷产品以外的其他财产损害的，生产者应当承担赔偿责任。生产者能够证明有下列情形之一的，"
        "不承担赔偿责任：（一）未将产品投入流通的；（二）产品投入流通时，引起损害的缺陷尚不存在的；"
        "（三）将产品投入流通时的科学技术水平尚不能发现缺陷的存在的。"
    ),
)
RULES: dict[str, Rule] = {r.code: r for r in (CRPL_24, CRPL_25, CRPL_55, FOOD_148, PQL_41)}


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _yuan(value: Decimal) -> str:
    return f"{_money(value):,.2f}"


def _days_after(received_on: date, asked_on: date) -> int:
    return (asked_on - received_on).days


def crpl_55_fraud(price: Decimal) -> Result:
    """Fraud: additional compensation of 3x the price (or service fee), at least 500 CNY."""
    tripled = _money(price * 3)
    amount = max(tripled, Decimal("500.00"))
    steps = [_("价款 %(p)s 元 × 3 = %(t)s 元") % {"p": _yuan(price), "t": _yuan(tripled)}]
    if tripled < 500:
        steps.append(_("不足五百元，按五百元计：500.00 元"))
    return Result(
        CRPL_55,
        applies=True,
        amount=amount,
        remedies=["return_refund", "compensation"],
        steps=steps,
        notes=[
            _("增加赔偿在赔偿消费者所受损失（如退还价款）之外。"),
            _("须认定经营者有欺诈行为（故意告知虚假情况或隐瞒真实情况）。"),
            _("法律另有规定的，依照其规定：不符合食品安全标准的食品适用《食品安全法》第一百四十八条。"),
        ],
    )


def food_safety_148(price: Decimal, loss: Decimal | None = None, *, labelling_defect_only: bool = False) -> Result:
    """Food not meeting food-safety standards: 10x the price or 3x the loss, at least 1,000 CNY; the
    higher of the two is proposed (the consumer chooses which to claim)."""
    if labelling_defect_only:
        return Result(
            FOOD_148,
            applies=False,
            amount=Decimal("0.00"),
            steps=[_("标签、说明书的瑕疵不影响食品安全且不会误导消费者：不适用惩罚性赔偿。")],
            notes=[_("消费者仍可要求赔偿实际损失，或依约退换。")],
        )
    ten = _money(price * 10)
    steps = [_("价款 %(p)s 元 × 10 = %(t)s 元") % {"p": _yuan(price), "t": _yuan(ten)}]
    best = ten
    if loss is not None:
        three = _money(loss * 3)
        steps.append(_("损失 %(l)s 元 × 3 = %(t)s 元") % {"l": _yuan(loss), "t": _yuan(three)})
        if three > ten:
            best = three
        steps.append(_("取较高者：%(b)s 元") % {"b": _yuan(best)})
    amount = max(best, Decimal("1000.00"))
    if best < 1000:
        steps.append(_("不足一千元，按一千元计：1,000.00 元"))
    return Result(
        FOOD_148,
        applies=True,
        amount=amount,
        remedies=["return_refund", "compensation"],
        steps=steps,
        notes=[
            _("赔偿金在赔偿损失之外；价款十倍或损失三倍由消费者选择主张。"),
            _("经营者须“明知”不符合食品安全标准；生产者不以明知为条件。"),
        ],
    )


def crpl_24_quality(
    *,
    received_on: date,
    asked_on: date,
    price: Decimal | None = None,
    rule_or_agreement: bool = False,
    termination_conditions_met: bool = False,
) -> Result:
    """Goods not meeting quality requirements: return within 7 days of receipt; afterwards return only
    where the contract may be terminated by law, otherwise replacement or repair."""
    days = _days_after(received_on, asked_on)
    steps = [_("自收货次日起算，至今第 %(d)d 日") % {"d": days}]
    notes = [_("退货、更换、修理的运输等必要费用由经营者承担。")]
    if rule_or_agreement:
        notes.insert(0, _("有国家规定（如三包规定）或当事人约定的，先依照规定或约定。"))
    if days < 0:
        return Result(CRPL_24, applies=False, steps=[_("要求日期早于收货日期，请核对。")])
    if days <= 7:
        remedies = ["return_refund", "replacement", "repair"]
        steps.append(_("七日内：可以退货，也可以要求更换、修理"))
    elif termination_conditions_met:
        remedies = ["return_refund", "replacement", "repair"]
        steps.append(_("已过七日，但符合法定解除合同条件：可以及时退货"))
    else:
        remedies = ["replacement", "repair"]
        steps.append(_("已过七日且不符合法定解除合同条件：可以要求更换、修理"))
    amount = None
    if price is not None and "return_refund" in remedies:
        amount = _money(price)
        steps.append(_("退货应退价款：%(p)s 元") % {"p": _yuan(price)})
    return Result(CRPL_24, applies=True, amount=amount, remedies=remedies, steps=steps, notes=notes)


# The exceptions to the 7-day no-reason return (CRPL art. 25 para 1 (1)-(4) and para 2).
ART_25_EXCEPTIONS = {
    "custom_made": gettext_lazy("消费者定作的"),
    "perishable": gettext_lazy("鲜活易腐的"),
    "digital_opened": gettext_lazy("在线下载或者消费者拆封的音像制品、计算机软件等数字化商品"),
    "newspaper": gettext_lazy("交付的报纸、期刊"),
    "confirmed_non_returnable": gettext_lazy("根据商品性质并经消费者在购买时确认不宜退货的"),
}


def crpl_25_no_reason_return(
    *,
    received_on: date,
    asked_on: date,
    price: Decimal | None = None,
    distance_sale: bool = True,
    exception: str = "",
    intact: bool = True,
) -> Result:
    """The 7-day no-reason return for distance sales (online, TV, phone, mail order)."""
    days = _days_after(received_on, asked_on)
    steps = [_("自收货次日起算，至今第 %(d)d 日") % {"d": days}]
    refused: str | None = None
    if not distance_sale:
        refused = _("不是网络、电视、电话、邮购等远程方式销售的商品。")
    elif exception:
        refused = _("属于除外商品：%(what)s。") % {"what": ART_25_EXCEPTIONS[exception]}
    elif days < 0:
        refused = _("要求日期早于收货日期，请核对。")
    elif days > 7:
        refused = _("已超过收货后七日。")
    elif not intact:
        refused = _("退回的商品应当完好。")
    if refused:
        steps.append(refused)
        return Result(
            CRPL_25,
            applies=False,
            steps=steps,
            notes=[_("不适用无理由退货时，商品有质量问题的仍可依第二十四条处理。")],
        )
    steps.append(_("七日内、远程销售、非除外商品、商品完好：可以无理由退货"))
    amount = None
    if price is not None:
        amount = _money(price)
        steps.append(_("应于收到退回商品之日起七日内返还价款：%(p)s 元") % {"p": _yuan(price)})
    return Result(
        CRPL_25,
        applies=True,
        amount=amount,
        remedies=["return_refund"],
        steps=steps,
        notes=[_("退回商品的运费由消费者承担；经营者和消费者另有约定的，按照约定。")],
    )


PQL_41_DEFENCES = {
    "not_in_circulation": gettext_lazy("未将产品投入流通"),
    "defect_absent_at_circulation": gettext_lazy("产品投入流通时，引起损害的缺陷尚不存在"),
    "undiscoverable": gettext_lazy("将产品投入流通时的科学技术水平尚不能发现缺陷的存在"),
}


def pql_41_defences(defences: list[str]) -> Result:
    """The producer's defences against liability for damage a defective product caused. `defences`
    are those the producer can prove; any one of them relieves the producer."""
    proven = [d for d in PQL_41_DEFENCES if d in set(defences)]
    if proven:
        steps = [_("生产者能够证明：%(what)s") % {"what": PQL_41_DEFENCES[d]} for d in proven]
        steps.append(_("生产者不承担赔偿责任"))
        return Result(
            PQL_41,
            applies=False,
            steps=steps,
            notes=[
                _("举证责任在生产者；未能证明的，抗辩不成立。"),
                _("免责的是生产者；销售者的责任另依第四十二条判断。"),
            ],
        )
    return Result(
        PQL_41,
        applies=True,
        remedies=["compensation"],
        steps=[_("生产者未证明任何法定免责事由：应当赔偿缺陷产品造成的人身、其他财产损害")],
        notes=[_("赔偿范围依第四十四条（医疗费、误工费、财产损失等），由经办人核定。")],
    )


# --- the calculator's entry point: one rule, its inputs as typed in a form or sent to the API --------

_TRUE = {"1", "true", "on", "yes"}


def _flag(values: Any, name: str, default: bool = False) -> bool:
    raw = values.get(name)
    if raw is None or raw == "":
        return default
    return raw is True or str(raw).strip().lower() in _TRUE


def _date(values: Any, name: str) -> date:
    from core.errors import ValidationError

    raw = values.get(name)
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ValidationError(name, _("请填写日期，例如 2025-03-01。")) from None


def calculate(rule: str, values: Any) -> Result:
    """Run one rule on inputs from a form or the API (strings or typed values); a bad input raises
    core.errors.ValidationError naming the field."""
    from core.errors import ValidationError

    from .money import parse_amount

    if rule not in RULES:
        raise ValidationError("rule", _("请选择法律规则。"))
    if rule == "crpl_55":
        return crpl_55_fraud(parse_amount(values.get("price"), "price"))  # type: ignore[arg-type]
    if rule == "food_148":
        labelling = _flag(values, "labelling_defect_only")
        price = parse_amount(values.get("price"), "price", required=not labelling) or Decimal(0)
        loss = parse_amount(values.get("loss"), "loss", required=False)
        return food_safety_148(price, loss, labelling_defect_only=labelling)
    if rule == "pql_41":
        raw = values.getlist("defences") if hasattr(values, "getlist") else values.get("defences") or []
        unknown = [d for d in raw if d not in PQL_41_DEFENCES]
        if unknown:
            raise ValidationError("defences", _("未知的免责事由：%(d)s") % {"d": ", ".join(map(str, unknown))[:100]})
        return pql_41_defences(list(raw))
    received_on, asked_on = _date(values, "received_on"), _date(values, "asked_on")
    price = parse_amount(values.get("price"), "price", required=False)
    if rule == "crpl_24":
        return crpl_24_quality(
            received_on=received_on,
            asked_on=asked_on,
            price=price,
            rule_or_agreement=_flag(values, "rule_or_agreement"),
            termination_conditions_met=_flag(values, "termination_conditions_met"),
        )
    exception = str(values.get("exception") or "")
    if exception and exception not in ART_25_EXCEPTIONS:
        raise ValidationError("exception", _("未知的除外情形。"))
    return crpl_25_no_reason_return(
        received_on=received_on,
        asked_on=asked_on,
        price=price,
        distance_sale=_flag(values, "distance_sale", default=True),
        exception=exception,
        intact=_flag(values, "intact", default=True),
    )
