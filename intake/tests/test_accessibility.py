"""axe-core (the accessibility engine, from npm) on the main pages in headless Chromium: no serious or
critical violations (labels, contrast, landmarks, keyboard)."""

from pathlib import Path

import pytest

from complaints.tests.test_browser_workbench import _file, _login
from intake.tests.test_browser_public import browser, pytestmark  # noqa: F401  (fixture and skip rule)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.django_db(transaction=True)
def test_main_pages_have_no_serious_accessibility_violations(live_server, cast, browser):  # noqa: F811
    url = live_server.url
    # Injecting axe is exactly what the pages' Content-Security-Policy forbids; the test lifts it.
    page = browser.new_page(locale="zh-CN", bypass_csp=True)
    page.goto(url + "/")
    assert violations(page) == []
    tracking_no, code = _file(page, url, "电热水壶漏电，要求退款。")
    assert violations(page) == []  # the receipt
    page.goto(url + "/status/")
    assert violations(page) == []
    page.fill("#id_tracking_no", tracking_no)
    page.fill("#id_access_code", code)
    page.click("button[type=submit]")
    assert violations(page) == []  # the status page
    staff = browser.new_page(locale="zh-CN", bypass_csp=True)
    _login(staff, url, "supervisor")
    staff.goto(url + "/staff/?scope=all")
    assert violations(staff) == []
    staff.goto(url + f"/staff/cases/{tracking_no}/")
    assert violations(staff) == []
    staff.goto(url + "/staff/supervisor/")
    assert violations(staff) == []
