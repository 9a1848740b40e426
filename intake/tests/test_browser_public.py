"""A consumer files a complaint in a real headless Chromium and follows it on the status page."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# `make screenshots` writes them to docs/screenshots/; an ordinary run keeps the tree clean.
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "complaintdesk-screenshots")
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (make test installs it)",
)


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield instance
        instance.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.mark.django_db(transaction=True)
def test_consumer_files_in_chinese_and_sees_the_status(live_server, org, browser):
    from complaints import actions
    from complaints.ledgering import Actor
    from complaints.models import Complaint

    page = browser.new_page(viewport={"width": 430, "height": 900}, locale="zh-CN")
    page.goto(live_server.url + "/")
    page.fill("#id_complainant_name", "王小明")
    page.fill("#id_complainant_phone", "13800138000")
    page.fill("#id_description", "在深圳南山店买的电热水壶用了三天就漏电，要求退款。")
    page.select_option("#id_province_code", "440000")
    page.wait_for_selector("#id_city_code option[value='440300']", state="attached")
    page.select_option("#id_city_code", "440300")
    page.wait_for_selector("#id_district_code option[value='440305']", state="attached")
    page.select_option("#id_district_code", "440305")
    page.check("input[name=remedies_requested][value=refund]")
    page.click("button[type=submit]")
    assert page.locator(".error").first.inner_text() == "请阅读并同意个人信息处理说明。"
    assert page.input_value("#id_complainant_name") == "王小明"  # kept what was typed
    page.check("#id_consent")
    from evidence.tests import samples

    page.set_input_files(
        "#id_attachments",
        [{"name": "漏电照片.png", "mimeType": "image/png", "buffer": samples.png()}],
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "public-form.png"), full_page=True)
    page.click("button[type=submit]")
    tracking_no = page.inner_text("#tracking-no")
    access_code = page.inner_text("#access-code")
    complaint = Complaint.objects.get(tracking_no=tracking_no)
    assert complaint.district_code == "440305" and complaint.remedies_requested == ["refund"]
    assert list(complaint.evidence.values_list("filename", "content_type")) == [("漏电照片.png", "image/png")]

    actions.accept(complaint, actor=Actor.system())
    page.goto(live_server.url + "/status/")
    page.fill("#id_tracking_no", tracking_no)
    page.fill("#id_access_code", access_code)
    page.click("button[type=submit]")
    assert page.inner_text("#status") == "已受理"
    assert access_code not in page.url and tracking_no not in page.url
    assert "投诉已受理" in page.inner_text("#timeline")
    assert "漏电照片.png" in page.inner_text("#evidence-list")
    page.screenshot(path=str(SCREENSHOTS / "status-page.png"), full_page=True)

    page.fill("#text-withdraw", "已与门店协商解决")
    page.click("#do-withdraw")
    assert page.inner_text("#status") == "已撤回"


@pytest.mark.django_db(transaction=True)
def test_the_form_in_english(live_server, org, browser):
    page = browser.new_page(locale="en-US", extra_http_headers={"Accept-Language": "en"})
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.inner_text("h1") == "File a complaint"


@pytest.mark.django_db(transaction=True)
def test_the_language_switch_works_under_the_content_security_policy(live_server, org, browser):
    page = browser.new_page(locale="zh-CN")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + "/")
    assert page.inner_text("h1") == "我要投诉"
    with page.expect_navigation():
        page.select_option("#language-select", "en")
    assert page.inner_text("h1") == "File a complaint"
    assert not [e for e in errors if "Content Security Policy" in e]
