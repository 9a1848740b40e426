from django.urls import path

from . import views, views_sales, views_scorecards

app_name = "analytics"
urlpatterns = [
    path("", views.index, name="index"),
    # --- scorecards and sales volume (issue 8 items 2–3) ---
    path("scorecards/", views_scorecards.ranking, name="scorecards"),
    path("scorecards/me/", views_scorecards.me, name="scorecard_me"),
    path("scorecards/people/<int:user_id>/", views_scorecards.person, name="scorecard_person"),
    path("scorecards/departments/<slug:code>/", views_scorecards.department, name="scorecard_department"),
    path("sales/", views_sales.sales, name="sales"),
]
