from django.urls import path

from . import views

app_name = "care"

urlpatterns = [
    path("", views.program_list, name="programs"),
]
