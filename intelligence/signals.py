"""Signals read from a complaint's text, in Chinese and English: risk flags (each with the phrase that
raised it, negation handled), sentiment with emotion intensity, a complainant-type suggestion with its
signals, and a priority suggestion with its reasons.

Rules, not a trained model: every organisation's history differs, but a threat to go to the press or to
court reads the same everywhere, and an agent must see *why* a flag was raised. The lexicons are ours
(written for complaints, not copied from a dataset); `docs/intelligence.md` gives their measured
accuracy on the review sets in ../shared/data.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

# --- risk flags ------------------------------------------------------------------------------------

# flag -> cue patterns. Chinese cues are plain substrings (no word boundaries in Chinese); English
# cues are whole words/phrases, matched case-insensitively.
_ZH_CUES: dict[str, tuple[str, ...]] = {
    "media": (
        "曝光",
        "媒体",
        "微博",
        "抖音",
        "快手",
        "小红书",
        "记者",
        "电视台",
        "报社",
        "新闻",
        "头条",
        "上热搜",
        "朋友圈",
        "网上公开",
        "发到网上",
        "发帖",
    ),
    "legal": (
        "起诉",
        "律师",
        "法院",
        "诉讼",
        "打官司",
        "法律途径",
        "法律手段",
        "法律程序",
        "追究法律责任",
        "告你们",
        "告到底",
        "仲裁",
        "律师函",
    ),
    "regulator": (
        "12315",
        "12345",
        "市场监管",
        "市场监督管理",
        "工商局",
        "工商部门",
        "消协",
        "消费者协会",
        "质监",
        "银保监",
        "金融监管",
        "药监",
        "监管部门",
        "有关部门",
        "315",
    ),
    "safety": (
        "受伤",
        "烫伤",
        "烧伤",
        "划伤",
        "割伤",
        "触电",
        "漏电",
        "起火",
        "着火",
        "自燃",
        "爆炸",
        "炸了",
        "冒烟",
        "中毒",
        "过敏",
        "住院",
        "送医",
        "急诊",
        "窒息",
        "噎住",
        "吃出",
        "异物",
        "变质",
        "发霉",
        "安全隐患",
        "拉肚子",
        "腹泻",
        "呕吐",
    ),
    "group": (
        "集体投诉",
        "联名",
        "大家一起",
        "很多人",
        "好多人",
        "多名消费者",
        "群体",
        "集体维权",
        "维权群",
        "不止我一个",
        "不止我一人",
        "其他顾客也",
        "其他消费者也",
    ),
}
_EN_CUES: dict[str, tuple[str, ...]] = {
    "media": (
        r"media",
        r"social media",
        r"journalists?",
        r"reporters?",
        r"the news",
        r"news(?:paper)?s?",
        r"tv station",
        r"twitter",
        r"facebook",
        r"tiktok",
        r"youtube",
        r"yelp",
        r"go public",
        r"post (?:this|it) online",
        r"the press",
    ),
    "legal": (
        r"sue",
        r"suing",
        r"lawsuits?",
        r"(?:my|our|a|an) (?:lawyer|attorney)s?",
        r"legal action",
        r"take (?:you|them|this|it) to court",
        r"small claims",
        r"litigation",
        r"class action",
        r"legal counsel",
        r"court",
    ),
    "regulator": (
        r"cfpb",
        r"consumer financial protection bureau",
        r"bbb",
        r"better business bureau",
        r"ftc",
        r"federal trade commission",
        r"attorneys? generals?(?:'s)?(?: office)?",
        r"fcc",
        r"regulators?",
        r"department of (?:insurance|banking|financial services)",
        r"ombudsman",
    ),
    "safety": (
        r"injur(?:y|ies|ed)",
        r"hurt",
        r"caught fire",
        r"on fire",
        r"fire hazard",
        r"fire",
        r"explo(?:de|ded|sion)",
        r"electric shock",
        r"electrocuted",
        r"burn(?:ed|t|s)? (?:my|his|her|our)",
        r"hospital(?:ized)?",
        r"emergency room",
        r"poison(?:ing|ed)?",
        r"food poisoning",
        r"allergic reaction",
        r"chok(?:e|ed|ing)",
        r"smoke",
        r"unsafe",
        r"safety hazard",
        r"mold",
    ),
    "group": (
        r"class action",
        r"many (?:other )?(?:customers|consumers|people)",
        r"other victims",
        r"(?:i am|i'm) not the only one",
        r"we are not the only",
        r"group of (?:us|customers|consumers)",
        r"petition",
        r"other customers (?:have|had)",
    ),
}
# Phrases that contain a cue but are no threat: checked around an English or Chinese hit.
_EN_NOT = re.compile(
    r"power of attorney|attorneys? generals?|(?:their|its|his|her|the company's|collection|tax|opposing) "
    r"(?:lawyer|attorney)s?|court (?:costs|fees)|food court|hurt (?:my|our) (?:credit|score|feelings)|"
    r"fire(?:d|ing)? (?:me|him|her)|"
    r"the news (?:that|of) (?:my|the) (?:payment|loan|account)",
    re.IGNORECASE,
)
_ZH_FIGURATIVE = re.compile(r"(?:很|真|好|心里?|感情|心灵|这次)受伤|受伤的心|没有受伤|未受伤")
# Negation: Chinese negators just before the cue in the same clause ("不会起诉", "没有受伤");
# English negators within four words before it ("will not sue", "no intention of going to the press").
_ZH_NEGATORS = (
    "不会",
    "不想",
    "不打算",
    "不准备",
    "不考虑",
    "没有",
    "没",
    "无意",
    "并不",
    "不要",
    "别",
    "暂不",
    "不用",
    "不必",
    "未",
    "不至于",
    "不",
)
_ZH_WINDOW = 4
_EN_NEGATION = re.compile(
    r"\b(?:not|no|nobody|none|never|without|won't|don't|didn't|wouldn't|isn't|wasn't|n't|nor)\b", re.IGNORECASE
)
_EN_WINDOW_WORDS = 4
# A conditional threat is a threat: "如果不退款我就起诉", "unless you refund me I will sue".
_ZH_CONDITIONAL = ("如果", "要是", "若", "否则", "不然", "再不", "除非")
_CLAUSE = re.compile(r"[。！？!?；;，,\n]")


def _en_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(cues) + r")\b", re.IGNORECASE)


_EN_PATTERNS = {flag: _en_pattern(cues) for flag, cues in _EN_CUES.items()}
_ZH_PATTERNS = {
    flag: re.compile("|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True)))
    for flag, cues in _ZH_CUES.items()
}


@dataclass
class RiskHit:
    flag: str
    phrase: str  # the cue as written
    context: str  # the clause around it, for the agent
    start: int
    end: int
    negated: bool = False


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    left = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
    right_match = _CLAUSE.search(text, end)
    return left, right_match.start() if right_match else len(text)


def _zh_negated(text: str, start: int, clause_start: int) -> bool:
    before = text[max(clause_start, start - _ZH_WINDOW) : start]
    if not any(n in before for n in _ZH_NEGATORS):
        return False
    # "不退款就起诉": the negator belongs to the condition, not to the threat.
    head = text[clause_start:start]
    if any(c in head for c in _ZH_CONDITIONAL) or "就" in before or "才" in before:
        return False
    return True


def _en_negated(text: str, start: int, clause_start: int) -> bool:
    words = re.findall(r"[\w']+", text[clause_start:start])[-_EN_WINDOW_WORDS:]
    window = " ".join(words)
    if not _EN_NEGATION.search(window) and not window.lower().endswith("n't"):
        return False
    return not re.search(r"\b(?:unless|otherwise|or else|if)\b", text[clause_start:start], re.IGNORECASE)


def risk_hits(text: str) -> list[RiskHit]:
    """Every cue in the text with its flag, the clause it sits in, and whether it is negated."""
    hits: list[RiskHit] = []
    for flag, pattern in _ZH_PATTERNS.items():
        for m in pattern.finditer(text):
            left, right = _clause(text, m.start(), m.end())
            around = text[max(0, m.start() - 3) : m.end() + 3]
            if flag == "safety" and m.group() == "受伤" and _ZH_FIGURATIVE.search(around):
                negated = "没有" in around or "未受伤" in around
                if not negated:
                    continue  # 心很受伤: hurt feelings, not an injury
            else:
                negated = _zh_negated(text, m.start(), left)
            hits.append(RiskHit(flag, m.group(), text[left:right].strip()[:120], m.start(), m.end(), negated))
    exceptions = [(m.start(), m.end()) for m in _EN_NOT.finditer(text)]
    for flag, pattern in _EN_PATTERNS.items():
        for m in pattern.finditer(text):
            if any(s <= m.start() and m.end() <= e for s, e in exceptions):
                continue  # "power of attorney", "their attorneys", "press 1"…
            left, right = _clause(text, m.start(), m.end())
            negated = _en_negated(text, m.start(), left)
            hits.append(RiskHit(flag, m.group(), text[left:right].strip()[:120], m.start(), m.end(), negated))
    hits.sort(key=lambda h: (h.start, h.flag))
    return hits


def risk_flags(text: str) -> dict[str, list[str]]:
    """flag -> the phrases that raised it (negated cues left out)."""
    found: dict[str, list[str]] = {}
    for hit in risk_hits(text):
        if not hit.negated and hit.phrase not in found.setdefault(hit.flag, []):
            found[hit.flag].append(hit.phrase)
    return {flag: phrases for flag, phrases in found.items() if phrases}


# --- sentiment and intensity -------------------------------------------------------------------------

_ZH_NEG_WORDS = (
    "烫伤",
    "受伤",
    "起火",
    "爆炸",
    "中毒",
    "善罢甘休",
    "曝光",
    "赔偿",
    "欺诈",
    "差",
    "很差",
    "太差",
    "垃圾",
    "失望",
    "坑",
    "骗",
    "欺骗",
    "忽悠",
    "投诉",
    "退货",
    "退款",
    "破",
    "坏",
    "烂",
    "慢",
    "贵",
    "不满",
    "愤怒",
    "生气",
    "恶心",
    "难吃",
    "难用",
    "难受",
    "糟糕",
    "后悔",
    "无语",
    "差劲",
    "态度差",
    "不好",
    "不行",
    "不值",
    "不能用",
    "不退",
    "不给",
    "没人管",
    "敷衍",
    "推诿",
    "拖延",
    "欺负",
    "霸王",
    "黑心",
    "假货",
    "假的",
    "劣质",
    "问题",
    "故障",
    "损坏",
    "漏",
    "脏",
    "吵",
    "臭",
    "冷",
    "受骗",
    "上当",
    "维权",
    "气死",
    "凭什么",
    "太坑",
    "坑人",
    "不负责",
    "无良",
    "差评",
    "噪音",
    "异味",
    "变质",
    "过期",
    "少了",
    "缺",
    "错",
)
_ZH_POS_WORDS = (
    "好",
    "很好",
    "不错",
    "满意",
    "喜欢",
    "推荐",
    "值得",
    "快",
    "方便",
    "干净",
    "舒服",
    "舒适",
    "划算",
    "实惠",
    "好吃",
    "好用",
    "漂亮",
    "热情",
    "周到",
    "感谢",
    "谢谢",
    "赞",
    "棒",
    "完美",
    "精美",
    "好评",
    "新鲜",
    "正品",
    "物美价廉",
    "超值",
    "给力",
    "贴心",
    "耐心",
    "及时",
    "安静",
    "宽敞",
    "便宜",
    "惊喜",
    "专业",
    "清晰",
    "流畅",
)
_EN_NEG_WORDS = (
    "bad",
    "terrible",
    "horrible",
    "awful",
    "worst",
    "poor",
    "broken",
    "defective",
    "damaged",
    "late",
    "never",
    "refund",
    "fraud",
    "scam",
    "unfair",
    "angry",
    "upset",
    "frustrated",
    "frustrating",
    "disappointed",
    "unacceptable",
    "rude",
    "ridiculous",
    "useless",
    "lied",
    "lie",
    "wrong",
    "error",
    "failed",
    "fail",
    "denied",
    "refused",
    "ignored",
    "harass",
    "harassment",
    "threatened",
    "charged",
    "overcharged",
    "dispute",
    "complaint",
    "problem",
    "issue",
    "mistake",
    "incorrect",
    "unauthorized",
    "stolen",
    "delay",
    "delayed",
    "nightmare",
    "disgusting",
    "dirty",
    "noisy",
    "misleading",
    "deceptive",
    "negligent",
    "incompetent",
)
_EN_POS_WORDS = (
    "good",
    "great",
    "excellent",
    "happy",
    "satisfied",
    "thank",
    "thanks",
    "helpful",
    "resolved",
    "quick",
    "fast",
    "friendly",
    "nice",
    "love",
    "perfect",
    "recommend",
    "appreciate",
    "pleased",
    "clean",
    "comfortable",
)
_ZH_INTENSIFIERS = ("非常", "特别", "极其", "太", "超级", "十分", "极", "最", "真的", "简直", "完全", "彻底", "根本")
_EN_INTENSIFIERS = ("very", "extremely", "absolutely", "completely", "totally", "really", "so", "utterly", "never")
_ZH_PROFANITY = ("妈的", "他妈", "尼玛", "滚", "傻逼", "垃圾", "去死", "狗屎", "混蛋", "王八蛋", "骗子", "无耻")
_EN_PROFANITY = ("damn", "hell", "crap", "shit", "fuck", "idiot", "idiots", "stupid", "disgrace", "scammers", "crooks")
_ZH_FLIP = ("不", "没", "没有", "并不", "不太", "不怎么", "毫不")

_EN_WORD = re.compile(r"[A-Za-z']+")
_ZH_NEG_RE = re.compile("|".join(re.escape(w) for w in sorted(_ZH_NEG_WORDS, key=len, reverse=True)))
_ZH_POS_RE = re.compile("|".join(re.escape(w) for w in sorted(_ZH_POS_WORDS, key=len, reverse=True)))


@dataclass
class Sentiment:
    score: float  # -1 (negative) … +1 (positive)
    intensity: float  # 0 (calm) … 1 (very strong emotion)
    label: str  # negative / neutral / positive
    signals: list[str] = field(default_factory=list)


def _zh_polarity(text: str) -> tuple[float, float]:
    positive = negative = 0.0
    for pattern, sign in ((_ZH_POS_RE, 1), (_ZH_NEG_RE, -1)):
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 2) : m.start()]
            flipped = any(before.endswith(f) for f in _ZH_FLIP) and m.group() not in ("不好", "不行", "不值", "不满")
            boost = 1.5 if any(text[max(0, m.start() - 3) : m.start()].endswith(i) for i in _ZH_INTENSIFIERS) else 1.0
            value = sign * boost * (-0.5 if flipped else 1.0)
            if value > 0:
                positive += value
            else:
                negative -= value
    return positive, negative


def _en_polarity(words: list[str]) -> tuple[float, float]:
    positive = negative = 0.0
    negative_words, positive_words = set(_EN_NEG_WORDS), set(_EN_POS_WORDS)
    for i, word in enumerate(words):
        sign = 1 if word in positive_words else -1 if word in negative_words else 0
        if not sign:
            continue
        before = words[max(0, i - 3) : i]
        flipped = any(
            w in ("not", "no", "never", "isn't", "wasn't", "don't", "didn't", "won't") or w.endswith("n't")
            for w in before
        )
        boost = 1.5 if any(w in _EN_INTENSIFIERS for w in before) else 1.0
        value = sign * boost * (-0.5 if flipped else 1.0)
        if value > 0:
            positive += value
        else:
            negative -= value
    return positive, negative


def sentiment(text: str) -> Sentiment:
    """Lexicon polarity (negation flips, intensifiers weigh more) and an intensity from exclamation,
    intensifiers, profanity, shouting and the density of negative words."""
    words = [w.lower() for w in _EN_WORD.findall(text)]
    zh_pos, zh_neg = _zh_polarity(text)
    en_pos, en_neg = _en_polarity(words)
    positive, negative = zh_pos + en_pos, zh_neg + en_neg
    score = (positive - negative) / (positive + negative + 1.0)
    signals: list[str] = []
    exclamations = text.count("!") + text.count("！")
    intensifiers = sum(text.count(i) for i in _ZH_INTENSIFIERS) + sum(w in _EN_INTENSIFIERS for w in words)
    profanity = sum(text.count(p) for p in _ZH_PROFANITY) + sum(w in _EN_PROFANITY for w in words)
    shouting = sum(1 for w in _EN_WORD.findall(text) if len(w) >= 3 and w.isupper())
    repeated = len(re.findall(r"[!！?？]{2,}", text))
    length = max(len(text), 1)
    if exclamations:
        signals.append(f"exclamation×{exclamations}")
    if intensifiers:
        signals.append(f"intensifier×{intensifiers}")
    if profanity:
        signals.append(f"insult×{profanity}")
    if shouting:
        signals.append(f"capitals×{shouting}")
    raw = (
        0.12 * min(exclamations, 5)
        + 0.08 * min(intensifiers, 5)
        + 0.2 * min(profanity, 3)
        + 0.08 * min(shouting, 5)
        + 0.1 * min(repeated, 3)
        + min(0.3, 40 * negative / length * 0.1)
    )
    intensity = round(min(1.0, raw), 3)
    label = "negative" if score < -0.1 else "positive" if score > 0.1 else "neutral"
    return Sentiment(round(score, 3), intensity, label, signals)


# --- complainant type ---------------------------------------------------------------------------

_MONEY = re.compile(
    r"(?:\d[\d,]*(?:\.\d+)?\s*(?:元|块|rmb|cny|yuan|dollars?|usd)|[¥$]\s?\d[\d,]*(?:\.\d+)?)", re.IGNORECASE
)
_DEMAND = re.compile(
    r"赔偿|补偿|赔付|倍|索赔|精神损失|退一赔三|假一赔十|要求.{0,8}(?:元|赔|补)|compensat|reimburs|damages|"
    r"pay (?:me|for)|refund (?:plus|and)|\bowe me\b|settle",
    re.IGNORECASE,
)
_DETAIL = re.compile(
    r"\d{4}[-/年.]\d{1,2}[-/月.]\d{1,2}|\d{1,2}[:：]\d{2}|订单号|单号|order (?:number|no|#)|"
    r"第[一二三四五六七八九十\d]+[条点、]|"
    r"^\s*(?:\d+[.、)]|[（(]\d+[)）]|[一二三四五六七八九十][、.])|条例|法第|article \d|section \d|§",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass
class ComplainantType:
    type: str  # detail_oriented / negotiator / venting, or "" when nothing stands out
    signals: list[str]
    scores: dict[str, float]


def complainant_type(text: str, mood: Sentiment | None = None) -> ComplainantType:
    """挑剔型 / 谈判型 / 宣泄型 from what the text does: precise facts (dates, numbers, rules cited),
    demands of money, or strong emotion with few facts. A suggestion for the agent, with its signals."""
    mood = mood or sentiment(text)
    details = len(_DETAIL.findall(text))
    money = len(_MONEY.findall(text))
    demands = len(_DEMAND.findall(text))
    scores = {
        "detail_oriented": min(1.0, 0.15 * details + (0.2 if len(text) > 400 else 0.0)),
        "negotiator": min(1.0, 0.3 * demands + 0.1 * money),
        "venting": min(1.0, mood.intensity * (1.2 if details < 2 else 0.8) + (0.15 if mood.score < -0.5 else 0.0)),
    }
    signals: list[str] = []
    if details:
        signals.append(f"facts×{details}")
    if money:
        signals.append(f"amounts×{money}")
    if demands:
        signals.append(f"demands×{demands}")
    signals.extend(mood.signals)
    best = max(scores, key=lambda k: scores[k])
    return ComplainantType(best if scores[best] >= 0.3 else "", signals, {k: round(v, 3) for k, v in scores.items()})


# --- priority -----------------------------------------------------------------------------------------


@dataclass
class PrioritySuggestion:
    priority: str
    reasons: list[str]


def suggest_priority(
    *,
    severity: str,
    flags: set[str],
    mood: Sentiment,
    repeat_count: int = 0,
    amount: float | None = None,
    vulnerable: bool = False,
) -> PrioritySuggestion:
    """P1–P4 from severity, risk flags, emotion and the customer's weight (repeat complaints, the money
    at stake), with the reasons. The rules of DESIGN.md §4: safety is P1, a legal/media/regulator
    threat at least P2."""
    reasons: list[str] = []
    level = {"major": 1, "serious": 2, "general": 3, "minor": 4}.get(severity, 3)
    reasons.append(f"severity={severity or 'general'} → P{level}")

    def raise_to(target: int, why: str) -> None:
        nonlocal level
        if target < level:
            level = target
            reasons.append(f"{why} → P{target}")

    if "safety" in flags:
        raise_to(1, "risk=safety")
    for flag in ("legal", "media", "regulator", "group"):
        if flag in flags:
            raise_to(2, f"risk={flag}")
    if vulnerable:
        raise_to(2, "vulnerable consumer")
    if mood.intensity >= 0.6 and mood.score < 0:
        raise_to(max(1, min(level, 3) - 1) if level >= 3 else level, f"intensity={mood.intensity:.2f}")
    if repeat_count >= 2:
        raise_to(max(2, level - 1), f"repeat complaints={repeat_count}")
    if amount is not None and amount >= 10000:
        raise_to(max(2, level - 1), f"amount={amount:,.0f}")
    return PrioritySuggestion(f"P{level}", reasons)


# --- all of it ----------------------------------------------------------------------------------------


def analyse(
    text: str,
    *,
    severity: str = "general",
    repeat_count: int = 0,
    amount: float | None = None,
    vulnerable: bool = False,
    extra_flags: set[str] | None = None,
) -> dict[str, Any]:
    """Everything above for one text, as plain data (stored with the case, returned by the API)."""
    text = (text or "")[:20000]
    hits = risk_hits(text)
    flags = {h.flag for h in hits if not h.negated}
    mood = sentiment(text)
    kind = complainant_type(text, mood)
    priority = suggest_priority(
        severity=severity,
        flags=flags | (extra_flags or set()),
        mood=mood,
        repeat_count=repeat_count,
        amount=amount,
        vulnerable=vulnerable,
    )
    return {
        "risk": [asdict(h) for h in hits],
        "flags": sorted(flags),
        "sentiment": asdict(mood),
        "complainant_type": asdict(kind),
        "priority": asdict(priority),
    }
