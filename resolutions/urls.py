from django.urls import path

from . import views

app_name = "resolutions"
urlpatterns = [
    path("calculate/", views.calculate, name="calculate"),
    path("<str:tracking_no>/add/", views.add, name="add"),
    path("<str:tracking_no>/offers/", views.make_offer, name="make_offer"),
    path("<str:tracking_no>/offers/<int:pk>/withdraw/", views.withdraw_offer, name="withdraw_offer"),
    path("<str:tracking_no>/agreement/", views.settle, name="settle"),
    path("<str:tracking_no>/<int:pk>/<str:verb>/", views.decide, name="decide"),
]
