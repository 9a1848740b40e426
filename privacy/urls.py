from django.urls import path

from . import views, views_retention

app_name = "privacy"
urlpatterns = [
    path("", views.index, name="index"),
    path("retention/", views_retention.retention, name="retention"),  # issue 9: retention
    path("customers/<int:customer_id>/", views.customer, name="customer"),
    path("customers/<int:customer_id>/export/", views.export, name="export"),
    path("customers/<int:customer_id>/correct/", views.correct, name="correct"),
    path("customers/<int:customer_id>/erase/", views.erase, name="erase"),
]
