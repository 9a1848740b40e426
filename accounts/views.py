"""Staff sign-in with a lockout after repeated failures."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core import ratelimit

LOCKOUT_FAILURES = 5
LOCKOUT_MINUTES = 15


def _lock_key(username: str) -> str:
    return f"login-failure:{username.strip().lower()}"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")
        if ratelimit.failures(_lock_key(username), LOCKOUT_MINUTES) >= LOCKOUT_FAILURES:
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None, _("登录失败次数过多，账户已暂时锁定，请 %(minutes)d 分钟后再试。") % {"minutes": LOCKOUT_MINUTES}
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        ratelimit.count_failure(_lock_key(self.request.POST.get("username", "")), LOCKOUT_MINUTES)
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        ratelimit.clear(_lock_key(form.get_user().get_username()))
        return super().form_valid(form)
