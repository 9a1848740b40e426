"""Single sign-on under /oidc/ (answering 404 unless COMPLAINTDESK_OIDC is on); the URL names are
mozilla-django-oidc's own, which its views reverse."""

from django.urls import path

from . import oidc

urlpatterns = [
    path("authenticate/", oidc.OidcStart.as_view(), name="oidc_authentication_init"),
    path("callback/", oidc.OidcCallback.as_view(), name="oidc_authentication_callback"),
]
