"""In a real browser: the analyst opens the risk page, ECharts (served locally) draws the matrix under
the strict CSP without a console error, and a click on a subject's point opens its cases."""

import os
import shutil

import pytest

from intake.tests.test_browser_public import CHROMIUM, SCREENSHOTS, browser  # noqa: F401  (the fixture)
from risk.actions import assess_all

from .conftest import DAY

pytestmark = [
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None and os.environ.get("CI") != "true",
        reason="Debian's chromium is not installed (make test installs it)",
    ),
    # The chart is drawn from the page's JSON whatever the database: once, in the SQLite pass.
    pytest.mark.skipif("postgres" in os.environ.get("DATABASE_URL", ""), reason="runs in the SQLite pass"),
]


@pytest.mark.django_db(transaction=True)
def test_the_matrix_is_drawn_and_a_point_opens_the_subjects_cases(live_server, scenario, browser):  # noqa: F811
    from playwright.sync_api import expect

    assess_all(day=DAY)
    page = browser.new_page(locale="zh-CN")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url + "/staff/login/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", "pw-analyst")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/staff/risk/")
    expect(page.locator("#risk-matrix canvas")).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "risk_matrix.png"), full_page=True)
    assert [e for e in errors if "Failed to load resource" not in e] == []
    # Where ECharts drew KT-1001's point (probability 2, impact 5), in page coordinates.
    x, y = page.evaluate(
        """() => {
          const el = document.getElementById("risk-matrix");
          el.scrollIntoView();
          const data = JSON.parse(document.getElementById("risk-matrix-data").textContent);
          const point = data.points.find((p) => p.label === "KT-1001");
          const at = echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 0}, [point.x, point.y]);
          const box = el.getBoundingClientRect();
          return [box.left + at[0], box.top + at[1]];
        }"""
    )
    page.mouse.click(x, y)
    page.wait_for_url(lambda url: "product=KT-1001" in url)
    assert "/staff/?scope=all" in page.url
