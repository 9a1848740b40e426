from django.urls import path

from . import views, views_mail

app_name = "intake"
urlpatterns = [
    path("", views.file_complaint, name="file"),
    path("regions/", views.region_options, name="regions"),
    path("status/", views.status, name="status"),
    path("status/action/", views.status_action, name="status_action"),
    path("status/evidence/", views.status_evidence, name="status_evidence"),
    path("status/agreement/", views.status_agreement, name="status_agreement"),
    path("status/recover/", views.recover, name="recover"),
    path("staff/register/", views.register, name="register"),
    path("staff/mail/", views_mail.mail_list, name="mail_list"),
    path("staff/mail/<int:pk>/", views_mail.mail_detail, name="mail_detail"),
    path("staff/mail/<int:pk>/raw/", views_mail.mail_raw, name="mail_raw"),
    path("staff/mail/<int:pk>/handle/", views_mail.mail_handle, name="mail_handle"),
    path("staff/mail/<int:pk>/register/", views_mail.mail_register, name="mail_register"),
]
