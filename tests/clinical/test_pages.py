"""Clinical pages: writing with autosave, conflicts side by side, signing through the
form, break-the-glass, exports as audited disclosures, escaping of pasted HTML."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.audit.models import AccessEvent
from openiop.clinical.models import Note
from openiop.clinical.services import (
    plan_add_goal,
    plan_add_objective,
    plan_add_problem,
    plan_finish_revision,
    plan_start,
)
from tests.conftest import login

from .helpers import SHARED, distinct_entries, signed_group_note
from .test_safety_plan import PLAN


def _start(client, session):
    response = client.post(f"/notes/sessions/{session.code}/note/")
    assert response.status_code == 302
    return Note.objects.get(session=session)


def test_the_facilitator_writes_and_autosaves_a_group_note(clinic):
    client = login(clinic.supervisor)
    note = _start(client, clinic.group)
    page = client.get(f"/notes/{note.code}/")
    assert page.status_code == 200
    for person in clinic.attendees:
        assert person.display_name.encode() in page.content
    assert clinic.absent.display_name.encode() not in page.content
    data = {"version": "1", **{f"section-{k}": v for k, v in SHARED.items()}}
    for code, fields in distinct_entries(note).items():
        data |= {f"entry-{code}-{k}": v for k, v in fields.items()}
    response = client.post(f"/notes/{note.code}/save/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"version 2" in response.content
    note.refresh_from_db()
    assert note.version == 2 and note.sections["topic"] == SHARED["topic"]
    assert note.entries.exclude(plan="").count() == 2


def test_a_stale_autosave_shows_both_texts_side_by_side(clinic):
    client = login(clinic.supervisor)
    note = _start(client, clinic.individual)
    client.post(f"/notes/{note.code}/save/", {"version": "1", "section-data": "Saved in tab A"},
                HTTP_HX_REQUEST="true")
    response = client.post(f"/notes/{note.code}/save/",
                           {"version": "1", "section-data": "Typed in tab B"},
                           HTTP_HX_REQUEST="true")
    assert response["HX-Retarget"] == "#conflict-panel"
    assert b"Saved in tab A" in response.content and b"Typed in tab B" in response.content
    note.refresh_from_db()
    assert note.sections["data"] == "Saved in tab A"
    # Choosing "keep my text" saves it against the current version.
    client.post(f"/notes/{note.code}/save/", {"version": "2", "section-data": "Typed in tab B",
                                              "resolve": "1"})
    note.refresh_from_db()
    assert note.sections["data"] == "Typed in tab B" and note.version == 3


def test_the_draft_survives_a_session_expiry_and_relogin(clinic):
    client = login(clinic.supervisor)
    note = _start(client, clinic.individual)
    client.post(f"/notes/{note.code}/save/", {"version": "1", "section-data": "Before expiry"},
                HTTP_HX_REQUEST="true")
    client.logout()
    expired = client.post(f"/notes/{note.code}/save/",
                          {"version": "2", "section-data": "After expiry"},
                          HTTP_HX_REQUEST="true")
    assert expired.status_code == 401 and b"session expired" in expired.content
    again = login(clinic.supervisor)
    page = again.get(f"/notes/{note.code}/")
    assert b"Before expiry" in page.content
    note.refresh_from_db()
    assert note.sections["data"] == "Before expiry"


def test_signing_through_the_page_refuses_empty_sections(clinic):
    client = login(clinic.supervisor)
    note = _start(client, clinic.individual)
    response = client.post(f"/notes/{note.code}/sign/")
    assert response.status_code == 422 and b"is required before signing" in response.content
    note.refresh_from_db()
    assert note.status == "draft"


def test_no_url_edits_a_signed_note(clinic):
    client = login(clinic.supervisor)
    note = signed_group_note(clinic.supervisor, clinic.group)
    response = client.post(f"/notes/{note.code}/save/",
                           {"version": str(note.version), "section-topic": "rewritten"})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.sections["topic"] == SHARED["topic"] and note.status == "signed"
    page = client.get(f"/notes/{note.code}/")
    assert b"Add an addendum" in page.content and b"<textarea id=\"id-section-topic\"" not in page.content


def test_pasted_html_is_rendered_escaped(clinic):
    client = login(clinic.supervisor)
    note = _start(client, clinic.individual)
    client.post(f"/notes/{note.code}/save/",
                {"version": "1", "section-data": "<script>alert('x')</script>" + "y" * 12000})
    page = client.get(f"/notes/{note.code}/")
    assert b"<script>alert(" not in page.content
    assert b"&lt;script&gt;alert(" in page.content


def test_someone_off_the_care_team_must_break_the_glass(clinic):
    signed_group_note(clinic.supervisor, clinic.group)
    client = login(clinic.world.colleague)
    url = f"/notes/participants/{clinic.world.participant.code}/"
    page = client.get(url)
    assert b"Break the glass" in page.content and b"Coping with cravings" not in page.content
    note = Note.objects.get(session=clinic.group)
    assert client.get(f"/notes/{note.code}/").status_code == 404
    client.post(f"/notes/participants/{clinic.world.participant.code}/break-glass/",
                {"reason": "Crisis call, therapist unreachable"})
    event = AccessEvent.objects.get(action="break_glass")
    assert event.actor == clinic.world.colleague and "Crisis call" in event.reason
    page = client.get(url)
    assert b"Process group" in page.content
    assert client.get(f"/notes/{note.code}/").status_code == 200


def test_the_chart_shows_only_this_participants_entry(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    client = login(clinic.supervisor)
    me, other = clinic.attendees
    page = client.get(f"/notes/participants/{me.code}/notes/{note.code}/")
    assert page.status_code == 200
    assert me.display_name.encode() in page.content
    assert other.display_name.encode() not in page.content


def test_print_and_pdf_are_audited_disclosures(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    client = login(clinic.supervisor)
    assert client.get(f"/notes/{note.code}/print/").status_code == 200
    pdf = client.get(f"/notes/{note.code}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    actions = set(AccessEvent.objects.filter(object_id=str(note.code)).values_list(
        "action", flat=True))
    assert {"print", "export"} <= actions


def test_the_notes_dashboard_pins_its_query_count(clinic):
    signed_group_note(clinic.supervisor, clinic.group)
    client = login(clinic.world.director)
    client.get("/notes/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/notes/")
    assert response.status_code == 200 and b"Timeliness by clinician" in response.content
    assert len(queries) <= 20, [q["sql"][:80] for q in queries]


def test_treatment_plan_page_revisions_and_exports(clinic):
    w = clinic.world
    plan = plan_start(actor=w.clinician, participant=w.participant, episode=w.episode,
                      statement="I want to sleep and stop drinking")
    problem = plan_add_problem(actor=w.clinician, plan=plan, text="Alcohol use",
                               participant_words="I drink to sleep", version=plan.version)
    plan.refresh_from_db()
    plan = plan_finish_revision(actor=w.clinician, plan=plan, version=plan.version)
    goal = plan_add_goal(actor=w.clinician, problem=problem, text="Abstinence 30 days",
                         version=plan.version)
    plan.refresh_from_db()
    plan_add_objective(actor=w.clinician, goal=goal, text="Attends 3 groups a week",
                       target_date=plan.started_on, version=plan.version)
    client = login(w.clinician)
    page = client.get(f"/notes/participants/{w.participant.code}/plan/")
    assert b"I drink to sleep" in page.content and b"Attends 3 groups a week" in page.content
    first = client.get(f"/notes/participants/{w.participant.code}/plan/revisions/1/")
    assert b"Alcohol use" in first.content and b"Abstinence 30 days" not in first.content
    pdf = client.get(f"/notes/participants/{w.participant.code}/plan/export/pdf/")
    assert pdf.content.startswith(b"%PDF")
    assert AccessEvent.objects.filter(object_type="treatment_plan", action="export").exists()


def test_safety_plan_page_saves_versions_and_prints(clinic):
    w = clinic.world
    client = login(w.clinician)
    url = f"/notes/participants/{w.participant.code}/safety-plan/"
    response = client.post(url, PLAN | {"crisis_line": "988", "version": ""})
    assert response.status_code == 302
    response = client.post(url, PLAN | {"crisis_line": "988", "version": "1",
                                        "reasons_for_living": "<b>My kids</b>"})
    page = client.get(url)
    assert b"version 2" in page.content and b"&lt;b&gt;My kids&lt;/b&gt;" in page.content
    stale = client.post(url, PLAN | {"crisis_line": "988", "version": "1"})
    assert b"newer version" in stale.content
    assert client.get(url + "v1/print/").status_code == 200
    assert client.get(url + "v2/pdf/").content.startswith(b"%PDF")


def test_a_care_team_member_of_one_attendee_reads_only_that_entry(clinic):
    from openiop.care.models import EpisodeOfCare

    me, other = clinic.attendees
    EpisodeOfCare.objects.filter(participant=other).update(
        primary_therapist=clinic.world.colleague)
    note = signed_group_note(clinic.supervisor, clinic.group)
    page = login(clinic.world.colleague).get(f"/notes/{note.code}/")
    assert page.status_code == 200
    assert other.display_name.encode() in page.content
    assert me.display_name.encode() not in page.content


def test_cosigning_through_the_page_needs_the_supervisor(clinic):
    clinic.group.facilitator = clinic.associate
    clinic.group.save()
    note = signed_group_note(clinic.associate, clinic.group)
    login(clinic.world.director).post(f"/notes/{note.code}/cosign/")
    note.refresh_from_db()
    assert note.status == "signed"
    page = login(clinic.supervisor).get(f"/notes/{note.code}/")
    assert b"Co-sign note" in page.content
    login(clinic.supervisor).post(f"/notes/{note.code}/cosign/")
    note.refresh_from_db()
    assert note.status == "cosigned" and note.cosigned_by == clinic.supervisor
    login(clinic.associate).post(f"/notes/{note.code}/lock/")
    note.refresh_from_db()
    assert note.status == "locked"
