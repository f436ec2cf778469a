from django.urls import path

from . import views, views_consents, views_portal_accounts

app_name = "participants"

urlpatterns = [
    path("", views.participant_list_view, name="list"),
    path("new/", views.participant_create, name="create"),
    path("<uuid:code>/", views.participant_chart, name="chart"),
    path("<uuid:code>/edit/", views.participant_edit, name="edit"),
    path("<uuid:code>/availability/", views.availability_add, name="availability_add"),
    path("<uuid:code>/availability/<int:window_id>/delete/", views.availability_remove,
         name="availability_remove"),
    path("<uuid:code>/contacts/", views.related_person_add, name="related_person_add"),
    path("<uuid:code>/consents/", views_consents.consent_list, name="consents"),
    path("<uuid:code>/consents/new/part2/", views_consents.consent_add_part2,
         name="consent_add_part2"),
    path("<uuid:code>/consents/new/family/", views_consents.consent_add_family,
         name="consent_add_family"),
    path("<uuid:code>/consents/<uuid:consent_code>/revoke/", views_consents.consent_revoke,
         name="consent_revoke"),
    path("<uuid:code>/consents/<uuid:consent_code>/print/", views_consents.consent_print,
         name="consent_print"),
    path("<uuid:code>/portal-accounts/invite/", views_portal_accounts.portal_invite,
         name="portal_invite"),
    path("<uuid:code>/portal-accounts/<str:who>/link/", views_portal_accounts.portal_link,
         name="portal_link"),
    path("<uuid:code>/portal-accounts/<str:who>/deactivate/",
         views_portal_accounts.portal_deactivate, name="portal_deactivate"),
    path("<uuid:code>/portal-accounts/<str:who>/reactivate/",
         views_portal_accounts.portal_reactivate, name="portal_reactivate"),
]
