"""Referral workflow through services and pages: screening, recommendation, override,
admission, closing; illegal transitions change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.care.models import EpisodeOfCare
from openiop.core.exceptions import InvalidTransition
from openiop.intake.models import LevelOfCareAssessment, Referral, SafetyTask
from openiop.intake.services import (
    referral_assess,
    referral_close,
    referral_create,
    referral_record_screen,
    referral_start_screening,
)
from tests import factories as f
from tests.conftest import login

DIMS = {"withdrawal": 0, "biomedical": 0, "emotional": 2, "readiness": 1, "relapse": 1,
        "environment": 1}


@pytest.fixture
def intake_user(world):
    return f.staff(world.org, Role.INTAKE, username="intake1")


@pytest.fixture
def referral(world, intake_user):
    return referral_create(actor=intake_user, source="hospital", name="Robin Q Example",
                           phone="(614) 555-0123", reason="Step-down after a 5-day stay",
                           organization=world.org, program=world.program,
                           date_of_birth=date(1991, 3, 4))


def screened(world, intake_user, referral):
    referral_start_screening(actor=intake_user, referral=referral)
    referral_record_screen(actor=intake_user, referral=referral, instrument="phq9",
                           answers=[2, 2, 2, 2, 2, 2, 2, 2, 0])
    return referral


def test_start_screening_opens_a_record_and_stamps_the_time(world, intake_user, referral):
    referral_start_screening(actor=intake_user, referral=referral)
    referral.refresh_from_db()
    assert referral.status == "screening" and referral.screening_at is not None
    person = referral.participant
    assert (person.legal_first_name, person.legal_last_name) == ("Robin Q", "Example")
    assert person.date_of_birth == date(1991, 3, 4) and person.organization == world.org


def test_screening_cannot_start_twice(world, intake_user, referral):
    referral_start_screening(actor=intake_user, referral=referral)
    with pytest.raises(InvalidTransition):
        referral_start_screening(actor=intake_user, referral=referral)


def test_a_screen_with_a_safety_flag_marks_the_referral_urgent(world, intake_user, referral):
    referral_start_screening(actor=intake_user, referral=referral)
    referral_record_screen(actor=intake_user, referral=referral, instrument="phq9",
                           answers=[1] * 8 + [2])
    referral.refresh_from_db()
    assert referral.urgent is True
    task = SafetyTask.objects.get()
    assert task.referral == referral and task.participant == referral.participant


def test_recommendation_stores_every_rule_and_moves_to_assessment(world, intake_user, referral):
    screened(world, intake_user, referral)
    a = referral_assess(actor=intake_user, referral=referral, dimensions=DIMS,
                        hours_available=9)
    referral.refresh_from_db()
    assert referral.status == "assessment" and referral.assessment_at is not None
    assert a.recommended_level == a.decided_level == "IOP"
    assert {r["code"] for r in a.rules_fired} >= {"dimension_emotional", "phq9_severe"}
    assert a.screening["phq9"]["total"] == 16


def test_override_without_a_reason_is_refused(world, intake_user, referral):
    screened(world, intake_user, referral)
    with pytest.raises(ValidationError) as exc:
        referral_assess(actor=intake_user, referral=referral, dimensions=DIMS,
                        hours_available=9, decided_level="OP", override_reason="  ")
    assert "override_reason" in exc.value.message_dict
    assert not LevelOfCareAssessment.objects.exists()


def test_override_with_a_reason_is_stored(world, intake_user, referral):
    screened(world, intake_user, referral)
    a = referral_assess(actor=intake_user, referral=referral, dimensions=DIMS,
                        hours_available=9, decided_level="PHP",
                        override_reason="Failed IOP twice this year")
    assert a.is_override and a.decided_level == "PHP" and a.recommended_level == "IOP"
    assert a.override_reason == "Failed IOP twice this year"


def test_assessment_needs_screening_first(world, intake_user, referral):
    with pytest.raises(InvalidTransition):
        referral_assess(actor=intake_user, referral=referral, dimensions=DIMS,
                        hours_available=9)
    referral_start_screening(actor=intake_user, referral=referral)
    with pytest.raises(ValidationError) as exc:
        referral_assess(actor=intake_user, referral=referral, dimensions=DIMS,
                        hours_available=9)
    assert "screening" in exc.value.message_dict


def test_closing_needs_a_reason_and_a_destination_and_happens_once(world, intake_user, referral):
    with pytest.raises(ValidationError) as exc:
        referral_close(actor=intake_user, referral=referral, status="referred_elsewhere",
                       note="", referred_to="")
    assert {"note", "referred_to"} <= set(exc.value.message_dict)
    referral_close(actor=intake_user, referral=referral, status="referred_elsewhere",
                   note="Needs residential care", referred_to="Lakeside Residential")
    referral.refresh_from_db()
    assert referral.status == "referred_elsewhere" and referral.closed_at is not None
    with pytest.raises(InvalidTransition):
        referral_close(actor=intake_user, referral=referral, status="declined", note="x")
    with pytest.raises(InvalidTransition):
        referral_record_screen(actor=intake_user, referral=referral, instrument="gad7",
                               answers=[0] * 7)


def test_the_whole_flow_through_the_pages(world, intake_user, referral):
    client = login(intake_user)
    page = client.get("/intake/")
    assert page.status_code == 200 and b"Robin Q Example" in page.content
    url = f"/intake/referrals/{referral.code}/"
    assert client.get(url).status_code == 200
    r = client.post(url + "screening/", {"date_of_birth": "1991-03-04",
                                         "version": referral.version})
    assert r.status_code == 302
    answers = {f"q{i}": "2" for i in range(1, 10)} | {"q9": "0"}
    assert client.get(url + "screen/phq9/").status_code == 200
    assert client.post(url + "screen/phq9/", answers).status_code == 302
    bad = client.post(url + "screen/phq9/", answers | {"q3": ""})
    assert bad.status_code == 400 and b"This field is required" in bad.content
    dims = {k: str(v) for k, v in DIMS.items()}
    r = client.post(url + "assess/", dims | {"hours_available": "9", "decided_level": "OP",
                                             "override_reason": ""})
    assert r.status_code == 400 and b"override" in r.content
    r = client.post(url + "assess/", dims | {"hours_available": "9"})
    assert r.status_code == 302
    detail = client.get(url)
    assert b"Recommendation: Intensive outpatient" in detail.content
    assert b"Every rule that fired" in detail.content
    # Intake staff propose; the admission waits for a licensed clinician's decision.
    assert b"Proposed level:" in detail.content
    admit = {"program": world.program.pk, "track": world.track.pk, "level_of_care": "IOP",
             "admitted_on": timezone.localdate().isoformat(), "primary_therapist": world.clinician.pk}
    r = client.post(url + "admit/", admit)
    assert r.status_code == 400 and b"no intake screening with a decided" in r.content
    assert not EpisodeOfCare.objects.filter(participant__referrals=referral).exists()
    proposal = LevelOfCareAssessment.objects.get(referral=referral)
    care = login(world.clinician).post(
        f"/programs/participants/{proposal.participant.code}/assessments/{proposal.code}/"
        "confirm/", {"decided_level": "", "override_reason": ""})
    assert care.status_code == 302
    r = client.post(url + "admit/", admit)
    assert r.status_code == 302, r.content.decode()[:2000]
    referral.refresh_from_db()
    assert referral.status == "admitted"
    assert referral.episode.enrollments.get().track == world.track


def test_a_full_track_offers_the_waitlist_on_the_page(world, intake_user, referral):
    world.track.capacity = 1
    world.track.save()
    screened(world, intake_user, referral)
    referral_assess(actor=world.clinician, referral=referral, dimensions=DIMS,
                    hours_available=9)
    client = login(intake_user)
    data = {"program": world.program.pk, "track": world.track.pk, "level_of_care": "IOP",
            "admitted_on": timezone.localdate().isoformat(), "primary_therapist": world.clinician.pk}
    r = client.post(f"/intake/referrals/{referral.code}/admit/", data)
    assert r.status_code == 400
    assert b"is full" in r.content and b"Add to the waitlist" in r.content
    r = client.post(f"/intake/referrals/{referral.code}/admit/", data | {"waitlist": "on"})
    assert r.status_code == 302
    referral.refresh_from_db()
    ep = referral.participant.episodes.get()
    assert ep.status == "waitlist"
    assert (referral.status, referral.program, referral.episode) == ("waitlisted",
                                                                     world.program, ep)
    assert referral.waitlisted_at is not None


def test_other_organizations_cannot_see_a_referral(world, referral, as_outsider, as_clinician):
    assert as_outsider.get(f"/intake/referrals/{referral.code}/").status_code == 404
    queue = as_outsider.get("/intake/")  # a director elsewhere sees only their own queue
    assert queue.status_code == 200 and b"Robin Q Example" not in queue.content
    # A clinician (no intake permission) does not get the queue at all.
    assert as_clinician.get("/intake/").status_code == 404


def test_resolving_a_safety_task(world, intake_user, referral, as_clinician):
    referral_start_screening(actor=intake_user, referral=referral)
    referral_record_screen(actor=intake_user, referral=referral, instrument="phq9",
                           answers=[0] * 8 + [1])
    task = SafetyTask.objects.get()
    r = as_clinician.post(f"/dashboard/safety-tasks/{task.code}/resolve/",
                          {"outcome": "safety_plan_reviewed",
                           "resolution": "Called; safety plan reviewed"})
    assert r.status_code == 302
    task.refresh_from_db()
    assert task.status == "resolved" and task.resolved_by == world.clinician
    assert task.outcome == "safety_plan_reviewed" and task.acknowledged_by == world.clinician
    assert Referral.objects.get().urgent
