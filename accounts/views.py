"""Staff sign-in (password, then the second step where it applies) and out-of-office delegation."""

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import selectors, throttle
from accounts.models import Delegation, Notification, User


class LoginView(auth_views.LoginView):
    """The password step. Failures are counted per username and per address (accounts.signals); a
    locked username or address is refused with 429 before the password is looked at. A user who must
    pass the second step goes on to it (or to enrolment) instead of the page asked for."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = settings.COMPLAINTDESK_OIDC
        context["sso_failed"] = self.request.GET.get("sso") == "failed"
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lock = throttle.login_lock(request, request.POST.get("username", ""))
        if lock is not None:
            form = self.get_form()
            form.errors.clear()
            if lock.by == "user":
                message = _("登录失败次数过多，账户已暂时锁定，请 %(minutes)d 分钟后再试。")
            else:
                message = _("来自您所在网络地址的登录失败次数过多，请 %(minutes)d 分钟后再试。")
            form.add_error(None, message % {"minutes": lock.minutes_left})
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if selectors.two_factor_needed(user):
            step = "two_factor_verify" if selectors.confirmed_device(user) is not None else "two_factor_setup"
            return redirect(f"{reverse(step)}?{urlencode({'next': self.get_success_url()})}")
        return response


@login_required
@require_http_methods(["GET", "POST"])
def away(request: HttpRequest) -> HttpResponse:
    """Out of office: name a colleague who works your cases for a period (and get no new ones)."""
    user = request.user
    errors: dict[str, str] = {}
    if request.method == "POST":
        if request.POST.get("cancel"):
            Delegation.objects.filter(user=user, pk=request.POST.get("cancel")).delete()
            return redirect("away")
        delegate = User.objects.filter(username=request.POST.get("delegate", ""), is_active=True).first()
        starts = parse_date(request.POST.get("starts_on", "") or "")
        ends = parse_date(request.POST.get("ends_on", "") or "")
        shared = set(user.memberships.exclude(department=None).values_list("department_id", flat=True))
        if delegate is None or delegate == user or not delegate.memberships.filter(department_id__in=shared).exists():
            errors["delegate"] = _("请填写本部门一位在职同事的用户名。")
        if starts is None:
            errors["starts_on"] = _("应为日期（YYYY-MM-DD）。")
        if ends is None or (starts and ends < starts) or (starts and (ends - starts).days > 366):
            errors["ends_on"] = _("结束日期须在开始日期之后，且不超过一年。")
        if not errors:
            Delegation.objects.create(user=user, delegate=delegate, starts_on=starts, ends_on=ends)
            Notification.objects.create(
                recipient=delegate,
                kind="delegation",
                message=_("%(who)s 在 %(start)s 至 %(end)s 期间由您代理。")
                % {"who": user.get_username(), "start": starts, "end": ends},
            )
            return redirect("away")
    return render(
        request,
        "accounts/away.html",
        {
            "delegations": Delegation.objects.filter(user=user, ends_on__gte=timezone.localdate()).select_related(
                "delegate"
            ),
            "errors": errors,
            "values": request.POST,
        },
        status=422 if errors else 200,
    )
