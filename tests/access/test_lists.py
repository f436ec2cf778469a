"""Lists and dashboards show a row only to those who may open it: a 42 CFR Part 2
participant's medication, drug-screen, problem, plan, message and skills rows appear for the
care team (or a break-the-glass grant), as the chart page decides; the rows of a participant
who is not a Part 2 record keep the organization rule. Query counts stay pinned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.access.services import break_glass_grant
from openiop.accounts.models import Role
from openiop.clinical.models import TreatmentPlan
from openiop.medications import services as med_services
from openiop.portal.models import Message
from tests import factories as f
from tests.conftest import login

TODAY = timezone.localdate


def _medication_records(clinic, participant, prescriber, nurse) -> None:
    """An active order overdue for review, an open opioid use disorder without naloxone and
    an unexpected drug screen: a row on every medication list."""
    med_services.no_known_allergies_record(actor=prescriber, participant=participant)
    med_services.order_create(actor=prescriber, participant=participant, data={
        "catalog_key": "buprenorphine", "source": "clinic", "prescriber": prescriber,
        "dose": 8, "unit": "mg", "route": "sublingual", "frequency": "daily",
        "start_date": TODAY() - timedelta(days=50)})
    med_services.use_disorder_record(actor=prescriber, participant=participant,
                                     substance="opioid", noted_on=TODAY())
    med_services.screen_record(actor=nurse, participant=participant, collected_on=TODAY(),
                               results={"buprenorphine": False, "fentanyl": True})


@pytest.fixture
def meds(clinic):
    """The Part 2 participant's episode has a team prescriber and nurse; the clinic's other
    nurse is on nobody's team. The plain (mental-health) participant has the same records."""
    w = clinic.w
    team_prescriber = clinic.personas["prescriber"]
    team_nurse = f.staff(w.org, Role.NURSE, username="teamnurse")
    w.episode.prescriber, w.episode.case_manager = team_prescriber, team_nurse
    w.episode.admitted_on = TODAY() - timedelta(days=60)
    w.episode.save(update_fields=["prescriber", "case_manager", "admitted_on"])
    plain_ep = clinic.plain.episodes.get()
    plain_ep.prescriber, plain_ep.case_manager = team_prescriber, team_nurse
    plain_ep.admitted_on = TODAY() - timedelta(days=60)
    plain_ep.save(update_fields=["prescriber", "case_manager", "admitted_on"])
    for p in (w.participant, clinic.plain):
        _medication_records(clinic, p, team_prescriber, team_nurse)
    return team_nurse


def _names(body: str, clinic) -> set[str]:
    return {p.legal_last_name for p in (clinic.w.participant, clinic.plain)
            if p.legal_last_name in body}


def test_medications_dashboard_lists_part2_rows_only_for_the_care_team(clinic, meds):
    off_nurse = clinic.personas["nurse"]
    page = login(off_nurse).get("/medications/").content.decode()
    assert _names(page, clinic) == {"Plain"}
    page = login(meds).get("/medications/").content.decode()
    assert _names(page, clinic) == {"Plain", "Rivera"}
    break_glass_grant(actor=off_nurse, participant=clinic.w.participant, reason="Overdose call")
    page = login(off_nurse).get("/medications/").content.decode()
    assert _names(page, clinic) == {"Plain", "Rivera"}


def test_my_work_lists_part2_medication_rows_only_for_the_care_team(clinic, meds):
    page = login(clinic.personas["nurse"]).get("/dashboard/").content.decode()
    assert "Medication review" in page and _names(page, clinic) == {"Plain"}
    page = login(meds).get("/dashboard/").content.decode()
    assert _names(page, clinic) == {"Plain", "Rivera"}


def test_the_administrator_sees_no_part2_rows_on_my_work(clinic, meds):
    page = login(clinic.personas["admin"]).get("/dashboard/").content.decode()
    assert "Medication review" in page and _names(page, clinic) == {"Plain"}


def _plan(participant, episode, program, created_by) -> TreatmentPlan:
    return TreatmentPlan.objects.create(
        participant=participant, episode=episode, program=program,
        started_on=TODAY() - timedelta(days=40), created_by=created_by,
        next_review_due=TODAY() - timedelta(days=2))


def test_notes_dashboard_lists_plan_reviews_only_for_the_care_team(clinic):
    w = clinic.w
    _plan(w.participant, w.episode, w.program, w.clinician)
    plain_ep = clinic.plain.episodes.get()
    _plan(clinic.plain, plain_ep, plain_ep.program, w.clinician)
    # Treatment plans are the care team's for everyone: the Administrator (not care team)
    # lists none; the director (care team of the organization) lists both.
    assert _names(login(clinic.personas["admin"]).get("/notes/").content.decode(), clinic) == set()
    assert _names(login(w.director).get("/notes/").content.decode(), clinic) == {"Plain", "Rivera"}
    assert _names(login(w.clinician).get("/notes/").content.decode(), clinic) == {
        "Plain", "Rivera"}


def test_staff_inbox_lists_part2_messages_only_for_the_care_team(clinic):
    for p in (clinic.w.participant, clinic.plain):
        Message.objects.create(participant=p, from_participant=True, body="Synthetic hello",
                               sent_at=timezone.now())
    off = login(clinic.personas["clinician_off_team"]).get("/portal/inbox/").content.decode()
    assert _names(off, clinic) == {"Plain"}
    on = login(clinic.w.clinician).get("/portal/inbox/").content.decode()
    assert _names(on, clinic) == {"Plain", "Rivera"}


def test_skills_progress_lists_part2_participants_only_for_the_care_team(clinic):
    from tests.skills.helpers import modules, rotation

    rotation(clinic.w.program, modules(2))
    url = f"/skills/programs/{clinic.w.program.code}/progress/"
    off = login(clinic.personas["clinician_off_team"]).get(url)
    assert off.status_code == 200 and "Rivera" not in off.content.decode()
    assert "Rivera" in login(clinic.w.clinician).get(url).content.decode()


@pytest.mark.parametrize("url", ["/medications/", "/dashboard/"])
def test_scoped_lists_keep_their_query_count(clinic, meds, url):
    """Adding more Part 2 participants (with the same records) adds no query for a nurse
    who sees none of them, nor for the team nurse who sees them all."""
    w = clinic.w
    team_prescriber = clinic.personas["prescriber"]
    clients = {"off": login(clinic.personas["nurse"]), "team": login(meds)}
    before = {}
    for who, client in clients.items():
        client.get(url)
        with CaptureQueriesContext(connection) as q:
            assert client.get(url).status_code == 200
        before[who] = len(q)
    for i in range(3):
        p = f.participant(w.org, legal_first_name="Extra", legal_last_name=f"Case{i}")
        f.episode(p, w.program, therapist=w.clinician, prescriber=team_prescriber,
                  case_manager=meds, admitted_on=TODAY() - timedelta(days=60))
        _medication_records(clinic, p, team_prescriber, meds)
    for who, client in clients.items():
        with CaptureQueriesContext(connection) as q:
            body = client.get(url).content.decode()
        assert len(q) == before[who], who
        assert ("Case1" in body) is (who == "team")
