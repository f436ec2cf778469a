from __future__ import annotations

from django.urls import path

from . import views, views_manage

app_name = "scheduling"

urlpatterns = [
    path("", views.index, name="index"),
    path("plan/", views.plan_new, name="plan_new"),
    path("plan/<uuid:code>/", views.plan_detail, name="plan_detail"),
    path("plan/progress/<uuid:code>/", views.plan_progress, name="plan_progress"),
    path("plan/<uuid:code>/apply/", views.plan_apply, name="plan_apply"),
    path("sessions/<uuid:code>/", views.roster, name="roster"),
    path("sessions/<uuid:code>/bookings/<uuid:booking>/attendance/", views.attendance_mark,
         name="attendance_mark"),
    path("sessions/<uuid:code>/all-present/", views.attendance_all_present, name="all_present"),
    path("sessions/<uuid:code>/cancel/", views.session_cancel, name="session_cancel"),
    path("compliance/", views.compliance, name="compliance"),
    path("attendance-flags/", views.attendance_flags, name="attendance_flags"),
    path("attendance-flags/<uuid:booking>/makeup/", views.makeup_offer, name="makeup_offer"),
    path("templates/", views_manage.templates, name="templates"),
    path("templates/new/", views_manage.template_new, name="template_new"),
    path("templates/<uuid:code>/edit/", views_manage.template_edit, name="template_edit"),
    path("templates/<uuid:code>/active/", views_manage.template_active, name="template_active"),
    path("closures/", views_manage.closure_add, name="closure_add"),
    path("closures/holidays/", views_manage.closures_holidays, name="closures_holidays"),
    path("closures/<int:pk>/remove/", views_manage.closure_remove, name="closure_remove"),
    path("staff/", views_manage.staff_list, name="staff_hours"),
    path("staff/<uuid:code>/", views_manage.staff_edit, name="staff_edit"),
    path("staff/<uuid:code>/windows/", views_manage.staff_window_add, name="staff_window_add"),
    path("staff/<uuid:code>/max-hours/", views_manage.staff_max_hours, name="staff_max_hours"),
    path("staff/<uuid:code>/windows/<int:pk>/remove/", views_manage.staff_window_remove,
         name="staff_window_remove"),
    path("participants/<uuid:code>/", views.participant_schedule, name="participant_schedule"),
    path("participants/<uuid:code>/bookings/<uuid:booking>/pin/", views_manage.booking_pin,
         name="booking_pin"),
    path("participants/<uuid:code>/track/", views_manage.track_move, name="track_move"),
    path("participants/<uuid:code>/track/alternatives/", views_manage.track_alternatives,
         name="track_alternatives"),
    path("participants/<uuid:code>/calendar-link/", views.participant_feed_create,
         name="participant_feed_create"),
    path("participants/<uuid:code>/calendar-link/<int:feed_id>/revoke/", views.participant_feed_revoke,
         name="participant_feed_revoke"),
    path("my-calendar/", views.my_calendar, name="my_calendar"),
    path("notifications/<uuid:code>/read/", views.notification_read, name="notification_read"),
    path("feeds/<str:token>.ics", views.feed, name="feed"),
]
