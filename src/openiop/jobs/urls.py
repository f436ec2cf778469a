from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("mine/", views.my_jobs, name="mine"),
    path("<uuid:code>/", views.job_detail, name="detail"),
    path("<uuid:code>/download/", views.job_download, name="download"),
]
