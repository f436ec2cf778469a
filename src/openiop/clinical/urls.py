from __future__ import annotations

from django.urls import path

from .views import chart, notes, plans

app_name = "clinical"

urlpatterns = [
    path("", notes.index, name="index"),
    path("sessions/<uuid:session_code>/note/", notes.note_for_session, name="note_for_session"),
    path("<uuid:code>/", notes.note_detail, name="note"),
    path("<uuid:code>/save/", notes.note_save, name="note_save"),
    path("<uuid:code>/sign/", notes.note_sign, name="note_sign"),
    path("<uuid:code>/cosign/", notes.note_cosign, name="note_cosign"),
    path("<uuid:code>/lock/", notes.note_lock, name="note_lock"),
    path("<uuid:code>/addendum/", notes.note_addendum, name="note_addendum"),
    path("<uuid:code>/entries/", notes.note_entry_add, name="note_entry_add"),
    path("<uuid:code>/print/", notes.note_print, name="note_print"),
    path("<uuid:code>/pdf/", notes.note_pdf_view, name="note_pdf"),
    # The participant chart.
    path("participants/<uuid:code>/", chart.participant_notes, name="participant_notes"),
    path("participants/<uuid:code>/notes/<uuid:note_code>/", chart.participant_note,
         name="participant_note"),
    path("participants/<uuid:code>/break-glass/", chart.break_glass, name="break_glass"),
    path("participants/<uuid:code>/release/", chart.release_record, name="release_record"),
    path("participants/<uuid:code>/plan/", plans.participant_plan, name="participant_plan"),
    path("participants/<uuid:code>/plan/revisions/<int:number>/", plans.plan_revision,
         name="plan_revision"),
    path("participants/<uuid:code>/plan/export/<str:fmt>/", plans.plan_export,
         name="plan_export"),
    # One named URL per plan verb, clinical:plan_<verb> (start, problem, goal, ...).
    *(path(f"participants/<uuid:code>/plan/{verb}/", plans.plan_action, {"action": verb},
           name=f"plan_{verb}") for verb in plans.PLAN_SERVICES),
    path("participants/<uuid:code>/safety-plan/", plans.safety_plan, name="safety_plan"),
    path("participants/<uuid:code>/safety-plan/v<int:version>/<str:fmt>/",
         plans.safety_plan_export, name="safety_plan_export"),
]
