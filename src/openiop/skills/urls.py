from __future__ import annotations

from django.urls import path

from . import views

app_name = "skills"

urlpatterns = [
    path("", views.index, name="index"),
    path("modules/<slug:slug>/", views.module_detail, name="module"),
    path("programs/<uuid:program>/rotation/<slug:kind>/", views.rotation_edit, name="rotation"),
    path("programs/<uuid:program>/rotation/<slug:kind>/apply/", views.rotation_apply, name="rotation_apply"),
    path("programs/<uuid:program>/progress/", views.cohort, name="cohort"),
    path("programs/<uuid:program>/holistic/", views.holistic_switch, name="holistic_switch"),
    path("sessions/<uuid:session>/module/", views.session_module, name="session_module"),
    path("holistic/", views.holistic, name="holistic"),
    path("holistic/<uuid:session>/", views.holistic_session, name="holistic_session"),
    path("participants/<uuid:code>/", views.participant_skills, name="participant_skills"),
    path("participants/<uuid:code>/homework/", views.homework_assign, name="homework_assign"),
    path("participants/<uuid:code>/homework/<uuid:homework>/review/", views.homework_review,
         name="homework_review"),
    path("participants/<uuid:code>/homework/<uuid:homework>/close/", views.homework_close,
         name="homework_close"),
    path("participants/<uuid:code>/relapse-plan/", views.relapse_plan, name="relapse_plan"),
]
