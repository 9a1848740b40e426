from django.urls import path

from . import views

app_name = "improvement"
urlpatterns = [
    path("plans/", views.plans, name="plans"),
    path("plans/new/", views.plan_new, name="plan_new"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/complete/", views.plan_complete, name="plan_complete"),
    path("spikes/", views.spikes, name="spikes"),
    path("library/", views.library, name="library"),
    path("library/add/", views.library_add, name="library_add"),
    path("library/<int:pk>/", views.library_entry, name="entry"),
    path("library/<int:pk>/remove/", views.library_remove, name="library_remove"),
]
