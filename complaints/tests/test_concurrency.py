import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts.choices import Role
from complaints import actions
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from conftest import make_user
from ledger.models import LedgerEvent


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_assigning_at_once_one_wins(org, cast, api_as, body):
    second_supervisor = make_user("supervisor2", (Role.SUPERVISOR, org.service))
    case, _ = actions.submit(check_intake(IntakeData(**body()), staff=False), actor=Actor.consumer())
    case = actions.accept(case, actor=Actor.staff(cast.supervisor))
    version = case.version
    other_agent = cast.agent if case.owner_id == cast.agent2.pk else cast.agent2
    target = {"supervisor": other_agent, "supervisor2": other_agent}
    clients = {
        name: api_as(user) for name, user in (("supervisor", cast.supervisor), ("supervisor2", second_supervisor))
    }
    barrier = threading.Barrier(2)

    def assign(name):
        try:
            barrier.wait(timeout=10)
            response = clients[name].post(
                f"/complaints/{case.tracking_no}/assign",
                {"owner": target[name].username, "department": "service", "note": name},
                headers={"If-Match": f'"{version}"'},
            )
            return response.status_code, response.content
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(assign, ["supervisor", "supervisor2"]))
    assert [c for c, _ in codes] == [200, 412], codes
    assert LedgerEvent.objects.filter(complaint=case, action="assign").count() == 1
