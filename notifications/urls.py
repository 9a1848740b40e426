from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("<str:tracking_no>/retry/<int:delivery_id>/", views.retry, name="retry"),
]
