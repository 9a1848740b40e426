from django.urls import path

from . import views

app_name = "intelligence"
urlpatterns = [
    path("trends/", views.trends, name="trends"),
    path("trends/alerts/<int:pk>/acknowledge/", views.acknowledge_alert, name="acknowledge_alert"),
]
