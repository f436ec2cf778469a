"""Admission, step-down and discharge while a safety task is open; admission without an
assessment; waitlisting a referral and admitting from the waitlist."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.care.models import Enrollment, EpisodeOfCare
from openiop.care.services import (
    episode_admit,
    episode_discharge,
    episode_step_down,
    episode_step_up,
)
from openiop.core.exceptions import NotPermitted
from openiop.intake.measures import measure_record
from openiop.intake.models import Referral, SafetyTask
from openiop.intake.services import (
    referral_assess,
    referral_create,
    referral_record_screen,
    referral_start_screening,
)
from tests import factories as f
from tests.conftest import login

DIMS = {"withdrawal": 0, "biomedical": 0, "emotional": 2, "readiness": 1, "relapse": 1,
        "environment": 1}
DECISION = "Called today; safety plan reviewed; the team agreed this goes ahead."


def _task(world, person, priority="urgent"):
    return SafetyTask.objects.create(organization=world.org, participant=person,
                                     priority=priority, title="Safety follow-up")


def _admit(world, person, **kw):
    return episode_admit(**({"actor": world.clinician, "participant": person,
                             "program": world.program, "track": world.track,
                             "primary_therapist": world.clinician} | kw))


def _decided_referral(world, intake_user):
    referral = referral_create(actor=intake_user, source="self", name="Casey Example",
                               phone="6145550199", reason="Low mood", organization=world.org,
                               program=world.program, date_of_birth=date(1988, 2, 2))
    referral_start_screening(actor=intake_user, referral=referral)
    referral_record_screen(actor=intake_user, referral=referral, instrument="phq9",
                           answers=[2, 2, 2, 2, 2, 2, 2, 2, 0])
    referral_assess(actor=world.clinician, referral=referral, dimensions=DIMS,
                    hours_available=9)
    return referral


@pytest.fixture
def intake_user(world):
    return f.staff(world.org, Role.INTAKE, username="intake1")


def test_admission_without_screening_and_assessment_needs_an_audited_reason(world, intake_user):
    person = f.participant(world.org)
    with pytest.raises(ValidationError) as exc:
        _admit(world, person)
    assert "no intake screening with a decided" in exc.value.message_dict[
        "admission_exception"][0]
    with pytest.raises(NotPermitted):  # intake staff do not decide a level without one
        _admit(world, person, actor=intake_user, admission_exception="Hospital step-down")
    assert not EpisodeOfCare.objects.filter(participant=person).exists()
    ep = _admit(world, person, admission_exception="Hospital step-down the same afternoon.")
    assert ep.admission_exception == "Hospital step-down the same afternoon."
    event = AccessEvent.objects.filter(object_type="episode", object_id=str(ep.code)).get()
    assert event.reason == "admitted; without assessment, reason documented"
    assert "Hospital" not in event.reason  # the text stays on the record, not in the trail


def test_intake_staff_admit_at_the_decided_level_but_not_another(world, intake_user):
    referral = _decided_referral(world, intake_user)
    with pytest.raises(NotPermitted):
        _admit(world, referral.participant, actor=intake_user, referral=referral,
               level_of_care="OP")
    ep = _admit(world, referral.participant, actor=intake_user, referral=referral)
    assert ep.level_of_care == "IOP" and ep.admission_exception == ""


@pytest.mark.parametrize("priority", ["urgent", "emergent"])
def test_admission_with_an_open_safety_task_needs_a_documented_decision(world, intake_user,
                                                                        priority):
    referral = _decided_referral(world, intake_user)
    _task(world, referral.participant, priority)
    with pytest.raises(ValidationError) as exc:
        _admit(world, referral.participant, referral=referral)
    assert f"{priority} safety task is open" in exc.value.message_dict["safety_decision"][0]
    assert not EpisodeOfCare.objects.filter(participant=referral.participant).exists()
    ep = _admit(world, referral.participant, referral=referral, safety_decision=DECISION)
    assert ep.admission_safety_decision == DECISION
    event = AccessEvent.objects.filter(object_type="episode", object_id=str(ep.code)).get()
    assert "open safety task, decision documented" in event.reason


def test_step_down_and_discharge_with_an_open_task_need_a_decision_step_up_does_not(world):
    _task(world, world.participant)
    # An open task is itself a risk flag: a recent C-SSRS of the episode is on file.
    measure_record(actor=world.clinician, participant=world.participant, instrument="cssrs",
                   answers={"q1": "no", "q2": "no", "q6": "no"}, episode=world.episode)
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        episode_step_down(actor=world.clinician, episode=world.episode, to_level="OP",
                          effective_on=today, reason="Goals met")
    assert "step-down" in exc.value.message_dict["safety_decision"][0]
    world.episode.refresh_from_db()
    assert world.episode.level_of_care == "IOP"
    up = episode_step_up(actor=world.clinician, episode=world.episode, to_level="PHP",
                         effective_on=today, reason="More structure while at risk")
    assert up.safety_decision == ""
    down = episode_step_down(actor=world.clinician, episode=world.episode, to_level="IOP",
                             effective_on=today, reason="Stable", safety_decision=DECISION)
    assert down.safety_decision == DECISION
    discharge = {"actor": world.director, "episode": world.episode, "discharged_on": today,
                 "reason": "completed", "summary": "Goals met", "next_provider": "Dr. Next"}
    with pytest.raises(ValidationError) as exc:
        episode_discharge(**discharge)
    assert "discharge" in exc.value.message_dict["safety_decision"][0]
    world.episode.refresh_from_db()
    assert world.episode.status == "active"
    d = episode_discharge(**discharge, safety_decision=DECISION)
    assert d.safety_decision == DECISION


def test_a_resolved_task_asks_for_nothing(world):
    task = _task(world, world.participant)
    SafetyTask.objects.filter(pk=task.pk).update(status="resolved")
    change = episode_step_down(actor=world.clinician, episode=world.episode, to_level="OP",
                               effective_on=timezone.localdate(), reason="Goals met")
    assert change.safety_decision == ""


def test_waitlisting_updates_the_referral_and_the_person_is_admitted_from_it(world,
                                                                             intake_user):
    world.track.capacity = 1  # world.participant holds the only seat
    world.track.save()
    referral = _decided_referral(world, intake_user)
    other = f.program(world.org, world.site, name="Evening IOP")
    Referral.objects.filter(pk=referral.pk).update(program=other)
    referral.refresh_from_db()
    ep = _admit(world, referral.participant, actor=intake_user, referral=referral,
                waitlist=True)
    referral.refresh_from_db()
    assert ep.status == "waitlist"
    assert (referral.status, referral.program, referral.episode) == ("waitlisted",
                                                                     world.program, ep)
    client = login(world.clinician)
    care_url = f"/programs/participants/{referral.participant.code}/"
    page = client.get(care_url).content.decode()
    assert "Waitlisted</strong> in Adult IOP" in page and "Admit from the waitlist" in page
    Enrollment.objects.filter(episode=world.episode).update(status="ended")  # a seat opens
    r = client.post(f"{care_url}episodes/{ep.code}/from-waitlist/", {})
    assert r.status_code == 302
    ep.refresh_from_db()
    referral.refresh_from_db()
    assert ep.status == "active" and referral.status == "admitted" and referral.episode == ep


def test_the_care_tab_asks_for_the_decision_while_a_task_is_open(world):
    _task(world, world.participant, "emergent")
    client = login(world.clinician)
    url = f"/programs/participants/{world.participant.code}/"
    page = client.get(url).content.decode()
    assert "1 open safety task" in page and "need a documented decision" in page
    assert 'name="safety_decision"' in page
    d_url = f"{url}episodes/{world.episode.code}/discharge/"
    form = {"discharged_on": timezone.localdate(), "reason": "completed",
            "summary": "Goals met", "next_provider": "Dr. Next"}
    r = client.post(d_url, form)
    assert r.status_code == 400 and b"emergent safety task is open" in r.content
    assert b"Goals met" in r.content  # what was typed is kept
    world.episode.refresh_from_db()
    assert world.episode.status == "active"
    assert client.post(d_url, form | {"safety_decision": DECISION}).status_code == 302
    world.episode.refresh_from_db()
    assert world.episode.status == "finished"
    assert DECISION in client.get(url).content.decode()


def test_the_care_tab_hides_the_step_form_from_unlicensed_staff(world):
    url = f"/programs/participants/{world.participant.code}/"
    director_page = login(world.director).get(url).content.decode()
    assert "Record the change" not in director_page
    assert "A licensed clinician (a credential that permits assessment)" in director_page
    assert "Record the change" in login(world.clinician).get(url).content.decode()


def test_a_step_up_after_a_risk_flag_is_never_held_back_for_a_screen(world):
    _task(world, world.participant, "emergent")  # a risk flag with no C-SSRS on file
    with pytest.raises(ValidationError) as exc:
        episode_step_down(actor=world.clinician, episode=world.episode, to_level="OP",
                          effective_on=timezone.localdate(), reason="Goals met",
                          safety_decision=DECISION)
    assert "cssrs" in exc.value.message_dict
    up = episode_step_up(actor=world.clinician, episode=world.episode, to_level="PHP",
                         effective_on=timezone.localdate(), reason="Daily structure now")
    assert up.to_level == "PHP"


def test_the_referral_page_of_a_waitlisted_person_points_to_the_waitlist(world, intake_user):
    world.track.capacity = 1
    world.track.save()
    referral = _decided_referral(world, intake_user)
    _admit(world, referral.participant, actor=intake_user, referral=referral, waitlist=True)
    page = login(world.director).get(f"/intake/referrals/{referral.code}/").content.decode()
    assert 'id="waitlisted"' in page and "Waitlisted</strong> in Adult IOP" in page
    assert ">Admit</button>" not in page
    queue = login(intake_user).get("/intake/?status=waitlisted").content.decode()
    assert "Casey Example" in queue


def test_the_care_tab_confirms_a_proposal_only_past_the_cssrs_rule(world, intake_user):
    from openiop.intake.models import LevelOfCareAssessment

    referral = referral_create(actor=intake_user, source="self", name="Drew Example",
                               phone="6145550198", reason="Low mood", organization=world.org,
                               program=world.program, date_of_birth=date(1990, 2, 2))
    referral_start_screening(actor=intake_user, referral=referral)
    referral_record_screen(actor=intake_user, referral=referral, instrument="phq9",
                           answers=[2, 2, 2, 2, 2, 2, 2, 2, 1])
    proposal = referral_assess(actor=intake_user, referral=referral, dimensions=DIMS,
                               hours_available=9)
    person = referral.participant
    url = f"/programs/participants/{person.code}/"
    client = login(world.clinician)
    page = client.get(url).content.decode()
    assert "Level of care proposed" in page and "Decide the level of care" in page
    assert "complete the C-SSRS before deciding" in page
    assert "Decide the level of care" not in login(world.director).get(url).content.decode()
    confirm = f"{url}assessments/{proposal.code}/confirm/"
    r = client.post(confirm, {"decided_level": "", "override_reason": ""})
    assert r.status_code == 400 and b"needs a C-SSRS screen from this referral" in r.content
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    referral_record_screen(actor=intake_user, referral=referral, instrument="cssrs",
                           answers={"q1": "yes", "q2": "no", "q6": "no"})
    assert client.post(confirm, {"decided_level": "", "override_reason": ""}).status_code == 302
    assert LevelOfCareAssessment.objects.get(pk=proposal.pk).decided_by == world.clinician
    # The admission page warns about the open task and asks for the decision.
    admit = {"program": world.program.pk, "track": world.track.pk, "level_of_care": "IOP",
             "admitted_on": timezone.localdate(), "primary_therapist": world.clinician.pk}
    intake = login(intake_user)
    detail = intake.get(f"/intake/referrals/{referral.code}/").content.decode()
    assert "open safety task" in detail and 'name="safety_decision"' in detail
    r = intake.post(f"/intake/referrals/{referral.code}/admit/", admit)
    assert r.status_code == 400 and b"2 urgent safety tasks are open" in r.content
    r = intake.post(f"/intake/referrals/{referral.code}/admit/",
                    admit | {"safety_decision": DECISION})
    assert r.status_code == 302
    assert person.episodes.get().admission_safety_decision == DECISION
