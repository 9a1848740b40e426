from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from accounts.views import LoginView
from core import health

from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/login/", LoginView.as_view(), name="login"),
    path("staff/logout/", LogoutView.as_view(next_page="/staff/login/"), name="logout"),
    path("staff/", include("complaints.urls")),
    path("", include("intake.urls")),
]
