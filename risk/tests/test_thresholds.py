"""The band edges: checked the same way on the admin page, in the Django admin and in the action (rising,
no overlap, within range, every error naming its field), and used by the next assessment."""

import pytest
from django.test import Client

from conftest import make_user
from core.errors import ValidationError
from risk.actions import assess_all, check_thresholds
from risk.admin import RiskThresholdForm
from risk.models import RiskAssessment, RiskThreshold

from .conftest import DAY, logged_in


def _errors(raw: dict[str, str]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        check_thresholds(raw)
    return {k: str(v) for k, v in caught.value.errors.items()}


def _form(measure: str, *edges: object) -> dict[str, str]:
    return {f"{measure}_{n}": str(e) for n, e in enumerate(edges, start=1)}


def test_edges_must_rise_and_may_not_overlap(db):
    errors = _errors(_form("trend", -0.1, 0.3, 0.2, 0.6))
    assert list(errors) == ["trend_3"]
    assert errors["trend_3"] == "必须大于第 2 个边界（0.3）：边界须逐级上升，各档不能重叠。"
    assert list(_errors(_form("frequency_count", 10, 10, 50, 100))) == ["frequency_count_2"]


def test_each_edge_is_a_number_within_the_measures_range(db):
    errors = _errors(
        {
            **_form("satisfaction", 0.6, 0.7, 0.8, 90),  # a percentage where a share is meant
            **_form("trend", -1.5, 0, 0.5, 1),  # cannot fall by more than 100 %
            **_form("frequency_count", "ten", "", 50, "inf"),
            **_form("handling_hours", -1, 8, 24, 48),
        }
    )
    assert errors == {
        "satisfaction_4": "不能大于 1（以小数表示比例，例如 0.8 表示 80%）。",
        "trend_1": "不能小于 -1。",
        "frequency_count_1": "应为数字。",
        "frequency_count_2": "此项必填。",
        "frequency_count_4": "应为数字。",
        "handling_hours_1": "不能小于 0。",
    }


def test_nothing_submitted_is_an_error_and_good_edges_come_back_clean(db):
    assert list(_errors({"other": "1"})) == ["__all__"]
    assert check_thresholds({**_form("cost_ratio", "0.001", "0.002", "0.01", "0.02")}) == {
        "cost_ratio": (0.001, 0.002, 0.01, 0.02)
    }


def test_only_admins_open_the_thresholds_page(client, cast):
    assert client.get("/staff/risk/thresholds/").status_code == 302
    for user in (cast.analyst, cast.manager, cast.auditor, cast.agent):
        assert logged_in(user).get("/staff/risk/thresholds/").status_code == 403
        assert logged_in(user).post("/staff/risk/thresholds/", _form("trend", 0, 1, 2, 3)).status_code == 403
    page = logged_in(cast.admin).get("/staff/risk/thresholds/")
    assert page.status_code == 200
    assert 'name="frequency_count_1" inputmode="decimal" value="10"' in page.content.decode()
    assert 'id="nav-risk-thresholds"' in page.content.decode()


def test_the_page_saves_good_edges_and_names_the_bad_ones(cast):
    client = logged_in(cast.admin)
    bad = client.post("/staff/risk/thresholds/", {**_form("frequency_count", 1, 2, 3, 4), **_form("trend", 0, 0, 1, 2)})
    assert bad.status_code == 400
    html = bad.content.decode()
    assert 'id="error-trend_2"' in html and "边界须逐级上升" in html
    assert 'name="trend_2" inputmode="decimal" value="0"' in html  # what was typed stays
    # Nothing is saved while any field is wrong.
    assert RiskThreshold.objects.get(measure="frequency_count").edges == (10, 25, 50, 100)
    good = client.post("/staff/risk/thresholds/", _form("frequency_count", 1, 2, 3, 4), follow=True)
    assert "阈值已保存，下一次评估起生效。" in good.content.decode()
    row = RiskThreshold.objects.get(measure="frequency_count")
    assert (row.edges, row.updated_by) == ((1, 2, 3, 4), cast.admin)
    assert "最近由 admin" in good.content.decode()


def test_new_edges_apply_from_the_next_assessment(cast, scenario):
    assess_all(day=DAY)
    assert RiskAssessment.objects.get(day=DAY, key="KT-2002").measures["frequency"]["band"] == 1
    logged_in(cast.admin).post("/staff/risk/thresholds/", _form("frequency_count", 1, 2, 3, 4))
    assess_all(day=DAY, force=True)
    kt2 = RiskAssessment.objects.get(day=DAY, key="KT-2002")
    assert (kt2.measures["frequency"]["band"], kt2.measures["frequency"]["edges"]) == (5, [1, 2, 3, 4])


def test_the_django_admin_form_checks_the_same_rule(db):
    row = RiskThreshold.objects.get(measure="satisfaction")
    form = RiskThresholdForm(
        data={"measure": "satisfaction", "edge_1": 0.6, "edge_2": 0.5, "edge_3": 0.8, "edge_4": 1.2}, instance=row
    )
    assert not form.is_valid()
    assert set(form.errors) == {"edge_2", "edge_4"}
    assert "边界须逐级上升" in form.errors["edge_2"][0]
    form = RiskThresholdForm(
        data={"measure": "satisfaction", "edge_1": 0.5, "edge_2": 0.6, "edge_3": 0.7, "edge_4": 0.8}, instance=row
    )
    assert form.is_valid(), form.errors


def test_the_django_admin_saves_through_the_form_and_records_who(db, org):
    superuser = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(superuser)
    row = RiskThreshold.objects.get(measure="handling_hours")
    url = f"/admin/risk/riskthreshold/{row.pk}/change/"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"measure": "handling_hours", "edge_1": 8, "edge_2": 4, "edge_3": 48, "edge_4": 80})
    assert bad.status_code == 200 and "边界须逐级上升" in bad.content.decode()
    good = client.post(url, {"measure": "handling_hours", "edge_1": 4, "edge_2": 16, "edge_3": 40, "edge_4": 72})
    assert good.status_code == 302
    row.refresh_from_db()
    assert (row.edges, row.updated_by) == ((4, 16, 40, 72), superuser)
