from django.urls import path

from evidence import views as evidence_views

from . import views

app_name = "complaints"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("bulk-assign/", views.bulk_assign, name="bulk_assign"),
    path("views/", views.save_view, name="save_view"),
    path("hand-over/", views.hand_over, name="hand_over"),
    path("cases/<str:tracking_no>/", views.case, name="case"),
    path("cases/<str:tracking_no>/evidence/", evidence_views.upload, name="evidence_upload"),
    path("cases/<str:tracking_no>/evidence/<int:pk>/<str:how>/", evidence_views.content, name="evidence_content"),
    path("cases/<str:tracking_no>/legal-hold/", evidence_views.legal_hold, name="legal_hold"),
    path("cases/<str:tracking_no>/merge/", views.merge, name="merge"),
    path(
        "cases/<str:tracking_no>/duplicates/<int:link_id>/dismiss/", views.dismiss_duplicate, name="dismiss_duplicate"
    ),
    path("cases/<str:tracking_no>/<str:action>/", views.act, name="act"),
]
