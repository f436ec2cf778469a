from django.urls import path

from . import health, metrics, views

app_name = "core"

urlpatterns = [
    # The staff home moved to My work (openiop.dashboard, /dashboard/); the old name stays.
    path("home/", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
]
