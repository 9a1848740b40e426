from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.report_page, name="index"),
    path("export/", views.export_page, name="export"),
    path("subscriptions/", views.subscribe, name="subscribe"),
    path("subscriptions/<int:pk>/cancel/", views.unsubscribe, name="unsubscribe"),
]
