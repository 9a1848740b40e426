from django.urls import path

from . import views

app_name = "resolutions"
urlpatterns = [
    path("calculate/", views.calculate, name="calculate"),
    path("<str:tracking_no>/add/", views.add, name="add"),
    path("<str:tracking_no>/<int:pk>/<str:verb>/", views.decide, name="decide"),
]
