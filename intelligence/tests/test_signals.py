"""Risk flags with the phrase that raised them (negation handled), sentiment and intensity, the
complainant type and the priority suggestion: on made-up sentences, on real texts from ../shared/data,
and at intake, where the flags land on the case by a system `classify`."""

import csv
from pathlib import Path

import pytest
from django.test import Client

from complaints import actions as case_actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from intelligence import signals
from intelligence.models import CaseSignals
from ledger.models import LedgerEvent
from ledger.verify import verify

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我不会起诉你们，只想尽快退款。", {}),
        ("暂时不考虑起诉，先看你们怎么处理", {}),
        ("如果三天内不退款我就起诉你们！", {"legal": ["起诉"]}),
        ("不给说法就去法院告你们", {"legal": ["法院", "告你们"]}),
        ("孩子没有受伤，但水壶底座冒烟了", {"safety": ["冒烟"]}),
        ("这个行业怎样安慰我们受伤的心？", {}),
        ("我要发微博曝光你们，还要打12315", {"media": ["微博", "曝光"], "regulator": ["12315"]}),
        ("小区里好多人都买到了假货，我们准备集体投诉", {"group": ["好多人", "集体投诉"]}),
        ("I will not sue, I just want my money back.", {}),
        ("If you do not refund me I will sue.", {"legal": ["sue"]}),
        ("I am her power of attorney and we are not going to pay for it.", {}),
        (
            "I contacted the Attorney General's office and the CFPB.",
            {"regulator": ["Attorney General's office", "CFPB"]},
        ),
        ("The heater caught fire and my son was hospitalized.", {"safety": ["caught fire", "hospitalized"]}),
        ("Nobody was injured, thankfully.", {}),
    ],
)
def test_risk_flags_name_the_phrase_and_respect_negation(text, expected):  # type: ignore[no-untyped-def]
    assert signals.risk_flags(text) == expected


def test_a_negated_cue_is_kept_and_marked_so_the_agent_sees_why_it_did_not_count():
    hits = signals.risk_hits("我们不会起诉，但如果不处理就找记者。")
    assert [(h.flag, h.phrase, h.negated) for h in hits] == [("legal", "起诉", True), ("media", "记者", False)]
    assert hits[1].context == "但如果不处理就找记者"


def _rows(name: str, column: str, needle: str) -> list[str]:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} not present (the real data lives in ../shared/data)")
    with path.open(encoding="utf-8") as f:
        return [row[column] for row in csv.DictReader(f) if needle in row[column]]


@pytest.mark.parametrize(
    ("name", "column", "needle", "flag", "raised"),
    [
        ("online_shopping_reviews.csv", "review", "已打12315投诉", "regulator", True),
        ("online_shopping_reviews.csv", "review", "我想起诉你们", "legal", True),
        ("online_shopping_reviews.csv", "review", "苹果没有受伤的", "safety", False),
        ("online_shopping_reviews.csv", "review", "安慰我们受伤的心", "safety", False),
        ("online_shopping_reviews.csv", "review", "我还要打12315投诉", "regulator", True),
        ("online_shopping_reviews.csv", "review", "吃出来一个东西", "safety", True),
        ("online_shopping_reviews.csv", "review", "被曝光过的黑心企业", "media", True),
        ("cfpb_narratives.csv", "narrative", "within the law to file a lawsuit", "legal", True),
        ("cfpb_narratives.csv", "narrative", "I am her power of attorney", "legal", False),
        ("cfpb_narratives.csv", "narrative", "Attorney Generals office, should you continue", "regulator", True),
    ],
)
def test_real_complaints_from_the_shared_data(name, column, needle, flag, raised):  # type: ignore[no-untyped-def]
    texts = _rows(name, column, needle)
    assert texts, f"no row of {name} contains {needle!r}"
    for text in texts:
        assert (flag in signals.risk_flags(text)) is raised, text[:200]


def test_intensity_rises_with_exclamations_insults_and_intensifiers():
    calm = signals.sentiment("快递晚到了两天，请帮忙查一下物流。")
    angry = signals.sentiment("太坑人了！！！垃圾客服，骗子！我非常非常生气！")
    assert calm.intensity < 0.3 < angry.intensity
    assert angry.score < 0 and angry.label == "negative"
    assert any(s.startswith("exclamation") for s in angry.signals)
    assert signals.sentiment("服务很好，非常满意，谢谢！").label == "positive"
    assert signals.sentiment("The agent was rude and the product is defective!").score < 0
    assert signals.sentiment("").intensity == 0


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            "2024年3月5日14:20下单，订单号1234567。第一，商品与描述不符；第二，2024年3月8日联系客服无果；"
            "第三，依据消费者权益保护法第二十四条，要求退货。",
            "detail_oriented",
        ),
        ("要求退一赔三，赔偿我1500元，另外补偿精神损失500元，否则不接受。", "negotiator"),
        ("气死我了！！！垃圾！骗子！太坑了！！", "venting"),
    ],
)
def test_complainant_type_is_suggested_with_its_signals(text, kind):  # type: ignore[no-untyped-def]
    result = signals.complainant_type(text)
    assert result.type == kind
    assert result.signals


def test_priority_suggestion_explains_itself():
    calm = signals.sentiment("请查一下")
    safety = signals.suggest_priority(severity="general", flags={"safety"}, mood=calm)
    assert safety.priority == "P1" and "risk=safety → P1" in safety.reasons
    legal = signals.suggest_priority(severity="minor", flags={"legal"}, mood=calm)
    assert legal.priority == "P2" and legal.reasons[0] == "severity=minor → P4"
    repeat = signals.suggest_priority(severity="general", flags=set(), mood=calm, repeat_count=3)
    assert repeat.priority == "P2" and any("repeat" in r for r in repeat.reasons)
    assert signals.suggest_priority(severity="general", flags=set(), mood=calm).priority == "P3"


def test_empty_emoji_and_very_long_texts_do_not_crash():
    for text in ("", "😡😡😡", "1234567890", "退款" * 50000, "mixed 中英文 text 起诉 sue"):
        result = signals.analyse(text)
        assert set(result) == {"risk", "flags", "sentiment", "complainant_type", "priority"}


@pytest.fixture
def file(body, django_capture_on_commit_callbacks, settings):  # type: ignore[no-untyped-def]
    settings.COMPLAINTDESK_APPLY_TEXT_SIGNALS = True
    return _submitter(body, django_capture_on_commit_callbacks)


def _submitter(body, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    def submit(staff=None, **overrides):  # type: ignore[no-untyped-def]
        actor = Actor.staff(staff) if staff else Actor.consumer()
        with django_capture_on_commit_callbacks(execute=True):
            complaint, _code = case_actions.submit(
                check_intake(IntakeData(**body(**overrides)), staff=bool(staff)), actor=actor
            )
        return Complaint.objects.get(pk=complaint.pk)

    return submit


HAZARD = "电热水壶烧水时底座起火，孩子的手被烫伤了！！我不会善罢甘休，要找记者曝光。我们不会起诉，只要赔偿。"


def test_at_intake_the_flags_found_land_on_the_case_by_a_system_classify(cast, file):
    complaint = file(description=HAZARD)
    assert set(complaint.risk_flags) == {"safety", "media"}
    assert complaint.risk_legal_media_safety
    assert complaint.sentiment is not None and complaint.sentiment < 0
    row = CaseSignals.objects.get(complaint=complaint)
    assert row.flags == ["media", "safety"] and row.priority == "P1"
    assert ("legal", "起诉", True) in [(h["flag"], h["phrase"], h["negated"]) for h in row.risk]
    event = LedgerEvent.objects.get(complaint=complaint, action="classify")
    assert event.actor == "system" and "risk_flags" in event.changes and "sentiment" in event.changes
    assert verify().ok


def test_flags_the_complainant_ticked_are_kept(cast, file):
    complaint = file(staff=cast.agent, description="包装破损，请补发。", risk_flags=["vulnerable"], channel="phone")
    assert complaint.risk_flags == ["vulnerable"]
    assert CaseSignals.objects.get(complaint=complaint).flags == []


def test_the_case_page_and_the_api_show_the_phrases_and_hide_the_context_from_masked_roles(cast, file, api_as):
    complaint = file(description=HAZARD)
    complaint.department = cast.agent.memberships.first().department
    complaint.save(update_fields=["department"])
    client = Client()
    client.force_login(cast.supervisor)
    page = client.get(f"/staff/cases/{complaint.tracking_no}/").content.decode()
    assert 'id="risk-signals"' in page and "«起火»" in page and "底座起火" in page
    assert "否定语境，未计入" in page  # 不会起诉
    staff = api_as(cast.supervisor).get(f"/complaints/{complaint.tracking_no}/signals")
    assert staff.status_code == 200 and staff.json()["priority"] == "P1"
    assert any(h["context"] for h in staff.json()["hits"])
    masked = api_as(cast.analyst).get(f"/complaints/{complaint.tracking_no}/signals")
    assert masked.status_code == 200 and all(h["context"] == "" for h in masked.json()["hits"])
    assert api_as(cast.outsider).get(f"/complaints/{complaint.tracking_no}/signals").status_code == 404
    assert api_as().get(f"/complaints/{complaint.tracking_no}/signals").status_code == 401
