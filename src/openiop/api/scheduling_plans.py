"""Scheduling API, weekly plans: plan a week in a background job, follow the job, read the
proposed plan and its diff, apply it (all or nothing).

Planning needs schedule.plan and is scoped to the user's organization (404 across
organizations). Nothing is booked until a plan is applied.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import Http404, HttpResponse
from ninja import Field, Router, Schema, Status

from openiop.accounts.permissions import Perm
from openiop.api.request import StaffRequest
from openiop.core.exceptions import Conflict
from openiop.participants.models import Participant
from openiop.scheduling import selectors, services
from openiop.scheduling.models import PlanRun

from .scheduling import DB_INT_MAX, monday_param, staff_org

router = Router(tags=["scheduling"])


# --- schemas ------------------------------------------------------------------------------


class PlanIn(Schema):
    week_start: date = Field(..., description="The Monday of a week that has not started.")
    seed: int = Field(2026, ge=0, le=DB_INT_MAX)


class ChangeOut(Schema):
    participant: UUID | None
    name: str
    change: str
    what: str
    when: datetime


class DiffOut(Schema):
    adds: int
    removes: int
    changes: list[ChangeOut]


class ExplanationOut(Schema):
    participant: UUID
    name: str
    planned_minutes: int
    minimum_minutes: int
    reason: str
    suggestion: str


class CadenceGapOut(Schema):
    participant: UUID
    name: str
    kind: str
    rule: str
    reason: str
    suggestion: str
    proven: bool = Field(..., description="The solver proved no plan books it this week.")


class TrackMoveOut(Schema):
    participant: UUID
    name: str
    from_track: str
    to_track: str
    reason: str
    sessions: int = Field(..., description="Group sessions of the other track the plan books.")


class PlanOut(Schema):
    code: UUID
    week_start: date
    status: str
    created_at: datetime
    applied_at: datetime | None
    counts: dict[str, Any]
    diff: DiffOut
    explanations: list[ExplanationOut]
    cadence_gaps: list[CadenceGapOut] = Field(
        ..., description="Due appointments (cadence rules are hard) that no plan can book "
        "this week, each with the reason; every other due appointment is booked.")
    track_moves: list[TrackMoveOut] = Field(
        ..., description="People the plan seats in an acceptable other track of their program. "
        "Moves are proposals the director accepts on the plan page; applying through the API "
        "accepts none (each person stays in their track and gets no session of the other one).")


class ApplyOut(Schema):
    code: UUID
    status: str
    counts: dict[str, int]


# --- plans and their jobs -----------------------------------------------------------------


def _plan_out(run: PlanRun) -> dict[str, Any]:
    proposal = run.proposal
    # The engine keys people by primary key; the API speaks participant codes.
    codes = dict(Participant.objects.filter(
        organization_id=run.organization_id,
        pk__in={int(r.participant) for r in proposal.diff if r.participant.isdigit()},
    ).values_list("pk", "code"))
    return {
        "code": run.code, "week_start": run.week_start, "status": run.status,
        "created_at": run.created_at, "applied_at": run.applied_at,
        "counts": asdict(proposal.metrics),
        "diff": {
            "adds": proposal.adds, "removes": proposal.removes,
            "changes": [{"participant": codes.get(int(r.participant))
                         if r.participant.isdigit() else None,
                         "name": r.name, "change": r.change, "what": r.what,
                         "when": r.when} for r in proposal.diff],
        },
        "explanations": [{"participant": e.code, "name": e.name,
                          "planned_minutes": e.planned_minutes,
                          "minimum_minutes": e.minimum_minutes, "reason": e.reason,
                          "suggestion": e.suggestion} for e in proposal.explanations],
        "cadence_gaps": [{"participant": g.code, "name": g.name, "kind": g.kind,
                          "rule": g.rule, "reason": g.reason, "suggestion": g.suggestion,
                          "proven": g.proven} for g in proposal.cadence_gaps],
        "track_moves": [{"participant": t.code, "name": t.name, "from_track": t.from_track,
                         "to_track": t.to_track, "reason": t.reason, "sessions": t.sessions}
                        for t in proposal.track_moves],
    }


def _run(request: StaffRequest, code: UUID) -> PlanRun:
    org = staff_org(request, Perm.SCHEDULE_PLAN)
    run = PlanRun.objects.filter(code=code, organization=org).first()
    if run is None:
        raise Http404
    return run


class PlanJobOut(Schema):
    job: UUID = Field(..., description="The planning job.")
    state: str = Field(..., description="queued, running, succeeded or failed.")
    phase: str = Field(..., description="What the planner is doing, in words.")
    percent: int = Field(..., description="Progress, 0 to 100.")
    message: str
    error: str = Field(..., description="Why it failed, in plain words (empty otherwise).")
    status_url: str = Field(..., description="Poll this (GET) until the state is final.")
    page_url: str = Field(..., description="The same progress as a page, for a person.")
    plan: UUID | None = Field(None, description="The proposed plan, once the job succeeded.")
    plan_url: str | None = Field(None, description="GET it for the plan and its diff.")


def _plan_job_out(job: Any) -> dict[str, Any]:
    from django.urls import reverse

    plan = (job.result or {}).get("plan") if job.state == job.State.SUCCEEDED else None
    return {
        "job": job.code, "state": job.state, "phase": job.phase, "percent": job.percent,
        "message": job.message, "error": job.error,
        "status_url": f"/api/scheduling/plan-jobs/{job.code}",
        "page_url": reverse("scheduling:plan_progress", kwargs={"code": job.code}),
        "plan": plan, "plan_url": f"/api/scheduling/plans/{plan}" if plan else None,
    }


@router.post("/plans", response={202: PlanJobOut})
def create_plan(request: StaffRequest, payload: PlanIn,
                response: HttpResponse) -> Status[dict[str, Any]]:
    """Start planning a week that has not started, as the planning page does: the CP-SAT
    engine runs in a background job (bounded by OPENIOP_API_PLAN_SECONDS). Answers 202 with
    the job and its status URL (also in `Location`); poll
    `GET /api/scheduling/plan-jobs/{job}` until `state` is `succeeded` (then `plan_url` gives
    the proposal and its diff) or `failed` (`error` says why). Nothing is booked until the
    plan is applied. Send `Idempotency-Key` to make a retry return the first job."""
    org = staff_org(request, Perm.SCHEDULE_PLAN)
    week = monday_param(payload.week_start, org, field="week_start")
    job = services.plan_week_start(actor=request.user, organization=org, week_start=week,
                                   seed=payload.seed, request=request,
                                   time_limit_seconds=float(settings.OPENIOP_API_PLAN_SECONDS))
    body = _plan_job_out(job)
    response["Location"] = body["status_url"]
    return Status(202, body)


@router.get("/plan-jobs/{code}", response=PlanJobOut)
def plan_job_status(request: StaffRequest, code: UUID) -> dict[str, Any]:
    """A planning job's state and progress; its plan once it succeeded."""
    org = staff_org(request, Perm.SCHEDULE_PLAN)
    job = selectors.planning_job(org, code)
    if job is None:
        raise Http404
    return _plan_job_out(job)


@router.get("/plans/{code}", response=PlanOut)
def get_plan(request: StaffRequest, code: UUID) -> dict[str, Any]:
    return _plan_out(_run(request, code))


@router.post("/plans/{code}/apply", response=ApplyOut)
def apply_plan(request: StaffRequest, code: UUID) -> dict[str, Any]:
    """Apply a proposed plan, all of it or nothing. 409 when the week's bookings changed
    since the plan was made (plan again) or the plan is no longer the proposed one. Track
    moves are declined here (accept them on the plan page)."""
    run = _run(request, code)
    try:
        counts = services.plan_apply(actor=request.user, run=run, request=request)
    except Conflict as exc:
        raise Conflict(f"Nothing was applied. {exc.message}", field=exc.field) from None
    return {"code": run.code, "status": run.status, "counts": counts}
