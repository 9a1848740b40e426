from django.urls import path

from . import views

app_name = "intake"
urlpatterns = [
    path("", views.file_complaint, name="file"),
    path("regions/", views.region_options, name="regions"),
    path("status/", views.status, name="status"),
    path("status/action/", views.status_action, name="status_action"),
    path("status/recover/", views.recover, name="recover"),
    path("staff/register/", views.register, name="register"),
]
