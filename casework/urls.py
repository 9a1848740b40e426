from django.urls import path

from . import views

app_name = "casework"
urlpatterns = [
    path("<str:tracking_no>/contacts/add/", views.add_contact, name="add_contact"),
    path("<str:tracking_no>/reply/", views.send_reply, name="send_reply"),
    path("<str:tracking_no>/template/<str:purpose>/", views.fill_template, name="fill_template"),
]
