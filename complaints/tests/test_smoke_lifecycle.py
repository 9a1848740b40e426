from complaints.models import Complaint


def test_consumer_files_and_agent_accepts(cast, api_as, body):
    public = api_as()
    response = public.post("/complaints", body())
    assert response.status_code == 201, response.content
    receipt = response.json()
    assert receipt["tracking_no"].startswith("TS")
    agent = api_as(cast.agent)
    detail = agent.get(f"/complaints/{receipt['tracking_no']}")
    assert detail.status_code == 200, detail.content
    accepted = agent.post(
        f"/complaints/{receipt['tracking_no']}/accept", {"priority": "P2"}, headers={"If-Match": detail["ETag"]}
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    c = Complaint.objects.get(tracking_no=receipt["tracking_no"])
    assert c.resolution_due_at is not None
    status = public.get(
        f"/public/complaints/{receipt['tracking_no']}", headers={"X-Access-Code": receipt["access_code"]}
    )
    assert status.status_code == 200
    assert [e["event"] for e in status.json()["timeline"]] == ["receive", "accept"]
