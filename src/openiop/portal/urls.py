from __future__ import annotations

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.portal_root, name="home"),
    path("check-ins/", views.checkin_list, name="checkins"),
    path("check-ins/<slug:instrument>/", views.checkin, name="checkin"),
    path("homework/", views.homework_list, name="homework"),
    path("homework/<uuid:code>/", views.homework_detail, name="homework_detail"),
    path("skills/", views.skills_log, name="skills"),
    path("cravings/", views.cravings, name="cravings"),
    path("plans/", views.plans, name="plans"),
    path("plans/relapse-prevention/", views.relapse_plan_edit, name="relapse_plan"),
    path("plans/safety/", views.safety_plan, name="safety_plan"),
    path("messages/", views.message_thread, name="messages"),
    path("modules/<slug:slug>/", views.module_view, name="module"),
    path("sharing/", views.sharing, name="sharing"),
    path("sharing/withdraw/", views.sharing_withdraw, name="sharing_withdraw"),
    path("sharing/give-back/", views.sharing_regrant, name="sharing_regrant"),
    path("family/", views.family_home, name="family"),
    path("family/schedule/", views.family_schedule, name="family_schedule"),
    path("family/education/", views.family_education, name="family_education"),
    path("family/education/<slug:slug>/", views.family_module, name="family_module"),
    path("family/notes/", views.family_notes, name="family_notes"),
    # Staff side: the care team's inbox and a participant's conversation.
    path("inbox/", views.inbox, name="inbox"),
    path("participants/<uuid:code>/messages/", views.staff_messages, name="staff_messages"),
    path("participants/<uuid:code>/messages/shared-notes/", views.staff_shared_note,
         name="staff_shared_note"),
]
