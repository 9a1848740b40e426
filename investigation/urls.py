from django.urls import path

from . import views

app_name = "investigation"
urlpatterns = [
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/complete/", views.complete_task, name="complete_task"),
    path("tasks/<int:pk>/cancel/", views.cancel_task, name="cancel_task"),
    path("tasks/<int:pk>/reassign/", views.reassign_task, name="reassign_task"),
    path("tasks/<int:pk>/attach/", views.attach, name="attach"),
    path("<str:tracking_no>/tasks/", views.create_task, name="create_task"),
    path("<str:tracking_no>/findings/", views.record_finding, name="record_finding"),
    path("<str:tracking_no>/findings/<int:pk>/<str:verb>/", views.decide_finding, name="decide_finding"),
]
