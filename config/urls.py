from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from accounts.views import LoginView, away
from core import health
from core.metrics import metrics_view

from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path("metrics", metrics_view, name="metrics"),  # issue 9 (operations): Prometheus
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/login/", LoginView.as_view(), name="login"),
    path("staff/logout/", LogoutView.as_view(next_page="/staff/login/"), name="logout"),
    path("staff/account/", include("accounts.urls")),  # issue 9: second step, enrolment, security page
    path("oidc/", include("accounts.oidc_urls")),  # issue 9: single sign-on (404 unless COMPLAINTDESK_OIDC)
    path(
        "staff/password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset.html",
            email_template_name="accounts/password_reset_email.txt",
            subject_template_name="accounts/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "staff/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "staff/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="accounts/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "staff/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("staff/away/", away, name="away"),
    path("staff/imports/", include("imports.urls")),
    path("staff/remedies/", include("resolutions.urls")),
    path("staff/casework/", include("casework.urls")),
    path("staff/investigation/", include("investigation.urls")),
    path("staff/dossier/", include("dossier.urls")),
    path("staff/intelligence/", include("intelligence.urls")),
    # --- issue 6 apps (each app edits only its own line) ---
    path("staff/notifications/", include("notifications.urls")),
    path("staff/feedback/", include("feedback.urls")),
    path("staff/customers/", include("customers.urls")),
    path("staff/privacy/", include("privacy.urls")),
    path("feedback/", include("feedback.public_urls")),  # the consumer's survey (token link, no login)
    path("notifications/", include("notifications.public_urls")),  # opt-out links
    # --- end issue 6 apps ---
    # --- issue 8 apps (each app edits only its own line) ---
    path("staff/analytics/", include("analytics.urls")),
    path("staff/reports/", include("reports.urls")),
    path("staff/improvement/", include("improvement.urls")),
    path("staff/risk/", include("risk.urls")),
    # --- end issue 8 apps ---
    path("staff/", include("complaints.urls")),
    path("", include("intake.urls")),
]

# The API answers its errors in JSON even when they happen before a view runs (core.http).
handler500 = "core.http.server_error"
