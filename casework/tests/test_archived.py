"""Archiving makes a case read-only for everyone: no action but the legal hold from `archived`, and
the casework endpoints refuse it."""

from complaints import actions
from complaints.choices import Status
from complaints.ledgering import Actor
from complaints.transitions import FROM_STATES

from .conftest import fresh, logged_in


def test_nothing_writes_to_an_archived_case_but_the_legal_hold():
    """Reading stays possible (exporting a dossier for a court is when an archived case matters), and
    a legal hold may be set on it; nothing else is allowed from "archived"."""
    from ledger.chain import is_read

    from_archived = sorted(action for action, states in FROM_STATES.items() if Status.ARCHIVED in states)
    assert [a for a in from_archived if not is_read(a)] == ["set_legal_hold"]
    assert "export_dossier" in from_archived


def test_casework_endpoints_refuse_an_archived_case(cast, resolved, api_as):
    sup = Actor.staff(cast.supervisor)
    closed = actions.close(resolved, actor=Actor.staff(cast.agent), reply_text="您好，已更换。", evidence_complete=True)
    archived = actions.archive(closed, actor=sup)
    assert archived.status == "archived"
    tn = archived.tracking_no
    contact = {
        "direction": "inbound",
        "channel": "phone",
        "occurred_at": archived.received_at.isoformat(),
        "summary": "来电询问。",
    }
    for user in (cast.agent, cast.supervisor):
        refused = api_as(user).post(f"/complaints/{tn}/contacts", contact)
        assert refused.status_code == 409 and refused.json()["allowed_actions"] == []
        assert api_as(user).post(f"/complaints/{tn}/replies", {"text": "您好，补充答复。"}).status_code == 409
        assert api_as(user).get(f"/complaints/{tn}/reply-templates").status_code == 409
    client = logged_in(cast.supervisor)
    page = client.post(f"/staff/casework/{tn}/contacts/add/", {**contact, "occurred_at": ""})
    assert page.status_code == 422  # re-rendered with the reason, nothing written
    assert client.post(f"/staff/casework/{tn}/reply/", {"text": "您好，补充答复。"}).status_code == 422
    assert client.get(f"/staff/casework/{tn}/template/reply/", headers={"HX-Request": "true"}).status_code == 409
    html = client.get(f"/staff/cases/{tn}/").content.decode()
    assert 'id="form-add-contact"' not in html and 'id="form-send-reply"' not in html
    assert 'id="closing-recorded"' in html  # what the closing recorded stays visible
    assert fresh(archived).version == archived.version
    # reading stays allowed
    assert api_as(cast.auditor).get(f"/complaints/{tn}/replies").status_code == 200
