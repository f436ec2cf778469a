from django.urls import path

from . import views

app_name = "access"

urlpatterns = [
    path("break-glass/", views.grant_review, name="grant_review"),
    path("break-glass/<int:pk>/revoke/", views.grant_revoke, name="grant_revoke"),
]
