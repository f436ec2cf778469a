"""The chart's treatment-plan tab reads the same number of queries whatever the size of the
plan (problems, goals, objectives, interventions, reviews, revisions) and of the clinic,
and reads the plan's tree once."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.clinical.services import (
    plan_add_goal,
    plan_add_intervention,
    plan_add_objective,
    plan_add_problem,
    plan_finish_revision,
    plan_review,
    plan_start,
)
from openiop.clinical.services.plans import plan_snapshot
from tests.clinic_size import add_participants
from tests.conftest import login

# The chart frame (participant, episode, header flags, the access module's checks), the
# tab's access check (the care team, grant and Part 2 answers asked once per request:
# openiop.access.memo), the plan with its tree (one query per level, read once: 5 fewer than
# when the snapshot read the tree again), its revisions, reviews and safety plan, the
# staff for the intervention form, and the view's audit event (on PostgreSQL one more:
# the advisory lock that serializes the organization's audit chain). No session write:
# within a minute of the last (openiop.core.sessions).
PLAN_TAB_QUERIES = 31 + (1 if connection.vendor == "postgresql" else 0)


def _grow_plan(world, plan, n):
    """n problems, each with a goal, two objectives and two interventions per objective, a
    finished revision and a review per problem."""
    actor = world.clinician
    for k in range(n):
        plan.refresh_from_db()
        problem = plan_add_problem(actor=actor, plan=plan, text=f"Problem {k}",
                                   version=plan.version)
        plan.refresh_from_db()
        goal = plan_add_goal(actor=actor, problem=problem, text=f"Goal {k}", version=plan.version)
        for j in range(2):
            plan.refresh_from_db()
            objective = plan_add_objective(actor=actor, goal=goal, text=f"Objective {k}.{j}",
                                           target_date=plan.started_on + timedelta(days=21),
                                           version=plan.version)
            for who in (world.clinician, world.colleague):
                plan.refresh_from_db()
                plan_add_intervention(actor=actor, objective=objective, modality="CBT group",
                                      frequency="weekly", responsible=who,
                                      version=plan.version)
        plan.refresh_from_db()
        plan_finish_revision(actor=actor, plan=plan, version=plan.version)
        plan.refresh_from_db()
        plan_review(actor=actor, plan=plan, summary=f"Review {k}",
                    reviewed_on=plan.started_on - timedelta(days=k), version=plan.version)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def _shown(response):
    """(objectives, interventions) on the page's plan tree."""
    tree = response.context["plan_snapshot"]["problems"]
    objectives = [o for p in tree for g in p["goals"] for o in g["objectives"]]
    return len(objectives), sum(len(o["interventions"]) for o in objectives)


def test_the_plan_tab_takes_the_same_queries_for_a_small_and_a_large_plan_and_clinic(
        clinic, django_assert_num_queries):
    world = clinic.world
    plan = plan_start(actor=world.clinician, participant=world.participant,
                      episode=world.episode, statement="I want my evenings back")
    client = login(world.clinician)
    url = f"/notes/participants/{world.participant.code}/plan/"
    _grow_plan(world, plan, 1)
    add_participants(world, 5)
    small, response = _count(client, url)
    assert _shown(response) == (2, 4)
    _grow_plan(world, plan, 3)
    add_participants(world, 25)
    big, response = _count(client, url)
    assert _shown(response) == (8, 16)
    assert len(response.context["reviews"]) == 4 and len(response.context["revisions"]) == 8
    assert (small, big) == (PLAN_TAB_QUERIES, PLAN_TAB_QUERIES)
    with django_assert_num_queries(PLAN_TAB_QUERIES):
        client.get(url)


def test_the_tab_shows_the_tree_it_loaded_as_a_fresh_read_would(clinic):
    world = clinic.world
    plan = plan_start(actor=world.clinician, participant=world.participant,
                      episode=world.episode, statement="I want my evenings back")
    _grow_plan(world, plan, 2)
    response = login(world.clinician).get(
        f"/notes/participants/{world.participant.code}/plan/")
    plan.refresh_from_db()
    assert response.context["plan_snapshot"] == plan_snapshot(plan)
