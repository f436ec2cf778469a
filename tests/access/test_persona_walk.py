"""Every participant URL x every staff persona, compared with the declared table.

The isolation walk (tests/participants/test_isolation.py) proves other organizations reach
nothing; this one proves that inside the organization each persona reaches exactly what
`openiop.access.policy.TABLE` says, for a 42 CFR Part 2 participant and for one who is not.
The expectation is read from the table cells directly (rule(role, kind, relationship)),
not from the code that enforces them. Every argument of a route is a real record of the
participant (an order, a note, a consent, a booking...), so a refusal is the policy's and
not "no such record".
"""

from __future__ import annotations

import re
import secrets
from datetime import time, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from django.urls import get_resolver
from django.utils import timezone

from openiop.access.policy import GATE_PAGES, PAGE_KINDS, PAGE_PERMS, Rel, rule
from openiop.accounts.permissions import Perm, has_perm
from openiop.core.navigation import CHART_TABS
from tests.conftest import login
from tests.urlwalk import fill, participant_routes

PERSONAS = ["clinician_on_team", "clinician_off_team", "nurse", "prescriber", "intake",
            "front_desk", "billing", "admin", "director"]
ON_TEAM = {"clinician_on_team", "director"}

# Pages that take only the participant and answer a GET: the role's page permission.
TAB_PERMS: dict[str, Perm | tuple[Perm, ...]] = {
    item.url_name: item.perm for item in CHART_TABS if item.perm is not None}
TAB_PERMS["portal:staff_messages"] = Perm.CLINICAL_VIEW


def expected(persona: str, role: str, kind: str, action: str, part2: bool) -> bool:
    rels = {Rel.SAME_ORGANIZATION} | ({Rel.CARE_TEAM} if persona in ON_TEAM else set())
    for rel in rels:
        cell = rule(role, kind, rel)
        if cell is None or (action != "view" and not cell.allows_change):
            continue
        if cell.part2_excluded and part2:
            continue
        return True
    return False


def _has(user, perm) -> bool:
    perms = perm if isinstance(perm, tuple) else (perm,)
    return any(has_perm(user, p) for p in perms)


def _may(user, perm: Perm | None) -> bool:
    return perm is None or has_perm(user, perm)


def _lands(client, response) -> bool:
    """A redirect lands on a page that answers 200 for this user (one more hop at most:
    a form that redirects back to its tab)."""
    for _ in range(2):
        if response.status_code != 302:
            break
        response = client.get(response["Location"])
    return response.status_code == 200


@pytest.mark.parametrize("which", ["part2", "plain"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_participant_url_matches_the_table(clinic, persona, which):
    """Both sides: a page the table (and the persona's role permission, PAGE_PERMS) allows
    answers; a page it refuses answers 404 (or 405 for a method the page has not)."""
    user = clinic.personas[persona]
    part2 = which == "part2"
    participant = clinic.w.participant if part2 else clinic.plain
    # The plain participant's care team is the world's clinician too (tests/access/conftest).
    args = records_of(clinic, participant)
    client = login(user)
    checked = allowed_views = allowed_changes = 0
    refused: list[tuple[str, str, int]] = []
    for route in participant_routes():
        url = resolved(route, participant, args)
        name = get_resolver().resolve(url).view_name
        kind = PAGE_KINDS[name]
        if kind is None:
            continue
        needs = PAGE_PERMS[name]
        may_view = expected(persona, user.role, kind, "view", part2) and _may(user, needs.view)
        may_change = (expected(persona, user.role, kind, "change", part2)
                      and _may(user, needs.view) and _may(user, needs.change))
        simple = route.endswith("participants/<uuid:code>/") or name == "portal:staff_messages"
        got = client.get(url)
        get = got.status_code
        if name in GATE_PAGES:
            if expected(persona, user.role, kind, "view", part2):
                assert get == 200 and b"Break the glass" not in got.content, name
            elif has_perm(user, Perm.CLINICAL_VIEW):
                assert get == 200 and b"Break the glass" in got.content, name
            else:
                assert get == 404, name
            checked += 1
            continue
        if simple and name in TAB_PERMS:
            allowed = expected(persona, user.role, kind, "view", part2)
            assert (get == 200) == (allowed and _has(user, TAB_PERMS[name])), (
                persona, name, get, allowed)
            checked += 1
            continue
        # Read the answer before the POST: a POST may change what the GET shows.
        if may_view:
            if not (get in (200, 405) or (get == 302 and _lands(client, got))):
                refused.append(("GET", name, get))
            allowed_views += 1
        post = client.post(url, posted(name, args)).status_code
        assert get < 500 and post < 500, (name, get, post)
        if not expected(persona, user.role, kind, "view", part2):
            assert {get, post} <= {404, 405}, (persona, name, get, post)
        elif not expected(persona, user.role, kind, "change", part2):
            assert post in (404, 405), (persona, name, post)
        elif may_change and needs.change is not None:
            if post in (403, 404):
                refused.append(("POST", name, post))
            allowed_changes += 1
        checked += 1
    assert checked >= 50
    assert not refused, f"the table allows {persona} these but the pages refuse: {refused}"
    # Every persona reaches some pages of each participant, and changes some (its
    # demographics, at least): both sides were walked.
    assert allowed_views >= 1 and allowed_changes >= 1, (persona, allowed_views, allowed_changes)


def test_every_participant_page_declares_its_permissions():
    """PAGE_PERMS covers exactly the pages PAGE_KINDS lists, and each page's `view`
    permission is the one its view's `staff_required` asks (so the walk's expectation and
    the page cannot drift apart)."""
    names = {get_resolver().resolve(fill(route, str(uuid4()))).view_name: route
             for route in participant_routes()}
    assert set(PAGE_PERMS) == set(PAGE_KINDS) == set(names)
    checked = 0
    for name, route in names.items():
        func = get_resolver().resolve(fill(route, str(uuid4()))).func
        while func is not None and not hasattr(func, "required_perm"):
            func = getattr(func, "__wrapped__", None)
        if func is None:  # not a staff page (the SMART launch asks its own permission)
            continue
        assert func.required_perm == PAGE_PERMS[name].view, (name, func.required_perm)
        checked += 1
    assert checked >= 60


def records_of(clinic: Any, p: Any) -> dict[str, str]:
    """One real record of participant `p` for every argument a participant route takes."""
    from openiop.billing.models import Authorization, ChargeRuleSet, Coverage, Diagnosis, Payer
    from openiop.clinical.models import (
        SafetyPlan,
        TreatmentGoal,
        TreatmentObjective,
        TreatmentPlan,
        TreatmentPlanRevision,
        TreatmentProblem,
    )
    from openiop.intake.models import LevelOfCareAssessment
    from openiop.medications.models import Allergy, MedicationOrder, UseDisorder
    from openiop.participants.models import Availability, Consent, RelatedPerson
    from openiop.scheduling.models import CalendarFeed
    from openiop.skills.models import Homework
    from tests import factories as f
    from tests.clinical.helpers import signed_individual_note

    w, today, now = clinic.w, timezone.localdate(), timezone.now()
    by = w.clinician
    episode = p.episodes.get()
    # Medicare IOP coverage: the certification form answers only for a Medicare IOP episode.
    payer = Payer.objects.create(organization=w.org, name=f"Synthetic plan {p.pk}",
                                 kind="medicare", rule_set=ChargeRuleSet.MEDICARE_IOP)
    coverage = Coverage.objects.create(participant=p, payer=payer, effective_on=today)
    auth = Authorization.objects.create(coverage=coverage, units_approved=10, starts_on=today,
                                        ends_on=today + timedelta(days=30),
                                        reference_number=f"AUTH-{p.pk}")
    dx = Diagnosis.objects.create(participant=p, icd_code="F33.1", description="Synthetic",
                                  code_set_version="2026", billable=True, recorded_by=by)
    allergy = Allergy.objects.create(participant=p, substance="penicillin", reaction="rash",
                                     severity="mild", noted_on=today)
    order = MedicationOrder.objects.create(participant=p, name="Sertraline", dose=Decimal(50),
                                           unit="mg", route="oral", frequency="daily",
                                           start_date=today, prescriber=clinic.personas["prescriber"])
    problem = UseDisorder.objects.create(participant=p, substance="alcohol", noted_on=today)
    session = f.session(episode.program, kind="individual", facilitator=by, minutes=50,
                        starts_at=now - timedelta(days=1))
    booking = f.booking(session, p)
    f.attendance(booking, "present")
    note = signed_individual_note(by, session)
    plan = TreatmentPlan.objects.create(participant=p, episode=episode, program=episode.program,
                                        started_on=today, next_review_due=today, created_by=by)
    problem_ = TreatmentProblem.objects.create(plan=plan, text="Synthetic problem")
    goal = TreatmentGoal.objects.create(problem=problem_, text="Synthetic goal")
    objective = TreatmentObjective.objects.create(goal=goal, text="Synthetic objective",
                                                  target_date=today + timedelta(days=30))
    revision = TreatmentPlanRevision.objects.create(plan=plan, number=1, snapshot={},
                                                    summary="Started", created_by=by)
    safety = SafetyPlan.objects.create(
        participant=p, version=1, warning_signs=["Synthetic"], internal_coping=["Walk"],
        social_distractions=["Cafe"], help_contacts=["Friend"], environment_safety=["Lock"],
        reasons_for_living=["Family"], created_by=by)
    window = Availability.objects.create(participant=p, weekday=0, start_time=time(9),
                                         end_time=time(17))
    consent = Consent.objects.create(participant=p, kind=Consent.Kind.PART2_TPO,
                                     recipient="Synthetic payers", recipient_kind="class",
                                     purpose_code="tpo")
    RelatedPerson.objects.create(participant=p, name="Pat Parent", relationship="parent")
    loc = LevelOfCareAssessment.objects.create(
        participant=p, episode=episode, withdrawal=0, biomedical=0, emotional=1, readiness=1,
        relapse=1, environment=1, hours_available=Decimal(12), recommended_level="IOP",
        decided_level="IOP", assessed_by=by, assessed_at=now, status="proposed")
    feed = CalendarFeed.objects.create(token=secrets.token_urlsafe(16), participant=p,
                                       created_by=by)
    homework = Homework.objects.create(participant=p, title="Synthetic", instructions="Try",
                                       plan_objective="Practise a coping skill",
                                       assigned_at=now)
    return {
        "auth_code": str(auth.code), "coverage_code": str(coverage.code),
        "dx_code": str(dx.code), "allergy_code": str(allergy.code),
        "order_code": str(order.code), "problem_id": str(problem.pk),
        "note_code": str(note.code), "fmt": "print",
        "number": str(revision.number), "version": str(safety.version),
        "instrument": "phq9", "window_id": str(window.pk), "consent_code": str(consent.code),
        "who": "participant", "assessment": str(loc.code),
        "episode": str(episode.code), "booking": str(booking.code), "feed_id": str(feed.pk),
        "homework": str(homework.code),
        # Posted, not in the route: the plan item a plan verb hangs under (POSTED_ARGS).
        "problem": str(problem_.code), "goal": str(goal.code),
        "objective": str(objective.code),
    }


# What a page's POST names besides the form's own fields: a real record, so an empty form
# answers with its errors (400) rather than "no such record" (404).
POSTED_ARGS: dict[str, dict[str, str]] = {
    "clinical:plan_goal": {"parent": "problem"},
    "clinical:plan_objective": {"parent": "goal"},
    "clinical:plan_intervention": {"parent": "objective"},
    "clinical:plan_status": {"parent": "objective"},
}


def posted(name: str, args: dict[str, str]) -> dict[str, str]:
    return {field: args[record] for field, record in POSTED_ARGS.get(name, {}).items()}


# Arguments whose value depends on the route, not only on the argument's name.
ROUTE_ARGS = {
    "safety-plan/v<int:version>/<str:fmt>/": {"fmt": "view"},
}


def resolved(route: str, participant: Any, args: dict[str, str]) -> str:
    """The route with the participant's code and a real record for every other argument
    (a route with an argument the walk does not know fails here: add its record above)."""
    values = dict(args)
    for tail, extra in ROUTE_ARGS.items():
        if route.endswith(tail):
            values |= extra
    url = route.replace("<uuid:code>", str(participant.code))

    def one(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[-1]
        assert name in values, f"{route}: no record for <{match.group(1)}>"
        return values[name]

    url = re.sub(r"<([^>]+)>", one, url)
    assert fill(url, "") == "/" + url.lstrip("/"), url  # nothing left to fill
    return "/" + url.lstrip("/")
