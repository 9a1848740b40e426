"""The middle of the process in a real browser: a consumer files; the agent logs a call, asks the
quality department for a lab test (its handler answers from "my tasks"), proposes a compensation above
their authority (the supervisor approves it) and offers it; the consumer accepts on the status page;
the settlement agreement is generated and downloaded; the agent pays, replies from a template and
closes with the checklist met. The ledger verifies and holds every step."""

import io
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from intake.tests.test_browser_public import CHROMIUM, browser  # noqa: F401  (the fixture)

SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "complaintdesk-screenshots")

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (make test installs it)",
)

NAME = "孙丽华"
STAFF_VIEWPORT = {"width": 1280, "height": 900}


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _login(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("button[type=submit]")


def _status(page, url: str, tracking_no: str, code: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/status/")
    page.fill("#id_tracking_no", tracking_no)
    page.fill("#id_access_code", code)
    page.click("button[type=submit]")


def _open(page, form_id: str) -> None:  # type: ignore[no-untyped-def]
    """Unfold the <details> that holds the form (the case page folds every action)."""
    page.click(f"#{form_id} >> xpath=..//summary")


def _do(page, action: str, **fields: str) -> None:  # type: ignore[no-untyped-def]
    """A lifecycle action of the case page's "可执行的操作" list."""
    _open(page, f"form-{action}")
    for name, value in fields.items():
        page.fill(f"#{action}-{name}", value)
    page.click(f"#do-{action}")


def _no_error(page) -> None:  # type: ignore[no-untyped-def]
    """A refused form re-renders the case page with role=alert; none is expected here."""
    alerts = page.locator("[role=alert]")
    assert alerts.count() == 0, alerts.all_inner_texts()


def _seed_reply_templates() -> None:
    """A transactional test starts from flushed tables: the migration's reply templates are gone."""
    import importlib

    from django.apps import apps as django_apps

    from casework.models import ReplyTemplate

    if not ReplyTemplate.objects.exists():
        importlib.import_module("casework.migrations.0002_default_reply_templates").seed(django_apps, None)


@pytest.mark.django_db(transaction=True)
def test_contact_task_remedy_offer_agreement_reply_and_closing(live_server, cast, browser):  # noqa: F811
    from playwright.sync_api import expect
    from pypdf import PdfReader

    from complaints.models import Complaint
    from ledger.models import LedgerEvent
    from ledger.verify import verify

    _seed_reply_templates()
    url = live_server.url

    # 1. The consumer files on the public form and keeps the tracking number and access code.
    consumer = browser.new_page(locale="zh-CN")
    consumer.goto(url + "/")
    consumer.fill("#id_complainant_name", NAME)
    consumer.fill("#id_complainant_phone", "13900139000")
    consumer.fill("#id_description", "新买的电饭煲第二次使用就冒烟，内胆涂层脱落，要求赔偿。")
    consumer.check("#id_consent")
    consumer.click("button[type=submit]")
    tracking_no, code = consumer.inner_text("#tracking-no"), consumer.inner_text("#access-code")
    case_url = f"{url}/staff/cases/{tracking_no}/"

    # 2. The supervisor accepts (product quality) and makes sure the agent owns it; the agent starts.
    supervisor = browser.new_page(locale="zh-CN", viewport=STAFF_VIEWPORT)
    _login(supervisor, url, "supervisor")
    supervisor.goto(case_url)
    _open(supervisor, "form-accept")
    supervisor.select_option("#accept-category", "product_quality")
    supervisor.fill("#accept-note", "您的投诉已受理，我们将尽快处理。")
    supervisor.click("#do-accept")
    assert "已受理" in supervisor.inner_text("h1")
    if supervisor.inner_text("#owner") != "agent":  # routing picks an agent on shift (none at weekends)
        _do(supervisor, "assign", owner="agent")
        assert supervisor.inner_text("#owner") == "agent"

    agent = browser.new_page(locale="zh-CN", viewport=STAFF_VIEWPORT)
    _login(agent, url, "agent")
    agent.goto(case_url)
    _do(agent, "start_work")
    assert "处理中" in agent.inner_text("h1")

    # 2a. An outbound phone call, logged in the contact log.
    _open(agent, "form-add-contact")
    agent.select_option("#contact-direction", "outbound")
    agent.select_option("#contact-party", "consumer")
    agent.select_option("#contact-channel", "phone")
    agent.fill("#contact-duration", "6:30")
    agent.fill("#contact-summary", "致电投诉人核实情况：电饭煲第二次使用冒烟，已请其保留实物，等待质量检测。")
    agent.click("#do-add-contact")
    _no_error(agent)
    contacts = agent.inner_text("#contacts table.contacts")
    assert "等待质量检测" in contacts and "去电/去信" in contacts and "电话" in contacts and "agent" in contacts
    _shot(agent, "case-contact-log.png")

    # 2b. A coordination task to the quality department; its handler answers from "my tasks".
    _open(agent, "form-create-task")
    agent.select_option("#task-kind", "quality_lab_test")
    agent.select_option("#task-department", "quality")
    agent.fill("#task-request", "请对投诉人寄回的电饭煲做内胆涂层和温控检测，出具检测结论。")
    agent.fill("#task-due-days", "3")
    agent.click("#do-create-task")
    _no_error(agent)
    task_row = agent.locator("#coordination-tasks tbody tr").first
    assert "质量检测" in task_row.inner_text() and "质量部" in task_row.inner_text()
    assert "进行中" in task_row.inner_text()
    task_id = task_row.get_attribute("id")  # task-<pk>

    handler = browser.new_page(locale="zh-CN", viewport=STAFF_VIEWPORT)
    _login(handler, url, "handler")
    handler.click("#nav-tasks")  # "my tasks": /staff/investigation/tasks/
    assert handler.inner_text("h1") == "我的协办任务"
    mine = handler.locator(f"#my-{task_id}")
    assert tracking_no in mine.inner_text() and "质量检测" in mine.inner_text()
    _shot(handler, "my-tasks.png")
    mine.locator("a").click()
    assert "内胆涂层" in handler.inner_text("#task-request")
    handler.fill("#task-result-input", "检测结论：内胆涂层附着力不合格，温控器正常，属产品质量问题。")
    handler.click("#do-complete-task")
    assert "已完成" in handler.inner_text("h1")
    assert "附着力不合格" in handler.inner_text("#task-result")

    agent.reload()
    task_row = agent.locator(f"#{task_id}")
    assert "已完成" in task_row.inner_text() and "附着力不合格" in task_row.inner_text()
    assert "handler" in task_row.inner_text()

    # 2c. 500 CNY compensation: above the agent's 200, so the service supervisor approves it.
    _open(agent, "form-add-remedy")
    agent.select_option("#remedy-kind", "compensation")
    agent.fill("#remedy-amount", "500")
    agent.select_option("#remedy-currency", "CNY")
    agent.fill("#remedy-description", "产品质量问题赔偿")
    agent.click("#do-add-remedy")
    _no_error(agent)
    remedy_row = agent.locator("#remedies table.remedies tbody tr").first
    remedy_pk = (remedy_row.get_attribute("id") or "").removeprefix("remedy-")
    assert remedy_pk.isdigit()
    assert "500.00 CNY" in remedy_row.inner_text() and "待审批" in remedy_row.inner_text()
    assert agent.locator(f"#approve-remedy-{remedy_pk}").count() == 0  # nobody approves their own

    supervisor.goto(case_url)
    supervisor.fill(f"#remedy-comment-{remedy_pk}", "检测结论支持赔偿，同意。")
    _shot(supervisor, "case-remedy-approval.png")
    supervisor.click(f"#approve-remedy-{remedy_pk}")
    _no_error(supervisor)
    approved = supervisor.inner_text(f"#remedy-{remedy_pk}")
    assert "已批准" in approved and "supervisor" in approved

    # 2d. The offer to the consumer, bundling the approved remedy (its amount is the offer's).
    agent.reload()
    _open(agent, "form-make-offer")
    agent.fill("#offer-text", "经质量检测确认为产品质量问题，向您赔偿 500 元，并为您退换新品。")
    agent.check(f"#offer-remedy-{remedy_pk}")
    agent.click("#do-make-offer")
    _no_error(agent)
    offer = agent.locator("#offer-thread li.offer-organisation").last
    assert "500.00 CNY" in offer.inner_text() and "赔偿" in offer.inner_text()
    assert "方案待确认" in agent.inner_text("h1")
    _shot(agent, "case-negotiation.png")

    # 3. The consumer sees the offer with its amount and accepts it.
    _status(consumer, url, tracking_no, code)
    assert "赔偿 500 元" in consumer.inner_text("#proposal-text")
    assert "500.00 CNY" in consumer.inner_text("#offer-thread .offer-amount")
    assert "附着力不合格" not in consumer.content()  # the department's result is internal
    assert "致电投诉人" not in consumer.content()  # so is the contact log
    _shot(consumer, "status-offer.png")
    consumer.click("#accept-proposal")
    assert consumer.inner_text("#status") == "已解决"
    assert "已接受" in consumer.inner_text("#offer-thread .offer-status")
    with consumer.expect_download() as consumer_download:  # the agreement is offered to the consumer too
        consumer.click("#download-agreement")
    consumer_pdf = consumer_download.value.path().read_bytes()

    # 4. The agreement was generated after commit (immediate task backend); download it from the case.
    agent.reload()
    link = agent.locator("#offer-thread a[id^=agreement-]")
    expect(link).to_have_count(1)
    assert "和解协议" in link.inner_text()
    with agent.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf = download.path().read_bytes()
    assert pdf.startswith(b"%PDF")
    text = "".join(sheet.extract_text() or "" for sheet in PdfReader(io.BytesIO(pdf)).pages)
    assert "和解协议" in text and NAME in text and "500.00" in text
    assert pdf == consumer_pdf  # one agreement, the same file on both sides
    _shot(agent, "case-agreement.png")

    # The approved compensation is paid (the closing checklist wants every remedy settled).
    agent.fill(f"#remedy-reference-{remedy_pk}", "TRX-20260501-0042")
    agent.click(f"#pay-remedy-{remedy_pk}")
    _no_error(agent)
    assert "TRX-20260501-0042" in agent.inner_text(f"#remedy-{remedy_pk}")

    # 5. The written reply, from the product-quality template, edited; then the closing.
    _open(agent, "form-send-reply")
    option = agent.locator("#reply-template option").nth(1)  # after "—": the best match comes first
    assert option.inner_text().startswith("产品质量答复")  # the case's category, in its language
    agent.select_option("#reply-template", option.get_attribute("value"))
    expect(agent.locator("#reply-text")).to_have_value(re.compile(re.escape(tracking_no)))  # filled by HTMX
    filled = agent.input_value("#reply-text")
    assert NAME in filled and "{name}" not in filled
    agent.fill("#reply-text", filled + "\n\n赔偿款 500 元已于今日转入您的账户，请注意查收。")
    agent.click("#do-send-reply")
    _no_error(agent)
    reply = agent.inner_text("#reply ol.replies")
    assert "赔偿款 500 元已于今日转入" in reply and NAME in reply
    assert agent.get_attribute("#check-reply_sent", "class") == "met"
    assert agent.get_attribute("#check-remedies_settled", "class") == "met"
    assert agent.get_attribute("#check-evidence_complete", "class") == "pending"  # ticked at closing
    _shot(agent, "case-reply.png")

    _open(agent, "form-close")
    agent.check("#close-evidence_complete")  # the closing checklist: the closer confirms the evidence
    agent.click("#do-close")
    _no_error(agent)
    assert "已结案" in agent.inner_text("h1")
    assert agent.locator("#closing-recorded").count() == 1
    _shot(agent, "case-closed.png")

    _status(consumer, url, tracking_no, code)
    assert consumer.inner_text("#status") == "已结案"
    assert "赔偿款 500 元已于今日转入" in consumer.inner_text("dl.facts")

    # The ledger holds every step, in order, and verifies.
    case = Complaint.objects.get(tracking_no=tracking_no)
    actions = list(LedgerEvent.objects.filter(complaint=case).order_by("seq").values_list("action", flat=True))
    expected = [
        "add_contact",
        "create_task",
        "complete_task",
        "add_remedy",
        "approve_remedy",
        "propose_resolution",
        "accept_proposal",
        "settlement_agreement",
        "mark_remedy_paid",
        "send_reply",
        "close",
    ]
    assert [a for a in actions if a in expected] == expected, actions
    assert verify().ok
