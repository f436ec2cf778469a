from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.my_work, name="my_work"),
    path("count/", views.my_work_count, name="count"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("safety-tasks/<uuid:task>/", views.safety_task, name="safety_task"),
    path("safety-tasks/<uuid:task>/acknowledge/", views.safety_task_acknowledge,
         name="safety_task_acknowledge"),
    path("safety-tasks/<uuid:task>/resolve/", views.safety_task_resolve,
         name="safety_task_resolve"),
    path("on-call/<uuid:code>/", views.on_call_rota, name="on_call_rota"),
    path("on-call/<uuid:code>/<int:pk>/remove/", views.on_call_remove, name="on_call_remove"),
]
