from django.urls import path

from . import views, views_consents

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
    path("<uuid:code>/consents/new/<str:kind>/", views_consents.consent_add,
         name="consent_add"),
    path("<uuid:code>/consents/<uuid:consent_code>/revoke/", views_consents.consent_revoke,
         name="consent_revoke"),
    path("<uuid:code>/consents/<uuid:consent_code>/print/", views_consents.consent_print,
         name="consent_print"),
]
