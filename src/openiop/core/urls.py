from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    # The staff home moved to My work (openiop.dashboard, /dashboard/); the old name stays.
    path("home/", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
]
