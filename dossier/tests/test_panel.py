"""The dossier panel on the case page: forms, refusals re-rendered in the panel, overdue due dates,
the dossier download, the crisis checklist."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from complaints import actions
from complaints.choices import Status
from complaints.ledgering import Actor
from complaints.models import Complaint
from dossier.models import ExternalProceeding


def login(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert client.login(username=user.username, password="pw-" + user.username)
    return client


def page(client: Client, no: str) -> str:
    response = client.get(f"/staff/cases/{no}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_owner_routes_out_on_the_panel(case, cast):
    client = login(cast.agent)
    html = page(client, case.tracking_no)
    assert 'id="form-route-external"' in html and 'id="do-export-dossier"' in html
    assert 'id="form-route_external"' not in html  # the lifecycle form gave way to the panel's

    refused = client.post(
        f"/staff/dossier/{case.tracking_no}/route/",
        {"route": "regulator", "body": "南山区市场监管局", "version": case.version},
    )
    assert refused.status_code == 422
    assert 'id="dossier-error-due_at"' in refused.content.decode()

    due = (timezone.localdate() + timedelta(days=10)).isoformat()
    done = client.post(
        f"/staff/dossier/{case.tracking_no}/route/",
        {
            "route": "regulator",
            "body": "南山区市场监管局",
            "reference": "12315-1",
            "due_on": due,
            "version": case.version,
        },
    )
    assert done.status_code == 302 and done["Location"].endswith("#dossier")
    assert Complaint.objects.get(pk=case.pk).status == Status.EXTERNAL
    html = page(client, case.tracking_no)
    assert "南山区市场监管局" in html and 'id="form-external-outcome"' in html and 'id="form-document-' in html


def test_an_overdue_due_date_is_highlighted(case, cast):
    actions.route_external(
        case,
        actor=Actor.staff(cast.agent),
        route="arbitration",
        body="深圳国际仲裁院",
        due_at=timezone.now() + timedelta(days=1),
    )
    ExternalProceeding.objects.update(due_at=timezone.now() - timedelta(days=1))
    assert "已逾期" in page(login(cast.agent), case.tracking_no)


def test_documents_are_uploaded_on_the_panel(case, cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .conftest import pdf_bytes

    actions.route_external(case, actor=Actor.staff(cast.agent), route="litigation", body="南山区人民法院")
    proceeding = ExternalProceeding.objects.get()
    client = login(cast.agent)
    url = f"/staff/dossier/{case.tracking_no}/proceedings/{proceeding.pk}/documents/"
    missing = client.post(url, {"direction": "received", "description": "传票"})
    assert missing.status_code == 422 and 'id="dossier-error-file"' in missing.content.decode()
    response = client.post(
        url,
        {
            "direction": "received",
            "exchanged_on": timezone.localdate().isoformat(),
            "description": "法院传票",
            "file": SimpleUploadedFile("传票.pdf", pdf_bytes()),
        },
    )
    assert response.status_code == 302
    assert "法院传票" in page(client, case.tracking_no)


def test_the_dossier_downloads_from_the_panel(case, cast):
    response = login(cast.supervisor).post(f"/staff/dossier/{case.tracking_no}/export/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content)[:2] == b"PK"
    refused = login(cast.agent2).post(f"/staff/dossier/{case.tracking_no}/export/")
    assert refused.status_code == 422
    assert login(cast.outsider).post(f"/staff/dossier/{case.tracking_no}/export/").status_code == 404


def test_the_crisis_checklist_on_the_panel(case, cast, legal2):
    from dossier import actions as dossier_actions

    dossier_actions.escalate_to_crisis(case)
    client = login(cast.legal)
    html = page(client, case.tracking_no)
    assert 'id="crisis"' in html and 'id="form-crisis-facts"' in html
    response = client.post(f"/staff/dossier/{case.tracking_no}/crisis/statement/", {"statement": "短"})
    assert response.status_code == 422
    client.post(
        f"/staff/dossier/{case.tracking_no}/crisis/statement/",
        {"statement": "我们已暂停该批次产品销售并启动召回评估。"},
    )
    html = page(client, case.tracking_no)
    assert "召回评估" in html and 'id="form-crisis-approve"' not in html  # not for the drafter
    assert 'id="form-crisis-approve"' in page(login(legal2), case.tracking_no)
    response = login(legal2).post(f"/staff/dossier/{case.tracking_no}/crisis/approve/", {"note": "同意"})
    assert response.status_code == 302 and response["Location"].endswith("#crisis")
    sup = login(cast.supervisor)
    version = Complaint.objects.get(pk=case.pk).version
    refused = sup.post(f"/staff/cases/{case.tracking_no}/de_escalate/", {"reason": "舆情平息", "version": version})
    assert refused.status_code == 422
    assert "危机处理清单未完成" in refused.content.decode()
    assert Complaint.objects.get(pk=case.pk).escalation_level == 3


@pytest.mark.parametrize("verb", ["facts", "statement", "approve", "media", "confirm", "nope"])
def test_crisis_forms_refuse_outsiders(case, cast, verb):
    response = login(cast.outsider).post(f"/staff/dossier/{case.tracking_no}/crisis/{verb}/", {})
    assert response.status_code == 404
