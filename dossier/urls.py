from django.urls import path

from . import views

app_name = "dossier"
urlpatterns = [
    path("<str:tracking_no>/route/", views.route, name="route"),
    path("<str:tracking_no>/outcome/", views.outcome, name="outcome"),
    path("<str:tracking_no>/proceedings/<int:pk>/documents/", views.document, name="document"),
    path("<str:tracking_no>/export/", views.download, name="export"),
    path("<str:tracking_no>/crisis/<str:verb>/", views.crisis, name="crisis"),
]
