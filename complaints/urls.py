from django.urls import path

from . import views

app_name = "complaints"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("bulk-assign/", views.bulk_assign, name="bulk_assign"),
    path("views/", views.save_view, name="save_view"),
    path("hand-over/", views.hand_over, name="hand_over"),
    path("cases/<str:tracking_no>/", views.case, name="case"),
    path("cases/<str:tracking_no>/<str:action>/", views.act, name="act"),
]
