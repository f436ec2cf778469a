from __future__ import annotations

from django.urls import path

from . import allergy_views, views

app_name = "medications"

P = "participants/<uuid:code>/"

urlpatterns = [
    path("", views.index, name="index"),
    path("catalog/", views.catalog_view, name="catalog"),
    path("my/adherence/", views.my_adherence, name="my_adherence"),
    path(P, views.participant_medications, name="participant_medications"),
    path(P + "orders/new/", views.order_new, name="order_new"),
    path(P + "orders/<uuid:order_code>/", views.order_adjust, name="order_adjust"),
    path(P + "orders/<uuid:order_code>/stop/", views.order_stop, name="order_stop"),
    path(P + "reconcile/", views.reconcile, name="reconcile"),
    path(P + "adherence/", views.adherence_add, name="adherence_add"),
    path(P + "side-effects/", views.side_effect_add, name="side_effect_add"),
    path(P + "naloxone/", views.naloxone_add, name="naloxone_add"),
    path(P + "reviews/", views.review_add, name="review_add"),
    path(P + "problems/", views.use_disorder_add, name="use_disorder_add"),
    path(P + "problems/<int:problem_id>/resolve/", views.use_disorder_resolve,
         name="use_disorder_resolve"),
    path(P + "screens/new/", views.screen_new, name="screen_new"),
    path(P + "administer/", views.administer, name="administer"),
    path(P + "allergies/", allergy_views.allergies, name="allergies"),
    path(P + "allergies/none-known/", allergy_views.no_known_allergies,
         name="no_known_allergies"),
    path(P + "allergies/<uuid:allergy_code>/status/", allergy_views.allergy_status,
         name="allergy_status"),
]
