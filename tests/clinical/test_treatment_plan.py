"""Treatment plans: problem -> goal -> objective -> intervention, revisions kept, reviews
due every N days (program setting), acknowledgment, optimistic locking, care team only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.clinical.models import TreatmentPlanRevision
from openiop.clinical.services import (
    plan_acknowledge,
    plan_add_goal,
    plan_add_intervention,
    plan_add_objective,
    plan_add_problem,
    plan_finish_revision,
    plan_review,
    plan_set_objective_status,
    plan_start,
)
from openiop.core.exceptions import Conflict, NotPermitted
from tests import factories as f


@pytest.fixture
def plan(clinic):
    w = clinic.world
    return plan_start(actor=w.clinician, participant=w.participant, episode=w.episode,
                      statement="I want my evenings back")


def test_a_plan_is_built_level_by_level_in_one_revision_per_sitting(clinic, plan):
    w = clinic.world
    assert plan.revision == 1 and plan.next_review_due == plan.started_on + timedelta(days=30)
    problem = plan_add_problem(actor=w.clinician, plan=plan, text="Alcohol use",
                               participant_words="I drink every night", version=plan.version)
    plan.refresh_from_db()
    plan = plan_finish_revision(actor=w.clinician, plan=plan, version=plan.version)
    goal = plan_add_goal(actor=w.clinician, problem=problem, text="30 days abstinent",
                         version=plan.version)
    plan.refresh_from_db()
    objective = plan_add_objective(actor=w.clinician, goal=goal, text="Logs cravings daily",
                                   target_date=plan.started_on + timedelta(days=21),
                                   version=plan.version)
    plan.refresh_from_db()
    plan_add_intervention(actor=w.clinician, objective=objective, modality="CBT group",
                          frequency="3 times a week", responsible=w.colleague,
                          version=plan.version)
    plan.refresh_from_db()
    assert plan.revision == 2
    revisions = {r.number: r for r in TreatmentPlanRevision.objects.filter(plan=plan)}
    assert sorted(revisions) == [1, 2]
    assert revisions[1].changes == 2 and not revisions[1].is_draft
    assert revisions[1].snapshot["problems"][0]["participant_words"] == "I drink every night"
    assert revisions[1].snapshot["problems"][0]["goals"] == []
    assert revisions[2].changes == 3 and revisions[2].is_draft
    latest = revisions[2].snapshot["problems"][0]["goals"][0]["objectives"][0]
    assert latest["interventions"][0]["responsible"] == str(w.colleague)
    assert latest["target_date"] == objective.target_date.isoformat()


def test_a_change_against_an_older_version_is_refused(clinic, plan):
    w = clinic.world
    stale = plan.version
    plan_add_problem(actor=w.clinician, plan=plan, text="Sleep", version=stale)
    with pytest.raises(Conflict):
        plan_add_problem(actor=w.clinician, plan=plan, text="Mood", version=stale)
    assert plan.problems.count() == 1


def test_an_objective_needs_a_target_date_and_a_measurable_text(clinic, plan):
    w = clinic.world
    problem = plan_add_problem(actor=w.clinician, plan=plan, text="Sleep", version=plan.version)
    plan.refresh_from_db()
    goal = plan_add_goal(actor=w.clinician, problem=problem, text="Sleep 6 h",
                         version=plan.version)
    plan.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        plan_add_objective(actor=w.clinician, goal=goal, text="Sleep log", target_date=None,
                           version=plan.version)
    assert "target_date" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        plan_add_objective(actor=w.clinician, goal=goal, text="Sleep log",
                           target_date=plan.started_on - timedelta(days=1),
                           version=plan.version)
    assert "target_date" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        plan_add_objective(actor=w.clinician, goal=goal, text="  ",
                           target_date=plan.started_on, version=plan.version)
    assert "text" in exc.value.message_dict
    objective = plan_add_objective(actor=w.clinician, goal=goal, text="Sleep log",
                                   target_date=plan.started_on, version=plan.version)
    plan.refresh_from_db()
    plan_set_objective_status(actor=w.clinician, objective=objective, status="met",
                              version=plan.version)
    objective.refresh_from_db()
    assert objective.status == "met"


def test_an_intervention_needs_staff_of_this_organization(clinic, plan):
    w = clinic.world
    problem = plan_add_problem(actor=w.clinician, plan=plan, text="x", version=plan.version)
    plan.refresh_from_db()
    goal = plan_add_goal(actor=w.clinician, problem=problem, text="y", version=plan.version)
    plan.refresh_from_db()
    objective = plan_add_objective(actor=w.clinician, goal=goal, text="z",
                                   target_date=plan.started_on, version=plan.version)
    plan.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        plan_add_intervention(actor=w.clinician, objective=objective, modality="CBT",
                              frequency="weekly", responsible=w.outsider, version=plan.version)
    assert "responsible" in exc.value.message_dict


def test_a_review_sets_the_next_due_date_from_the_program_setting(clinic, plan):
    w = clinic.world
    w.program.settings = {"treatment_plan_review_days": 14}
    w.program.save()
    plan.program.refresh_from_db()
    today = timezone.localdate()
    review = plan_review(actor=w.clinician, plan=plan, summary="On track",
                         version=plan.version, reviewed_on=today)
    plan.refresh_from_db()
    assert plan.last_reviewed_on == today and plan.next_review_due == today + timedelta(days=14)
    assert review.revision_number == plan.revision
    with pytest.raises(ValidationError):
        plan_review(actor=w.clinician, plan=plan, summary="x", version=plan.version,
                    reviewed_on=today + timedelta(days=1))


def test_acknowledgment_is_of_one_revision(clinic, plan):
    w = clinic.world
    plan = plan_acknowledge(actor=w.clinician, plan=plan, method="signed in person",
                            version=plan.version)
    assert plan.acknowledged_current and plan.acknowledged_revision == 1
    plan_add_problem(actor=w.clinician, plan=plan, text="New problem", version=plan.version)
    plan.refresh_from_db()
    assert not plan.acknowledged_current and plan.acknowledged_revision == 1


def test_only_the_care_team_changes_the_plan_and_one_plan_per_episode(clinic, plan):
    w = clinic.world
    with pytest.raises(NotPermitted):
        plan_add_problem(actor=w.colleague, plan=plan, text="x", version=plan.version)
    with pytest.raises(ValidationError):
        plan_start(actor=w.clinician, participant=w.participant, episode=w.episode)
    other = f.participant(w.org)
    with pytest.raises(NotPermitted):
        plan_start(actor=w.clinician, participant=other, episode=None)
