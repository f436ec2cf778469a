"""Treatment plans: every change bumps the version (optimistic locking) and lands in a
revision holding a snapshot of the whole plan, so each revision stays viewable.

One clinician's changes in one sitting fold into one draft revision (see
TreatmentPlanRevision), which the participant acknowledges once; acknowledgment, a review,
`plan_finish_revision` or a change by someone else finalizes it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from openiop.access.policy import Kind
from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import Conflict, NotPermitted

from ..models import (
    TreatmentGoal,
    TreatmentIntervention,
    TreatmentObjective,
    TreatmentPlan,
    TreatmentPlanReview,
    TreatmentPlanRevision,
    TreatmentProblem,
)
from ..permissions import can_see_chart_clinical, can_write_for, same_organization

if TYPE_CHECKING:
    from openiop.care.models import EpisodeOfCare
    from openiop.participants.models import Participant

TEXT_MAX = 4_000


def review_days(program: Any) -> int:
    return int(program.typed_settings.treatment_plan_review_days)


def _text(value: Any, field: str, *, required: bool = True, limit: int = TEXT_MAX) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError({field: "This field is required."})
    if len(text) > limit:
        raise ValidationError({field: f"At most {limit:,} characters."})
    return text


def _check_writer(actor: User, plan_or_participant: Any) -> None:
    require_perm(actor, Perm.CLINICAL_WRITE)
    participant = getattr(plan_or_participant, "participant", plan_or_participant)
    if not can_write_for(actor, participant):
        raise NotPermitted("Only the participant's care team can change the treatment plan.")


def plan_snapshot(plan: TreatmentPlan, *, loaded: bool = False) -> dict[str, Any]:
    """The whole plan as plain data (what a revision freezes).

    `loaded`: the plan comes from `selectors.treatment_plan_for` with its tree prefetched
    and unchanged since (a page reading it), so the tree is not read a second time. A
    service that has just changed the plan leaves it False and reads the tree afresh."""
    tree = plan.problems.all() if loaded else plan.problems.prefetch_related(
        "goals__objectives__interventions__responsible").order_by("position", "pk")
    problems = []
    for problem in tree:
        goals = []
        for goal in problem.goals.all():
            objectives = []
            for obj in goal.objectives.all():
                objectives.append({
                    "code": str(obj.code), "text": obj.text,
                    "target_date": obj.target_date.isoformat(), "status": obj.status,
                    "interventions": [
                        {"code": str(i.code), "modality": i.modality, "frequency": i.frequency,
                         "responsible": str(i.responsible), "description": i.description}
                        for i in obj.interventions.all()
                    ],
                })
            goals.append({"code": str(goal.code), "text": goal.text,
                          "participant_words": goal.participant_words,
                          "objectives": objectives})
        problems.append({"code": str(problem.code), "text": problem.text,
                         "participant_words": problem.participant_words, "goals": goals})
    return {
        "participant_statement": plan.participant_statement,
        "started_on": plan.started_on.isoformat(),
        "next_review_due": plan.next_review_due.isoformat(),
        "problems": problems,
    }


def _open_draft(plan: TreatmentPlan, actor: User) -> TreatmentPlanRevision | None:
    """The plan's current revision if it is a draft of this actor's (the sitting goes on)."""
    return TreatmentPlanRevision.objects.filter(
        plan=plan, finalized_at__isnull=True, created_by=actor).order_by("-number").first()


def _finalize_drafts(plan: TreatmentPlan) -> None:
    TreatmentPlanRevision.objects.filter(plan=plan, finalized_at__isnull=True).update(
        finalized_at=timezone.now())


def _joined(summary: str, more: str) -> str:
    text = f"{summary}; {more}"
    return text if len(text) <= 300 else text[:299] + "…"


def _bump(*, actor: User, plan: TreatmentPlan, version: int, summary: str,
          request: HttpRequest | None, extra: dict[str, Any] | None = None,
          new_revision: bool = True) -> TreatmentPlan:
    """Inside a transaction: move the plan to version+1 and record the change in the
    actor's open draft revision, else in a new one (finalizing anyone else's); or
    Conflict."""
    draft = _open_draft(plan, actor) if new_revision else None
    updates: dict[str, Any] = {"version": F("version") + 1, "updated_at": timezone.now()}
    if new_revision and draft is None:
        updates["revision"] = F("revision") + 1
    updates.update(extra or {})
    if TreatmentPlan.objects.filter(pk=plan.pk, version=version).update(**updates) != 1:
        raise Conflict("Someone changed this treatment plan after you opened it. Nothing was "
                       "saved; reload to see their change, then apply yours.", field="version")
    plan.refresh_from_db()
    if draft is not None:
        TreatmentPlanRevision.objects.filter(pk=draft.pk, finalized_at__isnull=True).update(
            snapshot=plan_snapshot(plan), summary=_joined(draft.summary, summary),
            changes=F("changes") + 1, updated_at=timezone.now())
    elif new_revision:
        _finalize_drafts(plan)
        TreatmentPlanRevision.objects.create(plan=plan, number=plan.revision,
                                             snapshot=plan_snapshot(plan), summary=summary[:300],
                                             created_by=actor, updated_at=timezone.now())
    audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.TREATMENT_PLAN,
                 object_id=plan.code, participant=plan.participant, request=request,
                 reason=summary[:500])
    return plan


def plan_start(*, actor: User, participant: Participant, episode: EpisodeOfCare | None, statement: str = "",
               started_on: date | None = None, request: HttpRequest | None = None
               ) -> TreatmentPlan:
    """Open a treatment plan for the participant's episode (one plan per episode)."""
    _check_writer(actor, participant)
    if episode is None:
        raise ValidationError({"episode": "The participant has no open episode of care."})
    if TreatmentPlan.objects.filter(episode=episode).exists():
        raise ValidationError({"episode": "This episode already has a treatment plan."})
    started = started_on or timezone.localdate()
    with transaction.atomic():
        plan = TreatmentPlan.objects.create(
            participant=participant, episode=episode, program=episode.program,
            participant_statement=_text(statement, "participant_statement", required=False),
            started_on=started,
            next_review_due=started + timedelta(days=review_days(episode.program)),
            created_by=actor,
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.TREATMENT_PLAN,
                     object_id=plan.code, participant=participant, request=request)
        plan = _bump(actor=actor, plan=plan, version=plan.version, summary="Plan started",
                     request=request)
    return plan


def plan_add_problem(*, actor: User, plan: TreatmentPlan, text: str, participant_words: str = "",
                     version: int, request: HttpRequest | None = None) -> TreatmentProblem:
    _check_writer(actor, plan)
    text = _text(text, "text")
    words = _text(participant_words, "participant_words", required=False)
    with transaction.atomic():
        problem = TreatmentProblem.objects.create(
            plan=plan, text=text, participant_words=words,
            position=plan.problems.count() + 1)
        _bump(actor=actor, plan=plan, version=version, summary=f"Problem added: {text[:120]}",
              request=request)
    return problem


def plan_add_goal(*, actor: User, problem: TreatmentProblem, text: str,
                  participant_words: str = "", version: int,
                  request: HttpRequest | None = None) -> TreatmentGoal:
    plan = problem.plan
    _check_writer(actor, plan)
    text = _text(text, "text")
    words = _text(participant_words, "participant_words", required=False)
    with transaction.atomic():
        goal = TreatmentGoal.objects.create(problem=problem, text=text, participant_words=words)
        _bump(actor=actor, plan=plan, version=version, summary=f"Goal added: {text[:120]}",
              request=request)
    return goal


def plan_add_objective(*, actor: User, goal: TreatmentGoal, text: str, target_date: date | None,
                       version: int, request: HttpRequest | None = None) -> TreatmentObjective:
    plan = goal.problem.plan
    _check_writer(actor, plan)
    text = _text(text, "text")
    if target_date is None:
        raise ValidationError({"target_date": "An objective needs a target date."})
    if target_date < plan.started_on:
        raise ValidationError({"target_date": "The target date must be on or after the day "
                               f"the plan started ({plan.started_on:%b %-d, %Y})."})
    with transaction.atomic():
        objective = TreatmentObjective.objects.create(goal=goal, text=text,
                                                      target_date=target_date)
        _bump(actor=actor, plan=plan, version=version,
              summary=f"Objective added: {text[:120]}", request=request)
    return objective


def plan_add_intervention(*, actor: User, objective: TreatmentObjective, modality: str,
                          frequency: str, responsible: Any, description: str = "",
                          version: int, request: HttpRequest | None = None
                          ) -> TreatmentIntervention:
    plan = objective.goal.problem.plan
    _check_writer(actor, plan)
    modality = _text(modality, "modality", limit=120)
    frequency = _text(frequency, "frequency", limit=120)
    if responsible is None or not same_organization(responsible, plan.participant.organization_id):
        raise ValidationError({"responsible": "Pick a staff member of this organization."})
    with transaction.atomic():
        intervention = TreatmentIntervention.objects.create(
            objective=objective, modality=modality, frequency=frequency,
            responsible=responsible,
            description=_text(description, "description", required=False))
        _bump(actor=actor, plan=plan, version=version,
              summary=f"Intervention added: {modality} ({frequency})", request=request)
    return intervention


def plan_set_objective_status(*, actor: User, objective: TreatmentObjective, status: str,
                              version: int, request: HttpRequest | None = None
                              ) -> TreatmentObjective:
    plan = objective.goal.problem.plan
    _check_writer(actor, plan)
    if status not in TreatmentObjective.Status.values:
        raise ValidationError({"status": "Pick one of: "
                               + ", ".join(TreatmentObjective.Status.values)})
    with transaction.atomic():
        TreatmentObjective.objects.filter(pk=objective.pk).update(status=status)
        objective.status = status
        _bump(actor=actor, plan=plan, version=version,
              summary=f"Objective marked {objective.get_status_display().lower()}: "
                      f"{objective.text[:100]}", request=request)
    return objective


def plan_review(*, actor: User, plan: TreatmentPlan, summary: str, version: int,
                reviewed_on: date | None = None, request: HttpRequest | None = None
                ) -> TreatmentPlanReview:
    """Record the team's review; the next one is due N days later (program setting)."""
    _check_writer(actor, plan)
    summary = _text(summary, "summary")
    day = reviewed_on or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"reviewed_on": "A review cannot be dated in the future."})
    with transaction.atomic():
        plan = _bump(actor=actor, plan=plan, version=version, summary="Plan reviewed",
                     request=request, extra={
                         "last_reviewed_on": day,
                         "next_review_due": day + timedelta(days=review_days(plan.program)),
                     })
        review = TreatmentPlanReview.objects.create(plan=plan, reviewed_on=day,
                                                    reviewed_by=actor, summary=summary,
                                                    revision_number=plan.revision)
        _finalize_drafts(plan)  # a review closes the sitting
    return review


def plan_finish_revision(*, actor: User, plan: TreatmentPlan, version: int,
                         request: HttpRequest | None = None) -> TreatmentPlan:
    """Finish editing: the current draft revision is finalized, ready to acknowledge, and
    the next change starts a new revision."""
    _check_writer(actor, plan)
    with transaction.atomic():
        if not plan.revisions.filter(number=plan.revision, finalized_at__isnull=True).exists():
            raise ValidationError({"revision": f"Revision {plan.revision} is already final."})
        plan = _bump(actor=actor, plan=plan, version=version, new_revision=False,
                     summary=f"Revision {plan.revision} finished", request=request)
        _finalize_drafts(plan)
    return plan


def plan_acknowledge(*, actor: User, plan: TreatmentPlan, method: str, version: int,
                     request: HttpRequest | None = None) -> TreatmentPlan:
    """Record that the participant reviewed and agreed to the current revision."""
    _check_writer(actor, plan)
    method = _text(method, "method", limit=60)
    with transaction.atomic():
        _finalize_drafts(plan)  # what was acknowledged never changes afterwards
        plan = _bump(actor=actor, plan=plan, version=version,
                     summary=f"Participant acknowledged revision {plan.revision} ({method})",
                     request=request, new_revision=False, extra={
                         "acknowledged_revision": plan.revision,
                         "acknowledged_at": timezone.now(),
                         "acknowledgment_method": method,
                     })
    return plan


def plan_export(*, actor: User, plan: TreatmentPlan, action: Action,
                request: HttpRequest | None = None) -> None:
    """Record a print or PDF export of a treatment plan as a disclosure."""
    if action not in (Action.PRINT, Action.EXPORT):
        raise ValueError(action)
    if not can_see_chart_clinical(actor, plan.participant, request, Kind.PLANS):
        raise NotPermitted("Only the care team can print or export the treatment plan.")
    audit_record(actor=actor, action=action, object_type=ObjectType.TREATMENT_PLAN,
                 object_id=plan.code, participant=plan.participant, request=request,
                 reason=f"revision {plan.revision}")
