from django.contrib import admin
from django.urls import include, path

from core import health

from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("intake.urls")),
]
