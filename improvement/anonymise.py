"""Anonymisation of a case's text for the case library: no names, phones, e-mails, addresses, order,
courier or ID numbers, chat IDs, nor names of relatives and staff.

Two layers. First every personal value known for the case is replaced wherever it appears: the
complainant's and the customer profile's name (with surname + 先生/女士, the given name alone, and a
romanised name's parts in either order), phone, e-mail, ID number, order number, staff involved, and
the addresses — whole and by part (district, road + number, building, room), since people write
"住在张杨路500号" rather than the stored "上海市浦东新区张杨路500号…". Then patterns catch what no field
holds: labelled order/courier numbers, WeChat/QQ IDs, long alphanumeric IDs, Chinese road + number
and building/room numbers, English street addresses, and a name written after a kinship or staff role
word (role kept, name replaced). Patterns are heuristics: the curator checks the preview before the
entry is saved (views.library_add)."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from complaints.selectors import _CONTACT_IN_TEXT

_CJK = r"\u3400-\u9fff"
# No \b: a Chinese character is a word character, so "身份证110105…" has no word boundary before the digits.
_ID_NUMBER = re.compile(r"(?<![\dA-Za-z])(?:\d{17}[\dXx]|\d{15})(?![\dA-Za-z])")
_ORDER_LABEL = re.compile(
    r"((?:订单|运单|快递单|物流单)号?|(?:快递|取件|单)号|tracking\s*(?:no\.?|number|#)|order\s*(?:no\.?|number|#))"
    r"(\s*(?:为|是|:|：|#)?\s*)([A-Za-z0-9][A-Za-z0-9_-]*\d[A-Za-z0-9_-]*|[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)",
    re.IGNORECASE,
)
_CHAT_ID = re.compile(
    r"(微信号?|微信|wechat(?:\s*id)?|weixin|vx|wx|QQ号?|qq)(\s*(?:号|为|是|:|：)?\s*)([A-Za-z0-9][A-Za-z0-9_.-]{3,})",
    re.IGNORECASE,
)
# 8+ characters of letters, digits, '_' or '-', with at least four digits: courier and order numbers,
# account IDs. Dates (2026-03-01) are left alone; short product models (KT-1001) are too short.
_LONG_ID = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{8,}(?![A-Za-z0-9_-])")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Characters that start a clause rather than a road name ("住在张杨路" → the road is 张杨路).
_NOT_IN_ROAD = "在住到于往至从是的了和与及送寄位址我他她你们"
_ROAD = re.compile(
    rf"[{_CJK}](?<![{_NOT_IN_ROAD}])[^\W\d_{_NOT_IN_ROAD}A-Za-z]{{0,7}}(?:路|街|大道|道|巷|胡同)\s*\d+\s*(?:号|弄)"
    rf"(?:\s*\d+\s*(?:号楼|栋|幢|单元|号|室|弄))*"
)
_BUILDING_NUMBER = re.compile(r"\d+\s*(?:号楼|栋|幢|单元|室|弄)(?:\s*\d+\s*(?:号楼|栋|幢|单元|室|号))*|\d+-\d+室")
_EN_STREET = re.compile(
    r"(?<![A-Za-z0-9])\d{1,5}[A-Za-z]?\s+(?:[A-Za-z]+\.?\s+){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl|Terrace|Highway|Hwy)"
    r"(?![A-Za-z])\.?",
    re.IGNORECASE,
)
# Parts of a stored address worth replacing on their own: district/county/town, road + number,
# residential compound or building, building/unit/room numbers.
_ADDRESS_PARTS = re.compile(
    rf"[{_CJK}]{{1,8}}?(?:新区|区|县|镇|乡|街道)"
    rf"|[{_CJK}]{{1,8}}?(?:路|街|大道|道|巷|胡同)\s*\d+\s*(?:号|弄)?"
    rf"|[{_CJK}A-Za-z0-9]{{2,12}}?(?:小区|大厦|花园|公寓|广场|中心|苑|村|大楼|新村|家园)"
    rf"|\d+\s*(?:号楼|栋|幢|单元|室|号)"
)
_ADMIN_LEVELS = re.compile(r"^[^\W\d_区县路街道镇乡]{1,6}?(?:省|自治区|特别行政区)|^[^\W\d_区县路街道镇乡省]{1,4}?市")
RELATIVES = ("妻子", "老婆", "丈夫", "老公", "儿子", "女儿", "父亲", "母亲", "爸爸", "妈妈", "哥哥", "姐姐",
             "弟弟", "妹妹", "爷爷", "奶奶", "朋友", "同事", "邻居")  # fmt: skip
STAFF_ROLES = ("店长", "经理", "主管", "师傅", "客服", "店员", "导购", "快递员", "送货员", "配送员", "安装工",
               "维修工", "司机", "收银员", "工程师", "专员", "销售")  # fmt: skip
# Common surnames: a name after a role word must start with one, so "客服态度很差" stays as it is.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "慕容", "令狐", "皇甫", "尉迟", "长孙", "夏侯")
# A third character after a two-character name that more likely starts the next words ("刘强态度").
_AFTER_NAME = set("说的了在是很也都和与态不就又给把被让对向跟要会讲来去打服太非还却告表同没答问拒回上下到说称")
_ROLE_NAME = re.compile(
    rf"({'|'.join(sorted(RELATIVES + STAFF_ROLES, key=len, reverse=True))})\s*"
    rf"((?:{'|'.join(_COMPOUND_SURNAMES)})[{_CJK}]{{1,2}}|[{_SURNAMES}][{_CJK}]{{1,2}})"
)
_TITLES = ("先生", "女士", "小姐", "老师")


def _name_pairs(name: str, person: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = [(name, person)]
    if re.fullmatch(rf"[{_CJK}]{{2,4}}", name):
        compound = len(name) == 4 or name[:2] in _COMPOUND_SURNAMES
        surname = name[:2] if compound else name[0]  # 欧阳娜娜: a compound surname
        pairs.extend((surname + title, person) for title in _TITLES)
        given = name[len(surname) :]
        if len(given) >= 2:
            pairs.append((given, person))  # the given name alone (三丰, 娜娜)
    else:
        parts = [p for p in re.split(r"[\s,.·]+", name) if p]
        if len(parts) >= 2:
            pairs.append((" ".join(reversed(parts)), person))  # Wang Fang / Fang Wang
            pairs.append(("".join(parts), person))  # WangFang
        # Each part of a romanised name on its own, as a whole word (see anonymise: letter boundaries).
        pairs.extend((part, person) for part in parts if len(part) >= 2 and re.fullmatch(r"[A-Za-z'-]+", part))
        pairs.extend((part, person) for part in parts if len(part) >= 2 and re.fullmatch(rf"[{_CJK}]+", part))
    return pairs


def address_parts(address: str) -> list[str]:
    """The whole address and the parts a person would write on their own (never province or city)."""
    address = address.strip()
    if not address:
        return []
    parts = [address]
    rest = address
    while True:  # peel off 省/市 so that "上海市浦东新区" yields 浦东新区, not 上海市浦东新区
        level = _ADMIN_LEVELS.match(rest)
        if not level:
            break
        rest = rest[level.end() :]
    parts.append(rest)
    for match in _ADDRESS_PARTS.finditer(rest):
        part = match.group(0).strip()
        if len(part) >= 3 or re.search(r"\d", part):
            parts.append(part)
    for match in _EN_STREET.finditer(address):
        parts.append(match.group(0))
        # "12 Elm St" stored, "12 Elm Street" written: the number and the street name, any suffix.
        words = match.group(0).rstrip(".").split()
        parts.append(" ".join(words[:-1]))
    return [p for p in dict.fromkeys(parts) if len(p) >= 2]


def _replacements(complaint: Any) -> list[tuple[str, str]]:
    person = _("投诉人")
    pairs: list[tuple[str, str]] = []
    customer = getattr(complaint, "customer", None) if getattr(complaint, "customer_id", None) else None
    names = {(complaint.complainant_name or "").strip(), (getattr(customer, "name", "") or "").strip()}
    for name in sorted(n for n in names if n):
        pairs.extend(_name_pairs(name, person))
    addresses = {complaint.complainant_address or "", getattr(customer, "address", "") or ""}
    for address in addresses:
        pairs.extend((part, _("[地址]")) for part in address_parts(address))
    values = [
        (complaint.order_no, _("[订单号]")),
        (complaint.complainant_phone, "***"),
        (complaint.complainant_email, "***"),
        (getattr(complaint, "complainant_id_number", ""), "***"),
    ]
    if customer is not None:
        values += [
            (customer.phone, "***"),
            (customer.email, "***"),
            (customer.id_number, "***"),
            (customer.customer_no, "***"),
        ]
    for value, label in values:
        if value and value.strip() and len(value.strip()) >= 3:
            pairs.append((value.strip(), label))
    for staff in re.split(r"[,，、;；\s]+", complaint.staff_involved or ""):
        if len(staff) >= 2:
            pairs.append((staff, _("[员工]")))
    return sorted(set(pairs), key=lambda pair: (-len(pair[0]), pair[0]))  # the longest first: 张三丰 before 张三


def _role_name(match: re.Match[str]) -> str:
    role, name = match.group(1), match.group(2)
    tail = ""
    if len(name) == 3 and name[:2] not in _COMPOUND_SURNAMES and name[2] in _AFTER_NAME:
        name, tail = name[:2], name[2]
    label = _("[员工]") if role in STAFF_ROLES else _("[姓名]")
    return f"{role}{label}{tail}"


def _long_id(match: re.Match[str]) -> str:
    token = match.group(0)
    if sum(c.isdigit() for c in token) < 4 or _DATE.fullmatch(token):
        return token
    return "***"


def anonymise(text: str, complaint: Any) -> str:
    if not text:
        return ""
    text = _EN_STREET.sub(_("[地址]"), text)  # first: "12 Elm Street" whole, before the stored "12 Elm"
    for value, replacement in _replacements(complaint):
        if re.fullmatch(r"[A-Za-z' -]+", value):
            pattern = rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])"  # "Li" the name, not "Like"
        else:
            pattern = re.escape(value)
        text = re.sub(pattern, replacement.replace("\\", r"\\"), text, flags=re.IGNORECASE)
    text = _ORDER_LABEL.sub(lambda m: f"{m.group(1)}{m.group(2) or ' '}[{_('订单号')}]", text)
    text = _CHAT_ID.sub(lambda m: f"{m.group(1)}{m.group(2) or ' '}***", text)
    text = _EMAIL.sub("***", text)
    text = _ID_NUMBER.sub("***", text)
    text = _ROAD.sub(_("[地址]"), text)
    text = _BUILDING_NUMBER.sub(_("[地址]"), text)
    text = _LONG_ID.sub(_long_id, text)
    text = _ROLE_NAME.sub(_role_name, text)
    return _CONTACT_IN_TEXT.sub("***", text)
