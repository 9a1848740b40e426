"""At intake the active models predict; confident predictions are applied by the system through
`classify` (a ledger event), the others are suggestions; an agent's change is kept as a correction
and the next `--format db` training learns from it."""

import pytest
from django.test import Client

from complaints import actions as case_actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Category, Complaint
from intelligence import actions
from intelligence.datasets import Labelled, load
from intelligence.models import Prediction
from ledger.models import LedgerEvent
from ledger.verify import verify

from .helpers import made_up

TEXT = "快递三天还没送到，物流信息一直不更新，请尽快处理"


@pytest.fixture
def models(cast, fit_once):  # type: ignore[no-untyped-def]
    category = actions.activate(actions.train(made_up(rows_per_class=12), target="category", user=cast.admin))
    data = made_up(rows_per_class=12)
    urgency = {"delivery": "P2", "product_quality": "P1", "privacy": "P1", "price_charges": "P4"}
    priority = Labelled(data.texts, [urgency[label] for label in data.labels], "made-up priorities")
    actions.activate(actions.train(priority, target="priority", user=cast.admin))
    return category


@pytest.fixture
def file(body, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    def submit(**overrides):  # type: ignore[no-untyped-def]
        with django_capture_on_commit_callbacks(execute=True):
            complaint, _code = case_actions.submit(
                check_intake(IntakeData(**body(**overrides)), staff=False), actor=Actor.consumer()
            )
        return Complaint.objects.select_related("category").get(pk=complaint.pk)

    return submit


def test_a_confident_prediction_is_applied_by_the_system_as_a_ledger_event(models, file, settings):
    settings.COMPLAINTDESK_AUTO_APPLY_CONFIDENCE = 0.5
    complaint = file(category="", description=TEXT)
    predicted = {p.target: p for p in Prediction.objects.filter(complaint=complaint)}
    assert predicted["category"].label == "delivery" and predicted["category"].applied
    assert 0.5 <= predicted["category"].confidence <= 1.0
    assert predicted["category"].model_id == models.pk
    assert complaint.category.code == "delivery"
    event = LedgerEvent.objects.get(complaint=complaint, action="classify")
    assert event.actor == "system" and "category_id" in event.changes
    assert predicted["priority"].label == "P2" and complaint.priority == "P2"
    assert verify().ok


def test_below_the_threshold_a_prediction_is_only_suggested(models, file, settings):
    settings.COMPLAINTDESK_AUTO_APPLY_CONFIDENCE = 0.999
    complaint = file(category="", description=TEXT)
    prediction = Prediction.objects.get(complaint=complaint, target="category")
    assert prediction.label == "delivery" and prediction.confidence < 0.999 and not prediction.applied
    assert complaint.category is None and complaint.priority == "P3"
    assert not LedgerEvent.objects.filter(complaint=complaint, action="classify").exists()


def test_a_field_the_complainant_filled_is_not_overwritten(models, file, settings):
    settings.COMPLAINTDESK_AUTO_APPLY_CONFIDENCE = 0.5
    complaint = file(category="product_quality", description=TEXT)
    prediction = Prediction.objects.get(complaint=complaint, target="category")
    assert prediction.label == "delivery" and not prediction.applied
    assert complaint.category.code == "product_quality"


def test_without_active_models_nothing_is_predicted(cast, file):
    complaint = file(category="", description=TEXT)
    assert not Prediction.objects.filter(complaint=complaint).exists()


def test_an_agents_correction_is_recorded_and_used_by_the_next_training(
    models, file, settings, cast, django_capture_on_commit_callbacks, monkeypatch
):
    settings.COMPLAINTDESK_AUTO_APPLY_CONFIDENCE = 0.5
    complaint = file(category="", description=TEXT)
    privacy = Category.objects.get(code="privacy")
    with django_capture_on_commit_callbacks(execute=True):
        case_actions.classify(complaint, actor=Actor.staff(cast.agent), category=privacy)
    prediction = Prediction.objects.get(complaint=complaint, target="category")
    assert prediction.corrected_to == "privacy" and prediction.corrected_by == cast.agent
    assert prediction.corrected_at is not None
    # The priority the agent left alone is no correction.
    assert Prediction.objects.get(complaint=complaint, target="priority").corrected_to == ""
    monkeypatch.setattr("intelligence.datasets.MIN_ROWS", 1)
    file(category="delivery", description="快递丢了，请处理")  # a second class, as any training needs
    data = load(None, "db", text_field=None, label_field=None, target="category", min_per_class=1)
    assert data.labels[data.texts.index(TEXT)] == "privacy"


def test_db_training_leaves_out_cases_labelled_only_by_the_model(models, file, settings):
    settings.COMPLAINTDESK_AUTO_APPLY_CONFIDENCE = 0.5
    file(category="", description=TEXT)
    with pytest.raises(Exception, match="数据不足"):
        load(None, "db", text_field=None, label_field=None, target="category", min_per_class=1)


def test_db_training_from_our_own_cases_makes_a_new_version(cast, file, fit_once):
    from intelligence.tests.helpers import PHRASES

    for code, phrases in PHRASES.items():
        for phrase in phrases * 2:
            file(category=code, description=phrase + "，请尽快处理")
    data = load(None, "db", text_field=None, label_field=None, target="category")
    assert data.classes() == {code: 10 for code in PHRASES}
    model = actions.train(data, target="category")
    assert model.version == 1 and model.training["source"].startswith("db:")


def test_the_case_page_and_the_api_show_each_prediction_with_its_confidence(models, file, settings, cast, api_as):
    settings.COMPLAINTDESK_AUTO_APPLY_CONFIDENCE = 0.999
    complaint = file(category="", description=TEXT)
    confidence = Prediction.objects.get(complaint=complaint, target="category").confidence
    client = Client()
    client.force_login(cast.agent)
    page = client.get(f"/staff/cases/{complaint.tracking_no}/").content.decode()
    assert 'id="predictions"' in page and "物流配送" in page and f"{round(confidence * 100)}%" in page
    assert "建议" in page
    path = f"/complaints/{complaint.tracking_no}/predictions"
    answer = api_as(cast.analyst).get(path)
    assert answer.status_code == 200
    assert {p["target"]: p["confidence"] for p in answer.json()}["category"] == confidence
    assert api_as(None).get(path).status_code == 401
    assert api_as(cast.outsider).get(path).status_code == 404


def test_the_predictions_cost_the_case_page_one_query(models, file, settings, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from intelligence.selectors import predictions_for

    complaint = file(category="", description=TEXT)
    with CaptureQueriesContext(connection) as queries:
        shown = predictions_for(complaint)
    assert len(shown) == 2 and len(queries.captured_queries) == 1
