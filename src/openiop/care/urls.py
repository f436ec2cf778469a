from django.urls import path

from . import views

app_name = "care"

urlpatterns = [
    path("", views.program_list, name="programs"),
    path("programs/<uuid:code>/settings/", views.program_settings, name="program_settings"),
    path("participants/<uuid:code>/", views.participant_care, name="participant_care"),
    path("participants/<uuid:code>/episodes/<uuid:episode>/level/", views.episode_level,
         name="episode_level"),
    path("participants/<uuid:code>/episodes/<uuid:episode>/authorized/",
         views.episode_authorized, name="episode_authorized"),
    path("participants/<uuid:code>/episodes/<uuid:episode>/family-therapist/",
         views.episode_family_therapist, name="episode_family_therapist"),
    path("participants/<uuid:code>/episodes/<uuid:episode>/discharge/", views.episode_discharge,
         name="episode_discharge"),
    path("participants/<uuid:code>/episodes/<uuid:episode>/from-waitlist/",
         views.episode_from_waitlist, name="episode_from_waitlist"),
    path("participants/<uuid:code>/assessments/<uuid:assessment>/confirm/", views.loc_confirm,
         name="loc_confirm"),
]
