"""After closing, in a real browser: the consumer answers the satisfaction survey from the mailed link
(no login) with low scores; the rule orders a follow-up call-back; the agent works the call-back list,
reads the phone number (a recorded view), records the outcome, and sees the answer on the case page and
the customer's profile with the satisfaction history."""

import contextlib
import os
import shutil
from typing import Any

import pytest

from intake.tests.test_browser_public import CHROMIUM, SCREENSHOTS, browser  # noqa: F401  (the fixture)

from .conftest import case_in_progress, resolve_and_close, send_now

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed (make test installs it)",
)


def _no_capture(execute: bool = True) -> Any:
    # A transactional test runs on_commit callbacks at commit already.
    return contextlib.nullcontext()


def _login(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("button[type=submit]")


@pytest.mark.django_db(transaction=True)
def test_survey_answer_follow_up_call_back_and_profile(live_server, cast, org, body, browser):  # noqa: F811
    from playwright.sync_api import expect

    from feedback.models import Callback, CallbackRule, Survey, SurveyAnswer
    from ledger.models import LedgerEvent
    from ledger.verify import verify

    # The seeded 10 % sample draws from the tracking number, which holds the date: some days it picks
    # this case at closing, and the follow-up below must be the only open call-back.
    CallbackRule.objects.filter(kind="sample").update(active=False)
    url = live_server.url
    case = case_in_progress(cast, body, org_unit=org.store_sz.pk, priority="P3")
    case = resolve_and_close(case, cast.agent, _no_capture)
    survey, token = send_now(Survey.objects.get(complaint=case))

    # 1. The consumer opens the link and answers: the outcome poor, the problem partly solved.
    consumer = browser.new_page(locale="zh-CN")
    consumer.goto(f"{url}/feedback/s/{token}/")
    expect(consumer.locator("h1")).to_have_text("满意度调查")
    consumer.click("button[type=submit]")  # nothing chosen: each question says what is missing
    expect(consumer.locator("#error-outcome")).to_be_visible()
    consumer.check("#q-outcome input[value='2']")
    consumer.check("#q-handling input[value='2']")
    consumer.check("#q-solved input[value='partly']")
    consumer.fill("#survey-comment", "换货等了太久，客服也没有主动联系我。")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    consumer.screenshot(path=str(SCREENSHOTS / "survey.png"), full_page=True)
    consumer.click("button[type=submit]")
    expect(consumer.locator("#survey-thanks")).to_be_visible()
    answer = SurveyAnswer.objects.get(survey=survey)
    assert (answer.outcome, answer.handling, answer.solved) == (2, 2, "partly")
    # A second visit of the same link is refused and changes nothing.
    consumer.goto(f"{url}/feedback/s/{token}/")
    assert "已" in consumer.locator("h1").inner_text() or consumer.locator("#survey-form").count() == 0
    assert SurveyAnswer.objects.filter(survey=survey).count() == 1

    # 2. The low score ordered a follow-up call-back for the case's owner.
    follow_up = Callback.objects.get(complaint=case, status="open")
    assert follow_up.assignee_id == cast.agent.pk
    staff = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    _login(staff, url, cast.agent.username)
    staff.goto(url + "/staff/feedback/callbacks/")
    row = staff.locator(f"#callback-{follow_up.pk}")
    expect(row).to_contain_text(case.tracking_no)
    expect(row).not_to_contain_text(case.complainant_phone)  # the list shows no phone
    staff.click(f"#callback-open-{follow_up.pk}")
    expect(staff.locator("#callback-phone")).to_have_text(case.complainant_phone)
    assert LedgerEvent.objects.filter(complaint=case, action="view_personal", actor=f"staff:{cast.agent.pk}").exists()
    staff.click(f"#callback-form-{follow_up.pk} >> xpath=..//summary")
    staff.check(f"#callback-form-{follow_up.pk} input[name=reached][value=yes]")
    staff.check(f"#callback-form-{follow_up.pk} input[name=satisfied][value=yes]")
    staff.fill(f"#callback-note-{follow_up.pk}", "已致歉并说明原因，客户表示理解。")
    staff.click(f"#callback-form-{follow_up.pk} button[type=submit]")
    expect(staff.locator(f"#callback-{follow_up.pk}")).to_have_count(0)  # the open list no longer holds it
    follow_up.refresh_from_db()
    assert follow_up.status == "done" and follow_up.satisfied is True

    # 3. The case page shows the answer; the customer panel leads to the profile.
    staff.goto(f"{url}/staff/cases/{case.tracking_no}/")
    expect(staff.locator("#survey-outcome")).to_have_text("2/5")
    expect(staff.locator("#survey-rule")).to_be_visible()
    staff.screenshot(path=str(SCREENSHOTS / "case-feedback.png"), full_page=True)
    staff.click("#panel-profile-link")
    expect(staff.locator("body")).to_contain_text(case.tracking_no)
    expect(staff.locator("body")).to_contain_text("部分解决")  # the answer's label, not its code
    staff.screenshot(path=str(SCREENSHOTS / "customer-profile.png"), full_page=True)

    assert verify().ok
