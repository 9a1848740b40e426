"""The whole flow in a real browser: a consumer files, an agent accepts, notes, proposes; the consumer
accepts without seeing the note; the agent closes. Then the English UI."""

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


def _file(page, url: str, text: str) -> tuple[str, str]:
    page.goto(url + "/")
    page.fill("#id_complainant_name", "赵六")
    page.fill("#id_complainant_phone", "13700137000")
    page.fill("#id_description", text)
    page.check("#id_consent")
    page.click("button[type=submit]")
    return page.inner_text("#tracking-no"), page.inner_text("#access-code")


def _status(page, url: str, tracking_no: str, code: str) -> None:
    page.goto(url + "/status/")
    page.fill("#id_tracking_no", tracking_no)
    page.fill("#id_access_code", code)
    page.click("button[type=submit]")


def _login(page, url: str, username: str) -> None:
    page.goto(url + "/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("button[type=submit]")


def _do(page, action: str, **fields: str) -> None:
    page.click(f"#form-{action} >> xpath=..//summary")
    for name, value in fields.items():
        page.fill(f"#{action}-{name}", value)
    page.click(f"#do-{action}")


@pytest.mark.django_db(transaction=True)
def test_consumer_and_agent_carry_a_complaint_to_closing(live_server, cast, browser):  # noqa: F811
    url = live_server.url
    consumer = browser.new_page(locale="zh-CN")
    tracking_no, code = _file(consumer, url, "网购的空调外机噪音很大，师傅上门两次都没修好，要求退款。")

    agent = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _login(agent, url, "supervisor")
    agent.goto(url + "/staff/?scope=all&q=" + "噪音")
    assert tracking_no in agent.inner_text("table.queue")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    agent.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)
    agent.click(f"text={tracking_no}")
    _do(agent, "accept", note="您的投诉已受理，我们将尽快处理。")
    assert "已受理" in agent.inner_text("h1")
    _do(agent, "assign")
    _do(agent, "start_work")
    _do(agent, "add_note", text="内部：该用户上月也投诉过同一型号")
    from evidence.tests import samples

    agent.click("#form-evidence >> xpath=..//summary")
    agent.set_input_files(
        "#evidence-file", [{"name": "检测报告.png", "mimeType": "image/png", "buffer": samples.png()}]
    )
    agent.select_option("#evidence-kind", "third_party_proof")
    agent.click("#do-evidence")
    assert "检测报告.png" in agent.inner_text("#evidence")
    assert "上传证据" in agent.inner_text("#timeline")
    _do(agent, "propose_resolution", text="为您全额退款 3,999 元。", amount="3999")
    agent.screenshot(path=str(SCREENSHOTS / "case-page.png"), full_page=True)
    case_url = agent.url
    agent.goto(url + "/staff/supervisor/")
    assert agent.inner_text("h1") == "主管视图"
    agent.screenshot(path=str(SCREENSHOTS / "supervisor-view.png"), full_page=True)
    agent.goto(case_url)

    _status(consumer, url, tracking_no, code)
    assert "为您全额退款" in consumer.inner_text("#proposal-text")
    assert "同一型号" not in consumer.content()
    assert "检测报告.png" not in consumer.content()  # staff evidence is not shown unless chosen
    consumer.click("#accept-proposal")
    assert consumer.inner_text("#status") == "已解决"

    agent.reload()
    agent.click("#form-close >> xpath=..//summary")
    agent.fill("#close-reply_text", "您好，退款已原路退回，感谢您的耐心。")
    agent.check("#close-evidence_complete")  # the closing checklist: the closer confirms the evidence
    agent.click("#do-close")
    assert "已结案" in agent.inner_text("h1")
    _status(consumer, url, tracking_no, code)
    assert consumer.inner_text("#status") == "已结案"


@pytest.mark.django_db(transaction=True)
def test_the_workbench_in_english(live_server, cast, browser):  # noqa: F811
    page = browser.new_page(locale="en-US", extra_http_headers={"Accept-Language": "en"})
    tracking_no, _code = _file(page, live_server.url, "The kettle leaks after three days of use.")
    _login(page, live_server.url, "supervisor")
    page.goto(live_server.url + "/staff/?scope=all")
    assert page.inner_text("h1") == "All visible complaints"
    page.click(f"text={tracking_no}")
    assert re.search(r"Accept", page.inner_text("#main"))
