"""measure_record: scores, stores items, opens a safety task when a safety flag fires."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from openiop.accounts.models import Role, User
from openiop.audit.models import AccessEvent
from openiop.core.exceptions import NotPermitted
from openiop.intake.measures import measure_record
from openiop.intake.models import MeasureResponse, SafetyTask
from tests import factories as f


def test_it_stores_the_items_total_and_band(world):
    response = measure_record(actor=world.clinician, participant=world.participant,
                              instrument="phq9", answers=[2, 2, 2, 2, 2, 1, 1, 0, 0])
    response.refresh_from_db()
    assert response.total == 12 and response.band == "moderate"
    assert response.answers["q1"] == 2 and len(response.answers) == 9
    assert response.episode == world.episode  # defaults to the open episode
    assert response.source == "staff" and response.recorded_by == world.clinician
    assert not SafetyTask.objects.exists()
    assert AccessEvent.objects.filter(object_type="measure_response", action="create").count() == 1


def test_item9_opens_an_urgent_task_for_the_primary_therapist(world):
    response = measure_record(actor=world.clinician, participant=world.participant,
                              instrument="phq9", answers=[0] * 8 + [1])
    assert response.safety_flag is True
    task = SafetyTask.objects.get()
    assert task.participant == world.participant
    assert task.measure_response == response
    assert task.assigned_to == world.clinician
    assert task.priority == "urgent" and task.status == "open"
    assert "item 9" in task.title


def test_cssrs_high_risk_opens_an_emergent_task(world):
    measure_record(actor=world.clinician, participant=world.participant, instrument="cssrs",
                   answers={"q1": "yes", "q2": "yes", "q3": "yes", "q4": "yes", "q5": "no",
                            "q6": "no"}, context="intake")
    task = SafetyTask.objects.get()
    assert task.priority == "emergent"


def test_the_participant_may_record_their_own_check_in(world):
    user = User.objects.create_user(username="self", password="x" * 12, role=Role.PARTICIPANT)
    world.participant.user = user
    world.participant.save()
    response = measure_record(actor=user, participant=world.participant, instrument="gad7",
                              answers=[1] * 7)
    assert response.source == "portal" and response.recorded_by is None


def test_bad_answers_name_the_item_and_write_nothing(world):
    with pytest.raises(ValidationError) as exc:
        measure_record(actor=world.clinician, participant=world.participant, instrument="gad7",
                       answers=[1, 1, 1, 1, 1, 1, 7])
    assert "q7" in exc.value.message_dict
    assert not MeasureResponse.objects.exists()


def test_outsiders_and_other_participants_may_not_record(world):
    with pytest.raises(NotPermitted):
        measure_record(actor=world.outsider, participant=world.participant, instrument="gad7",
                       answers=[0] * 7)
    other_user = User.objects.create_user(username="o", password="x" * 12, role="participant")
    f.participant(world.org, user=other_user)
    with pytest.raises(NotPermitted):
        measure_record(actor=other_user, participant=world.participant, instrument="gad7",
                       answers=[0] * 7)
    assert not MeasureResponse.objects.exists()


def test_an_unknown_context_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        measure_record(actor=world.clinician, participant=world.participant, instrument="gad7",
                       answers=[0] * 7, context="monthly")
    assert "context" in exc.value.message_dict
