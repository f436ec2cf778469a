from __future__ import annotations

from django.urls import path

from . import selfcheck, views

app_name = "intake"

urlpatterns = [
    path("", views.referral_list, name="referrals"),
    path("new/", views.referral_new, name="referral_new"),
    path("referrals/<uuid:ref>/", views.referral_detail, name="referral"),
    path("referrals/<uuid:ref>/screening/", views.referral_start_screening,
         name="referral_start_screening"),
    path("referrals/<uuid:ref>/screen/<str:instrument>/", views.referral_screen,
         name="referral_screen"),
    path("referrals/<uuid:ref>/assess/", views.referral_assess, name="referral_assess"),
    path("referrals/<uuid:ref>/admit/", views.referral_admit, name="referral_admit"),
    path("referrals/<uuid:ref>/close/", views.referral_close, name="referral_close"),
    path("self-check/", selfcheck.self_check, name="self_check"),
    path("self-check/send/", selfcheck.self_check_send, name="self_check_send"),
]
