from django.urls import path

from . import views_public

app_name = "feedback_public"
urlpatterns = [
    path("s/<str:token>/", views_public.survey, name="survey"),
]
