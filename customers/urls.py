from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:pk>/", views.profile, name="profile"),
    path("<int:pk>/care/", views.create_care, name="create_care"),
    path("care/", views.my_care, name="my_care"),
    path("care/<int:pk>/done/", views.care_done, name="care_done"),
    path("care/<int:pk>/cancel/", views.care_cancel, name="care_cancel"),
    path("import/", views.upload, name="import"),
    path("import/<int:pk>/", views.import_run, name="import_run"),
    path("import/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
]
