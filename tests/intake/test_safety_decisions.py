"""A level of care is never decided past an unanswered suicide-risk flag, and only a
licensed clinician decides it (intake staff propose)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from openiop.accounts.models import Role
from openiop.care.models import EpisodeOfCare
from openiop.care.services import episode_step_down
from openiop.core.exceptions import NotPermitted
from openiop.intake.loc import recommend
from openiop.intake.measures import measure_record
from openiop.intake.models import LevelOfCareAssessment, SafetyTask
from openiop.intake.services import (
    loc_confirm,
    referral_assess,
    referral_create,
    referral_record_screen,
    referral_start_screening,
)
from tests import factories as f

DIMS = {"withdrawal": 0, "biomedical": 0, "emotional": 2, "readiness": 1, "relapse": 1,
        "environment": 1}
T0 = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # a Wednesday afternoon
PHQ9_ITEM9 = [2, 2, 1, 1, 1, 1, 1, 1, 1]  # total 11, item 9 = 1
CSSRS_LOW = {"q1": "yes", "q2": "no", "q6": "no"}


@pytest.fixture
def intake_user(world):
    return f.staff(world.org, Role.INTAKE, username="intake1")


def _referral(world, intake_user, **kw):
    referral = referral_create(actor=intake_user, source="hospital", name="Robin Q Example",
                               phone="(614) 555-0123", reason="Step-down after a stay",
                               organization=world.org, program=world.program,
                               date_of_birth=date(1991, 3, 4))
    referral_start_screening(actor=intake_user, referral=referral, **kw)
    return referral


def _screen(intake_user, referral, instrument, answers):
    return referral_record_screen(actor=intake_user, referral=referral, instrument=instrument,
                                  answers=answers)


def test_a_decision_after_phq9_item9_needs_a_cssrs_of_the_same_referral(world, intake_user):
    with time_machine.travel(T0, tick=False):
        referral = _referral(world, intake_user)
        _screen(intake_user, referral, "phq9", PHQ9_ITEM9)
        with pytest.raises(ValidationError) as exc:
            referral_assess(actor=world.clinician, referral=referral, dimensions=DIMS,
                            hours_available=9)
        message = exc.value.message_dict["cssrs"][0]
        assert "PHQ-9 item 9 above 0" in message and "within the last 7 days" in message
        assert not LevelOfCareAssessment.objects.exists()
        cssrs = _screen(intake_user, referral, "cssrs", CSSRS_LOW)
        decided = referral_assess(actor=world.clinician, referral=referral, dimensions=DIMS,
                                  hours_available=9)
    assert decided.status == "decided" and decided.decided_by == world.clinician
    assert decided.cssrs_response == cssrs
    assert decided.screening["cssrs"]["band"] == "low"


def test_a_cssrs_older_than_the_program_window_does_not_count(world, intake_user):
    with time_machine.travel(T0 - timedelta(days=10), tick=False):
        referral = _referral(world, intake_user)
        _screen(intake_user, referral, "cssrs", CSSRS_LOW)
        _screen(intake_user, referral, "phq9", PHQ9_ITEM9)
    with time_machine.travel(T0, tick=False):
        with pytest.raises(ValidationError) as exc:
            referral_assess(actor=world.clinician, referral=referral, dimensions=DIMS,
                            hours_available=9)
        assert "cssrs" in exc.value.message_dict
        # The window is a program setting: a 14-day window accepts the same screen.
        world.program.settings = {"cssrs_window_days": 14}
        world.program.save()
        referral.program.refresh_from_db()
        decided = referral_assess(actor=world.clinician, referral=referral, dimensions=DIMS,
                                  hours_available=9)
    assert decided.cssrs_response is not None


def test_a_cssrs_from_before_the_referral_does_not_count(world, intake_user):
    person = f.participant(world.org)
    with time_machine.travel(T0 - timedelta(hours=3), tick=False):
        measure_record(actor=world.clinician, participant=person, instrument="cssrs",
                       answers=CSSRS_LOW, context="intake")
    with time_machine.travel(T0, tick=False):
        referral = _referral(world, intake_user, participant=person)
        _screen(intake_user, referral, "phq9", PHQ9_ITEM9)
        with pytest.raises(ValidationError) as exc:
            referral_assess(actor=world.clinician, referral=referral, dimensions=DIMS,
                            hours_available=9)
    assert "earlier episode does not count" in exc.value.message_dict["cssrs"][0]


def test_a_step_down_needs_a_cssrs_of_this_episode_not_an_earlier_one(world):
    EpisodeOfCare.objects.filter(pk=world.episode.pk).update(admitted_on=date(2026, 3, 2))
    world.episode.refresh_from_db()
    old = EpisodeOfCare.objects.create(
        participant=world.participant, program=f.program(world.org, world.site, name="Old"),
        level_of_care="IOP", admitted_on=date(2025, 1, 6), discharged_on=date(2025, 3, 1),
        status="finished")
    with time_machine.travel(T0 - timedelta(hours=2), tick=False):
        measure_record(actor=world.clinician, participant=world.participant,
                       instrument="phq9", answers=PHQ9_ITEM9, episode=world.episode)
        measure_record(actor=world.clinician, participant=world.participant,
                       instrument="cssrs", answers=CSSRS_LOW, episode=old)
    step = {"actor": world.clinician, "episode": world.episode, "to_level": "OP",
            "effective_on": T0.date(), "reason": "Goals met",
            "safety_decision": "Safety plan reviewed with the person and the team today."}
    with time_machine.travel(T0, tick=False):
        with pytest.raises(ValidationError) as exc:
            episode_step_down(**step)
        assert "cssrs" in exc.value.message_dict
        world.episode.refresh_from_db()
        assert world.episode.level_of_care == "IOP" and not world.episode.level_changes.exists()
        measure_record(actor=world.clinician, participant=world.participant,
                       instrument="cssrs", answers=CSSRS_LOW, episode=world.episode)
        change = episode_step_down(**step)
    assert change.to_level == "OP"


def test_the_explanation_never_says_nothing_called_for_more_next_to_an_unanswered_risk_prompt():
    from openiop.intake.instruments import score

    quiet = dict.fromkeys(DIMS, 0)
    phq9 = score("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1])
    rec = recommend(screening={"phq9": phq9}, dimensions=quiet, hours_available=9)
    texts = " ".join(r.text for r in rec.rules)
    assert "cssrs_needed" in {r.code for r in rec.rules}
    assert "called for more than outpatient" not in texts
    assert "provisionally" in texts and "C-SSRS" in texts
    # With the C-SSRS answered and nothing else, the plain explanation is right again.
    cssrs = score("cssrs", {"q1": "no", "q2": "no", "q6": "no"})
    rec = recommend(screening={"phq9": phq9, "cssrs": cssrs}, dimensions=quiet,
                    hours_available=9)
    assert "No dimension or screening result called for more than outpatient" in " ".join(
        r.text for r in rec.rules)


def test_intake_staff_propose_and_only_a_licensed_clinician_decides(world, intake_user):
    referral = _referral(world, intake_user)
    _screen(intake_user, referral, "phq9", PHQ9_ITEM9)
    # A proposal may be stored before the C-SSRS; the unanswered prompt is in its rules.
    proposal = referral_assess(actor=intake_user, referral=referral, dimensions=DIMS,
                               hours_available=9)
    assert proposal.status == "proposed" and proposal.decided_by is None
    assert "cssrs_needed" in {r["code"] for r in proposal.rules_fired}
    counselor = f.staff(world.org, Role.CLINICIAN, credentials=["CADC"])
    for actor in (intake_user, counselor, world.director):  # no credential that permits it
        with pytest.raises(NotPermitted) as exc:
            loc_confirm(actor=actor, assessment=proposal)
        assert "licensed clinician" in exc.value.message
    with pytest.raises(ValidationError) as exc:  # the C-SSRS rule holds for confirmation
        loc_confirm(actor=world.clinician, assessment=proposal)
    assert "cssrs" in exc.value.message_dict
    _screen(intake_user, referral, "cssrs", CSSRS_LOW)
    with pytest.raises(ValidationError) as exc:
        loc_confirm(actor=world.clinician, assessment=proposal, decided_level="PHP")
    assert "override_reason" in exc.value.message_dict
    decided = loc_confirm(actor=world.clinician, assessment=proposal, decided_level="PHP",
                          override_reason="Two failed IOP stays this year")
    assert (decided.status, decided.decided_level, decided.decided_by) == (
        "decided", "PHP", world.clinician)
    assert decided.is_override and decided.cssrs_response is not None


def test_only_a_licensed_clinician_steps_a_level(world):
    for actor in (world.director, f.staff(world.org, Role.NURSE, credentials=["RN"])):
        with pytest.raises(NotPermitted):
            episode_step_down(actor=actor, episode=world.episode, to_level="OP",
                              effective_on=world.episode.admitted_on, reason="Goals met")
    world.episode.refresh_from_db()
    assert world.episode.level_of_care == "IOP"


def test_contradictory_cssrs_answers_are_confirmed_by_staff_never_dropped(world, intake_user):
    from openiop.intake.models import MeasureResponse
    from tests.conftest import login

    referral = _referral(world, intake_user)
    client = login(intake_user)
    url = f"/intake/referrals/{referral.code}/screen/cssrs/"
    answers = {"q1": "1", "q2": "0", "q4": "1", "q6": "0"}  # no to Q2, yes to intent
    r = client.post(url, answers)
    html = r.content.decode()
    assert r.status_code == 400
    assert "yes to question 4 although the question before it was answered no" in html
    assert "leave it out" not in html
    assert 'name="confirm_answers"' in html and 'id="id_q4_1" checked' in html  # kept
    assert not MeasureResponse.objects.filter(instrument="cssrs").exists()
    r = client.post(url, answers | {"confirm_answers": "on"})
    assert r.status_code == 302
    stored = MeasureResponse.objects.get(instrument="cssrs")
    assert stored.answers["q4"] == 1 and stored.band == "high" and stored.safety_flag
    assert "answers_to_confirm" in {fl["code"] for fl in stored.flags}
    assert SafetyTask.objects.get(measure_response=stored).priority == "emergent"
