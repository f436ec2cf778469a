from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("dashboard/", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
]
