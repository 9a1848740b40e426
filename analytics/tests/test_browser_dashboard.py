"""In a real browser: the analyst opens the dashboard, ECharts (served locally) draws every chart under
the strict CSP without a console error, and a click on a channel bar opens the matching case list."""

import contextlib
import os
import shutil
from typing import Any

import pytest

from intake.tests.test_browser_public import CHROMIUM, SCREENSHOTS, browser  # noqa: F401  (the fixture)

from .conftest import DAYS, START, Mix

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (make test installs it)",
)


def _no_capture(execute: bool = True) -> Any:
    return contextlib.nullcontext()  # a transactional test runs on_commit callbacks at commit already


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_draws_every_chart_and_a_click_drills_down(live_server, cast, org, body, browser):  # noqa: F811
    from datetime import timedelta

    from playwright.sync_api import expect

    from analytics import rollups

    mix = Mix(cast, org, body, _no_capture)
    mix.intake(20)
    for _ in range(4):
        mix.advance()
    rollups.catch_up()
    page = browser.new_page(locale="zh-CN")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(live_server.url + "/staff/login/")
    page.fill("#id_username", "analyst")
    page.fill("#id_password", "pw-analyst")
    page.click("button[type=submit]")
    first, last = START.date(), START.date() + timedelta(days=DAYS - 1)
    page.goto(f"{live_server.url}/staff/analytics/?from={first}&to={last}")
    expect(page.locator("#kpi-received")).to_be_visible()
    for chart_id in ("chart-trend", "chart-category-received", "chart-channel-received", "chart-rates"):
        expect(page.locator(f"#{chart_id} canvas")).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "analytics_dashboard.png"), full_page=True)
    # No script or style blocked by the CSP, no script error (a missing favicon is not our concern).
    assert [e for e in errors if "Failed to load resource" not in e] == []
    # Where ECharts drew the first channel bar (half way up it), in page coordinates.
    x, y = page.evaluate(
        """() => {
          const el = document.getElementById("chart-channel-received");
          el.scrollIntoView();
          const chart = echarts.getInstanceByDom(el);
          const value = chart.getOption().series[0].data[0];
          const point = chart.convertToPixel({seriesIndex: 0}, [0, value / 2]);
          const box = el.getBoundingClientRect();
          return [box.left + point[0], box.top + point[1]];
        }"""
    )
    page.mouse.click(x, y)
    page.wait_for_url(lambda url: "/staff/?scope=all" in url)
    assert "channel=" in page.url
