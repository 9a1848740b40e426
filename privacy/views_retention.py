"""The retention page (/staff/privacy/retention/): the dry run as of now, for the people who answer for
personal data organisation-wide (legal/PR, auditors) and for admins, who configure retention
(DESIGN.md §1). It shows tracking numbers, customer ids and dates only, never case content, and
changes nothing: the run itself is `complaintdesk retention` or the daily job."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.choices import Role
from accounts.models import User
from complaints.permissions import Principal

from .models import RetentionRun
from .retention import plan

RETENTION_READERS = frozenset({Role.LEGAL_PR, Role.AUDITOR, Role.ADMIN})
PAGE_LIMIT = 100


def check_see_retention(user: User) -> None:
    if not Principal.of(user).has(*RETENTION_READERS):
        raise PermissionDenied(_("只有法务/公关、监督或管理员可以查看保存期限清理。"))


@login_required
@require_GET
def retention(request: HttpRequest) -> HttpResponse:
    check_see_retention(request.user)  # type: ignore[arg-type]  # login_required: a User
    return render(
        request,
        "privacy/retention.html",
        {
            "plan": plan(limit=PAGE_LIMIT),
            "limit": PAGE_LIMIT,
            "runs": RetentionRun.objects.order_by("-seq")[:20],
        },
    )
