"""Out-of-office delegation: the delegate works the absent colleague's cases; routing skips them."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from accounts.models import Delegation
from complaints import actions, routing
from complaints.intake import IntakeData, check_intake
from complaints.ledgering import Actor
from complaints.models import Complaint
from complaints.transitions import allowed_actions


def test_delegate_works_the_cases_of_a_colleague_away(org, cast, body):
    case = actions.submit(check_intake(IntakeData(**body()), staff=False), actor=Actor.consumer())[0]
    case = actions.accept(case, actor=Actor.staff(cast.supervisor))
    if case.owner_id != cast.agent.pk:
        case = actions.assign(case, actor=Actor.staff(cast.supervisor), owner=cast.agent)
    # The quality agent sees nothing of 客服中心 until the delegation starts.
    assert not Complaint.objects.visible_to(cast.quality_agent).filter(pk=case.pk).exists()
    client = Client()
    client.force_login(cast.agent)
    today = timezone.localdate()
    refused = client.post("/staff/away/", {"delegate": "qagent", "starts_on": today, "ends_on": today})
    assert refused.status_code == 422  # not a colleague of the same department
    done = client.post("/staff/away/", {"delegate": "agent2", "starts_on": today, "ends_on": today + timedelta(days=3)})
    assert done.status_code == 302 and Delegation.objects.count() == 1
    from accounts.models import User

    agent2 = User.objects.get(pk=cast.agent2.pk)  # a fresh principal
    assert "start_work" in allowed_actions(Complaint.objects.get(pk=case.pk), Actor.staff(agent2))
    assert routing.pick_owner(org.service) == cast.agent2  # the agent away gets nothing new
