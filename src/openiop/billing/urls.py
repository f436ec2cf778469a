from __future__ import annotations

from django.urls import path

from . import views

app_name = "billing"

P = "participants/<uuid:code>/"

urlpatterns = [
    path("", views.index, name="index"),
    path("icd10/", views.icd_search, name="icd_search"),
    path("my/costs/", views.my_costs, name="my_costs"),
    path("charges/", views.charges, name="charges"),
    path("claims/", views.claims, name="claims"),
    path("claims/<uuid:claim_code>/", views.claim_detail, name="claim_detail"),
    path("claims/<uuid:claim_code>/scrub/", views.claim_rescrub, name="claim_rescrub"),
    path("claims/<uuid:claim_code>/void/", views.claim_void, name="claim_void"),
    path("batches/", views.batches, name="batches"),
    path("batches/<uuid:batch_code>/837.txt", views.batch_download, name="batch_download"),
    path("remittances/", views.remittances, name="remittances"),
    path("remittances/<uuid:remittance_code>/", views.remittance_detail, name="remittance_detail"),
    path("denials/", views.denials, name="denials"),
    path("aging/", views.aging, name="aging"),
    path(P + "diagnoses/", views.participant_diagnoses, name="participant_diagnoses"),
    path(P + "diagnoses/<uuid:dx_code>/principal/", views.diagnosis_principal,
         name="diagnosis_principal"),
    path(P + "diagnoses/<uuid:dx_code>/resolve/", views.diagnosis_resolve,
         name="diagnosis_resolve"),
    path(P + "diagnoses/<uuid:dx_code>/entered-in-error/", views.diagnosis_entered_in_error,
         name="diagnosis_entered_in_error"),
    path(P, views.participant_billing, name="participant_billing"),
    path(P + "coverage/", views.coverage_add, name="coverage_add"),
    path(P + "coverage/<uuid:coverage_code>/authorizations/", views.authorization_add,
         name="authorization_add"),
    path(P + "certifications/", views.certification_add, name="certification_add"),
    path(P + "authorizations/<uuid:auth_code>/review-packet/", views.ur_packet,
         name="ur_packet"),
    path(P + "authorizations/<uuid:auth_code>/review-packet.pdf", views.ur_packet_pdf,
         name="ur_packet_pdf"),
    path(P + "financial/", views.financial_profile, name="financial_profile"),
    path(P + "statement/", views.statement, name="statement"),
]
