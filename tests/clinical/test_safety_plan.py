"""Safety plans: versioned, care-team only, current version for the portal."""

from __future__ import annotations

import pytest

from openiop.audit.models import AccessEvent
from openiop.clinical.models import SafetyPlan
from openiop.clinical.selectors import current_safety_plan
from openiop.clinical.services import safety_plan_save
from openiop.core.exceptions import Conflict, NotPermitted
from tests import factories as f

PLAN = {
    "warning_signs": "Not sleeping\nSkipping meals",
    "internal_coping": "Walk the dog\nBox breathing",
    "social_distractions": "Coffee shop on High Street",
    "help_contacts": "Sister Ana (614) 555-0199",
    "professional_contacts": "Riverbend front desk (614) 555-0100",
    "environment_safety": "Medications kept by my sister",
    "reasons_for_living": "My daughter",
}


def test_it_has_no_current_plan_before_the_first_save(world):
    assert current_safety_plan(world.participant) is None


def test_each_save_is_a_new_version_and_old_versions_stay(world):
    first = safety_plan_save(actor=world.clinician, participant=world.participant, data=PLAN,
                             based_on_version=None)
    second = safety_plan_save(actor=world.clinician, participant=world.participant,
                              data=PLAN | {"reasons_for_living": "My daughter\nMusic"},
                              based_on_version=1)
    assert (first.version, second.version) == (1, 2)
    assert current_safety_plan(world.participant) == second
    first.refresh_from_db()
    assert first.reasons_for_living == "My daughter"
    assert SafetyPlan.objects.filter(participant=world.participant).count() == 2
    assert AccessEvent.objects.filter(object_type="safety_plan", action="create").count() == 2


def test_it_always_lists_988_with_the_professionals(world):
    plan = safety_plan_save(actor=world.clinician, participant=world.participant,
                            data=PLAN | {"crisis_line": ""}, based_on_version=None)
    steps = dict(plan.steps())
    professionals = steps["5. Professionals or agencies I can contact during a crisis"]
    assert any("988" in line for line in professionals)
    assert steps["1. Warning signs"] == ["Not sleeping", "Skipping meals"]


def test_a_save_against_an_older_version_is_refused(world):
    safety_plan_save(actor=world.clinician, participant=world.participant, data=PLAN,
                     based_on_version=None)
    safety_plan_save(actor=world.clinician, participant=world.participant, data=PLAN,
                     based_on_version=1)
    with pytest.raises(Conflict):
        safety_plan_save(actor=world.clinician, participant=world.participant,
                         data=PLAN | {"warning_signs": "mine"}, based_on_version=1)
    assert current_safety_plan(world.participant).warning_signs == PLAN["warning_signs"]


def test_someone_off_the_care_team_cannot_write_it(world):
    with pytest.raises(NotPermitted):
        safety_plan_save(actor=world.colleague, participant=world.participant, data=PLAN,
                         based_on_version=None)
    assert current_safety_plan(world.participant) is None


def test_a_required_step_left_empty_is_named(world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        safety_plan_save(actor=world.clinician, participant=world.participant,
                         data=PLAN | {"warning_signs": "  "}, based_on_version=None)
    assert "warning_signs" in exc.value.message_dict
    assert not SafetyPlan.objects.exists()


def test_another_participant_plan_is_not_current(world):
    other = f.participant(world.org)
    safety_plan_save(actor=world.clinician, participant=world.participant, data=PLAN,
                     based_on_version=None)
    assert current_safety_plan(other) is None
