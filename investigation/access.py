"""Who reaches a coordination task.

Case-level rules live in the one chokepoint, complaints.permissions.staff_may (the investigation
block). A task adds exactly one thing to it: the people of the task's department and the named
assignee reach *their task* — its page, its attachments, its completion — even when the case belongs
to another department. They see the request and the case's essentials (never the complainant's
personal data), and they take no other action on the case: for everything else staff_may decides.
"""

from django.db.models import Q, QuerySet

from accounts.models import User
from complaints.models import Complaint
from complaints.permissions import Principal, staff_may

from .models import CoordinationTask


def task_departments(user: User) -> set[int]:
    """The departments whose tasks this user works: where they are an agent, supervisor or handler."""
    p = Principal.of(user)
    return p.agent_departments | p.supervised_departments | p.handler_departments


def works_on(user: User, task: CoordinationTask) -> bool:
    """The named assignee, or a writer of the task's department."""
    p = Principal.of(user)
    if not p.is_writer:
        return False
    return task.assignee_id == user.pk or task.department_id in task_departments(user)


def mine_q(user: User) -> Q:
    """The tasks addressed to this user: to them by name, or to one of their departments."""
    if not Principal.of(user).is_writer:
        return Q(pk__in=[])
    return Q(assignee_id=user.pk) | Q(department_id__in=task_departments(user))


def tasks_visible_to(user: User) -> QuerySet[CoordinationTask]:
    """Tasks of the cases the user may see, and the tasks addressed to them."""
    principal = Principal.of(user)
    if not principal.roles:
        return CoordinationTask.objects.none()
    visible = principal.visible_q()
    if visible is None:
        return CoordinationTask.objects.all()
    return CoordinationTask.objects.filter(
        Q(complaint__in=Complaint.objects.filter(visible).values("pk")) | mine_q(user)
    )


def sees_case(user: User, complaint: Complaint) -> bool:
    return Principal.of(user).can_see(complaint)


def may_on_task(user: User, task: CoordinationTask, action: str) -> bool:
    """Whether `user` may take `action` on this task (the case's state is checked elsewhere)."""
    complaint = task.complaint
    if action == "complete_task" or action == "add_evidence":
        return staff_may(user, complaint, action) or works_on(user, task)
    if action == "reassign_task":
        # The task's own supervisor may hand it to a colleague of the department.
        return staff_may(user, complaint, action) or task.department_id in Principal.of(user).supervised_departments
    return staff_may(user, complaint, action)
