"""The account pages under /staff/account/: the second step, enrolment, and the security page."""

from django.urls import path

from . import security_views

urlpatterns = [
    path("2fa/verify/", security_views.two_factor_verify, name="two_factor_verify"),
    path("2fa/setup/", security_views.two_factor_setup, name="two_factor_setup"),
    path("security/", security_views.account_security, name="account_security"),
    path("security/2fa/replace/", security_views.replace_device, name="two_factor_replace"),
    path("security/2fa/disable/", security_views.disable_two_factor, name="two_factor_disable"),
    path("security/2fa/recovery-codes/", security_views.renew_recovery_codes, name="recovery_codes_renew"),
    path("security/tokens/", security_views.issue_token, name="api_token_issue"),
    path("security/tokens/<int:token_id>/revoke/", security_views.revoke_token, name="api_token_revoke"),
]
