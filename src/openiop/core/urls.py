from django.urls import path

from . import health, metrics, views

app_name = "core"

urlpatterns = [
    path("dashboard/", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
]
