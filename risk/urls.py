from django.urls import path

from . import views

app_name = "risk"
urlpatterns = [
    path("", views.index, name="index"),
    path("alerts/<int:alert_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("thresholds/", views.thresholds, name="thresholds"),
]
