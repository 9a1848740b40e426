from django.urls import path

from . import views

app_name = "feedback"
urlpatterns = [
    path("", views.satisfaction_page, name="satisfaction"),
    path("callbacks/", views.callbacks, name="callbacks"),
    path("callbacks/<int:pk>/", views.callback_page, name="callback"),
    path("callbacks/<int:pk>/outcome/", views.record_outcome, name="record_outcome"),
]
