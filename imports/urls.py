from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.job, name="job"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/errors.csv", views.errors_csv, name="errors_csv"),
]
