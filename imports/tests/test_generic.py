"""CSV, XLSX and JSON Lines through a mapping file: encodings, bad rows reported with their numbers
while good rows land, dry runs, customer matching as at intake."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from complaints.models import Complaint
from customers.actions import match_or_create_customer
from customers.models import Customer
from imports.encoding import EncodingError, detect
from imports.service import ImportFailed
from ledger.crypto import shred
from ledger.models import LedgerEvent

from .conftest import write_csv, write_jsonl, write_xlsx

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAPPING = {
    "source": "crm",
    "id": "工单号",
    "fields": {
        "description": "投诉内容",
        "complainant_name": "姓名",
        "complainant_phone": "电话",
        "complainant_email": "邮箱",
        "received_at": "受理日期",
        "amount_paid": "金额",
        "purchase_date": "购买日期",
        "category": "分类",
        "remedies_requested": "诉求",
    },
    "defaults": {"channel": "phone"},
}
HEADER = ["工单号", "投诉内容", "姓名", "电话", "邮箱", "受理日期", "金额", "购买日期", "分类", "诉求"]


def row(n: int, **changes: str) -> list[str]:
    values = {
        "工单号": f"CRM-{n}",
        "投诉内容": f"第{n}号：电热水壶使用三天后漏电，要求退款。",
        "姓名": "张三",
        "电话": f"1380013{n:04d}",
        "邮箱": "",
        "受理日期": "2024/03/05",
        "金额": "199.00",
        "购买日期": "2024-03-01",
        "分类": "product_quality",
        "诉求": "refund、compensation",
    }
    values.update(changes)
    return [values[h] for h in HEADER]


def intact() -> bool:
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    return "Ledger intact" in out.getvalue()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_chinese_csv_in_utf8_with_or_without_bom_and_in_gb18030_imports(org, tmp_path, run, encoding):
    path = write_csv(tmp_path / "crm.csv", [HEADER, row(1), row(2, 姓名="李四")], encoding=encoding)
    result = run(path, "csv", mapping=MAPPING)
    assert result.summary.created == 2, result.errors
    assert result.summary.encoding == {"gbk": "gb18030"}.get(encoding, encoding)
    case = Complaint.objects.get(external_source="crm", external_id="CRM-2")
    assert case.complainant_name == "李四" and case.description.startswith("第2号：电热水壶")
    assert case.complainant_phone == "+8613800130002" and case.channel == "phone"
    assert case.received_at == datetime(2024, 3, 5, tzinfo=SHANGHAI)
    assert case.tracking_no.startswith("TS20240305-")
    assert case.amount_paid == Decimal("199.00") and case.purchase_date == date(2024, 3, 1)
    assert case.category.code == "product_quality" and case.remedies_requested == ["refund", "compensation"]
    assert "退款" in case.search_text.split()
    assert intact()


def test_xlsx_and_jsonl_import_like_csv(org, tmp_path, run):
    sheet = [HEADER, row(1), [*row(2)[:5], datetime(2024, 3, 6, 9, 30), 88.5, date(2024, 3, 2), "", ""]]
    sheet[1][0] = 1001  # an id typed as a number
    result = run(write_xlsx(tmp_path / "crm.xlsx", sheet), "xlsx", mapping=MAPPING)
    assert result.summary.created == 2, result.errors
    numbered = Complaint.objects.get(external_id="1001")
    dated = Complaint.objects.get(external_id="CRM-2")
    assert numbered.received_at == datetime(2024, 3, 5, tzinfo=SHANGHAI)
    assert dated.received_at == datetime(2024, 3, 6, 9, 30, tzinfo=SHANGHAI) and dated.amount_paid == Decimal("88.50")

    objects = [dict(zip(HEADER, row(n), strict=True)) for n in (3, 4)]
    objects[1]["诉求"] = ["repair"]
    result = run(write_jsonl(tmp_path / "crm.jsonl", objects), "jsonl", mapping=MAPPING)
    assert result.summary.created == 2, result.errors
    assert Complaint.objects.get(external_id="CRM-4").remedies_requested == ["repair"]
    assert intact()


def test_bad_rows_are_reported_with_row_numbers_and_the_good_ones_land(org, tmp_path, run):
    rows = [
        HEADER,
        row(1),
        row(2, 受理日期="5th March"),  # odd date
        row(3)[:4],  # ragged
        row(4, 电话="12345", 投诉内容="短"),  # two bad fields
        row(5, 分类="no_such_category"),
        row(6, 工单号=""),
        row(7, 金额="一百元"),
        row(8),
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    # An extra column nobody mapped: a warning, once.
    text = path.read_text("utf-8").splitlines()
    text = [line + (",备注" if i == 0 else ",x") for i, line in enumerate(text) if line]
    text[3] = text[3][: -len(",x")]  # keep row 3 ragged
    path.write_text("\n".join(text) + "\n", "utf-8")
    result = run(path, "csv", mapping=MAPPING)
    s = result.summary
    assert (s.rows, s.created, s.errors) == (8, 2, 6)
    assert s.warnings == ["文件中有映射文件未使用的列（已忽略）：备注"]
    by_row: dict[int, list[dict[str, str]]] = {}
    for e in result.errors:
        by_row.setdefault(int(e["row"]), []).append(e)
    assert set(by_row) == {2, 3, 4, 5, 6, 7}
    assert by_row[2][0]["field"] == "受理日期" and "5th March" in by_row[2][0]["reason"]
    assert "列数不符" in by_row[3][0]["reason"] and by_row[3][0]["line"] == "4"
    assert {e["field"] for e in by_row[4]} == {"电话", "投诉内容"}
    assert by_row[5][0]["field"] == "分类"
    assert by_row[6][0]["field"] == "工单号"
    assert by_row[7][0]["field"] == "金额"
    assert set(Complaint.objects.values_list("external_id", flat=True)) == {"CRM-1", "CRM-8"}
    assert intact()


def test_multi_line_cells_and_undecodable_bytes_name_the_row_and_the_line(org, tmp_path, run):
    good = ",".join(row(1)).encode()
    multi = ",".join(row(2, 投诉内容='"第一行\n第二行：漏电了"')).encode()
    broken = ",".join(row(3)).encode().replace("张三".encode(), b"\xff\xfe")
    last = ",".join(row(4)).encode()
    path = tmp_path / "lines.csv"
    path.write_bytes(b"\n".join([",".join(HEADER).encode(), good, multi, broken, last]) + b"\n")
    result = run(path, "csv", mapping=MAPPING)
    assert result.summary.created == 3
    [error] = result.errors
    assert (error["row"], error["line"]) == ("3", "5") and "utf-8" in error["reason"]
    assert Complaint.objects.get(external_id="CRM-2").description == "第一行\n第二行：漏电了"


def test_dry_run_validates_and_counts_but_writes_nothing(org, tmp_path, run):
    path = write_csv(tmp_path / "crm.csv", [HEADER, row(1), row(2), row(3, 电话="bad")])
    result = run(path, "csv", mapping=MAPPING, dry_run=True)
    assert (result.summary.created, result.summary.errors, result.summary.dry_run) == (2, 1, True)
    assert not Complaint.objects.exists() and not Customer.objects.exists() and not LedgerEvent.objects.exists()


def test_reimporting_creates_nothing_new(org, tmp_path, run):
    path = write_csv(tmp_path / "crm.csv", [HEADER, row(1), row(2), row(2)])  # a repeated id, too
    first = run(path, "csv", mapping=MAPPING)
    assert (first.summary.created, first.summary.skipped_existing) == (2, 1)
    second = run(path, "csv", mapping=MAPPING)
    assert (second.summary.created, second.summary.skipped_existing) == (0, 3)
    # The id is per source: the same ids from another system are other cases.
    third = run(path, "csv", mapping=MAPPING | {"source": "erp"})
    assert third.summary.created == 2 and Complaint.objects.count() == 4


def test_customers_are_matched_as_at_intake(org, tmp_path, run):
    known = match_or_create_customer(name="老客户", phone="+8613800139999", email="", address="")
    erased = match_or_create_customer(name="", phone="+8613800137777", email="", address="")
    shred(erased.subject_key)
    rows = [
        HEADER,
        row(1, 电话="13800130001", 邮箱=""),  # new profile
        row(2, 电话="", 邮箱="zhang@example.com", 姓名=""),  # another new profile
        row(3, 电话="138 0013 0001", 邮箱="Zhang@Example.com"),  # both: the older profile (row 1) wins
        row(4, 电话="+86 138-0013-9999", 邮箱=""),  # the customer intake made earlier
        row(5, 电话="13800137777", 邮箱=""),  # an erased person is never matched again
    ]
    assert run(write_csv(tmp_path / "c.csv", rows), "csv", mapping=MAPPING).summary.created == 5
    case = {c.external_id: c for c in Complaint.objects.select_related("customer")}
    assert case["CRM-1"].customer == case["CRM-3"].customer
    first = case["CRM-1"].customer
    assert first.email == "zhang@example.com"  # blank e-mail filled in by row 3, as intake does
    assert case["CRM-2"].customer != first and case["CRM-2"].customer.email == "zhang@example.com"
    assert case["CRM-4"].customer == known
    assert case["CRM-5"].customer not in (erased, None)
    for c in case.values():
        assert c.subject_key_id == c.customer.subject_key_id
    # The same answers as the one-by-one intake function, asked now.
    assert match_or_create_customer(name="", phone="+8613800130001", email="", address="") == first
    assert intact()


def test_an_imported_repeat_is_linked_as_a_possible_duplicate_as_at_intake(org, tmp_path, run):
    from complaints.models import DuplicateLink

    rows = [
        HEADER,
        row(1, 投诉内容="电热水壶使用三天后漏电，要求退款。", 受理日期="2024/03/05"),
        row(2, 电话="13800130001", 投诉内容="电热水壶使用三天后漏电，要求退款，至今没人处理。", 受理日期="2024/03/12"),
        row(3, 电话="13800130001", 投诉内容="快递员态度恶劣，包裹被扔在门口。", 受理日期="2024/03/13"),
        row(4, 投诉内容="电热水壶使用三天后漏电，要求退款。", 受理日期="2024/03/12"),  # another person
    ]
    assert run(write_csv(tmp_path / "d.csv", rows), "csv", mapping=MAPPING).summary.created == 4
    case = {c.external_id: c for c in Complaint.objects.all()}
    [link] = DuplicateLink.objects.all()
    assert (link.complaint, link.candidate) == (case["CRM-2"], case["CRM-1"]) and link.score >= Decimal("0.4")
    assert "repeat" in case["CRM-2"].risk_flags and "repeat" not in case["CRM-3"].risk_flags
    assert LedgerEvent.objects.filter(complaint=case["CRM-2"], action="suspect_duplicate").exists()
    assert intact()
    # Importing again creates nothing and links nothing new.
    run(write_csv(tmp_path / "d.csv", rows), "csv", mapping=MAPPING)
    assert DuplicateLink.objects.count() == 1


def test_a_file_not_sorted_by_date_still_links_the_later_case(org, tmp_path, run):
    from complaints.models import DuplicateLink

    rows = [
        HEADER,
        row(2, 电话="13800130001", 投诉内容="电热水壶使用三天后漏电，要求退款，至今没人处理。", 受理日期="2024/03/12"),
        row(1, 投诉内容="电热水壶使用三天后漏电，要求退款。", 受理日期="2024/03/05"),
    ]
    # One row per batch: the later case is stored and checked before the earlier one exists.
    assert run(write_csv(tmp_path / "u.csv", rows), "csv", mapping=MAPPING, batch_size=1).summary.created == 2
    case = {c.external_id: c for c in Complaint.objects.all()}
    [link] = DuplicateLink.objects.all()
    assert (link.complaint, link.candidate) == (case["CRM-2"], case["CRM-1"])
    assert "repeat" in case["CRM-2"].risk_flags and "repeat" not in case["CRM-1"].risk_flags
    assert LedgerEvent.objects.filter(complaint=case["CRM-2"], action="suspect_duplicate").count() == 1
    assert intact()


def test_two_cases_received_at_the_same_moment_are_linked_one_way(org, tmp_path, run):
    from complaints.models import DuplicateLink

    rows = [
        HEADER,
        row(1, 投诉内容="电热水壶使用三天后漏电，要求退款。", 受理日期="2024/03/05"),
        row(2, 电话="13800130001", 投诉内容="电热水壶使用三天后漏电，要求退款，至今没人处理。", 受理日期="2024/03/05"),
    ]
    assert run(write_csv(tmp_path / "s.csv", rows), "csv", mapping=MAPPING).summary.created == 2
    case = {c.external_id: c for c in Complaint.objects.all()}
    [link] = DuplicateLink.objects.all()  # not also CRM-1 -> CRM-2: the file's order decides
    assert (link.complaint, link.candidate) == (case["CRM-2"], case["CRM-1"])
    assert intact()


def test_identity_mapping_and_source_option(org, tmp_path, run):
    path = write_csv(
        tmp_path / "plain.csv",
        [
            ["id", "description", "complainant_phone", "received_at"],
            ["A1", "空调不制冷，维修三次未果。", "13800138000", "2023-07-01"],
        ],
    )
    with pytest.raises(ImportFailed, match="来源名称"):
        run(path, "csv")
    assert run(path, "csv", source="hotline").summary.created == 1
    assert Complaint.objects.get().external_source == "hotline"


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"id": "工单号", "fields": {"description": "投诉内容"}}, "来源名称"),
        ({"source": "crm", "fields": {"description": "投诉内容"}}, "id"),
        ({"source": "crm", "id": "工单号", "fields": {"nonsense": "投诉内容"}}, "nonsense"),
        ({"source": "crm", "id": "工单号", "fields": {"description": "没有这列"}}, "没有这列"),
        ({"source": "crm", "id": "工单号", "fields": {}, "date_formats": ["DD.MM.YYYY"]}, "date_formats"),
    ],
)
def test_a_mapping_that_cannot_work_is_fatal_and_writes_nothing(org, tmp_path, run, mapping, message):
    path = write_csv(tmp_path / "crm.csv", [HEADER, row(1)])
    with pytest.raises(ImportFailed, match=message):
        run(path, "csv", mapping=mapping)
    assert not Complaint.objects.exists()


def test_unknown_encodings_are_refused_with_a_clear_message(org, tmp_path, run):
    for name, data in {
        "latin1.csv": "id,description\n1,Le café était froid, très déçu.\n".encode("latin-1"),
        "utf16.csv": "id,description\n1,漏电了\n".encode("utf-16"),
        "sjis.csv": "id,description\n1,コーヒーが冷たかったです。とても残念でした。\n".encode("shift_jis"),
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ImportFailed, match="编码"):
            run(path, "csv", source="x")
    with pytest.raises(EncodingError):
        detect(b"\x81\x30\x81")  # not even GB18030
    assert not Complaint.objects.exists()


def test_an_imported_case_goes_on_through_the_normal_lifecycle(org, cast, tmp_path, run):
    from complaints import actions
    from complaints.ledgering import Actor

    run(write_csv(tmp_path / "crm.csv", [HEADER, row(1)]), "csv", mapping=MAPPING)
    case = Complaint.objects.get()
    accepted = actions.accept(case, actor=Actor.staff(cast.agent), priority="P2", note="已受理。")
    assert accepted.status == "accepted" and accepted.version == 2
    assert list(accepted.ledger_events.values_list("seq", "action")) == [(1, "import"), (2, "accept")]
    assert intact()


def test_the_fast_paths_give_what_the_intake_functions_give(org, tmp_path, run):
    from complaints.actions import search_parts
    from complaints.intake import IntakeData, check_intake
    from complaints.search import index_text
    from imports.drafts import complaint_values

    data = check_intake(
        IntakeData(
            description="电热水壶漏电，要求退款。",
            complainant_phone="13800138000",
            category="product_quality",
            subcategory="product_quality-defect",
            remedies_requested=["refund"],
            amount_paid="12.50",
            channel="email",
            org_unit=org.store_sz.pk,
        ),
        staff=True,
    )
    slow = data.model_fields_for_complaint()
    for name in ("category", "subcategory", "org_unit"):
        slow[name + "_id"] = slow.pop(name).pk
    assert complaint_values(data) == slow
    rows = [HEADER, row(1, 投诉内容="Kettle KT-1001 漏电 leaking, 要求退款 refund!"), row(2)]
    run(write_csv(tmp_path / "crm.csv", rows), "csv", mapping=MAPPING)
    for case in Complaint.objects.all():
        assert case.search_text == index_text(*search_parts(case), words=False)


def test_a_file_that_breaks_off_halfway_keeps_what_was_good_and_says_where(org, tmp_path):
    from imports.service import run_import

    path = write_csv(tmp_path / "crm.csv", [HEADER, *(row(n) for n in range(1, 8))])

    class Breaking(io.BytesIO):
        """A file whose reads fail after the fifth line (a disk or network error)."""

        def __iter__(self):  # type: ignore[no-untyped-def]
            for n in range(10**6):
                line = self.readline()
                if n == 5:
                    raise OSError("read error")
                if not line:
                    return
                yield line

    with pytest.raises(ImportFailed, match="第 4 行之后") as failure:
        run_import(Breaking(path.read_bytes()), fmt="csv", mapping=MAPPING, batch_size=2)
    assert failure.value.summary is not None and failure.value.summary.created == 4
    assert Complaint.objects.count() == 4
