"""Treatment-plan and safety-plan pages on the participant chart."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm
from openiop.audit.services import audit_record
from openiop.core.decorators import staff_required
from openiop.core.exceptions import Conflict, NotPermitted
from openiop.core.forms import apply_validation_error
from openiop.participants.selectors import current_episode

from .. import services
from ..forms import (
    AcknowledgeForm,
    BreakGlassForm,
    GoalForm,
    InterventionForm,
    ObjectiveForm,
    ObjectiveStatusForm,
    PlanStartForm,
    ProblemForm,
    ReviewForm,
    SafetyPlanForm,
)
from ..models import (
    SafetyPlan,
    TreatmentGoal,
    TreatmentObjective,
    TreatmentPlanRevision,
    TreatmentProblem,
)
from ..pdf import plan_pdf, safety_plan_pdf
from ..permissions import can_see_chart_clinical, can_write_for
from ..selectors import current_safety_plan, safety_plan_versions, treatment_plan_for
from ..services.plans import plan_snapshot
from .common import chart_participant


def _chart(request: HttpRequest, participant: Any) -> dict[str, Any]:
    from openiop.participants.views import chart_context

    return chart_context(request, participant, active_tab="clinical:participant_plan")


def _staff_choices(participant: Any) -> list[tuple[str, str]]:
    users = User.objects.filter(staff_profile__organization_id=participant.organization_id,
                                staff_profile__is_active=True,
                                role__in=("clinician", "prescriber", "nurse", "director"))
    return [(str(u.code), str(u)) for u in users.select_related("staff_profile")]


def _require_access(request: HttpRequest, participant: Any) -> bool:
    return can_see_chart_clinical(request.user, participant, request)


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def participant_plan(request: HttpRequest, code: str) -> HttpResponse:
    participant = chart_participant(request, code)
    context = _chart(request, participant)
    if not _require_access(request, participant):
        return render(request, "clinical/participant_plan.html",
                      context | {"allowed": False, "break_glass_form": BreakGlassForm()})
    plan = treatment_plan_for(participant)
    today = timezone.localdate()
    context |= {
        "allowed": True, "plan": plan, "today": today,
        "can_write": can_write_for(request.user, participant),
        "safety_plan": current_safety_plan(participant),
        "start_form": PlanStartForm(),
        "problem_form": ProblemForm(), "goal_form": GoalForm(prefix="goal"),
        "objective_form": ObjectiveForm(prefix="objective"),
        "intervention_form": InterventionForm(prefix="intervention",
                                              staff=_staff_choices(participant)),
        "status_form": ObjectiveStatusForm(prefix="status"),
        "review_form": ReviewForm(prefix="review", initial={"reviewed_on": today}),
        "ack_form": AcknowledgeForm(prefix="ack"),
        "episode": context.get("episode"),
    }
    if plan is not None:
        context |= {
            "plan_snapshot": plan_snapshot(plan),
            "revisions": plan.revisions.select_related("created_by")[:50],
            "reviews": plan.reviews.select_related("reviewed_by")[:20],
            "review_overdue": plan.next_review_due < today,
            "review_due_soon": today <= plan.next_review_due <= today + timezone.timedelta(
                days=7),
        }
    return render(request, "clinical/participant_plan.html", context)


def _find(model: Any, code: str | None, **scope: Any) -> Any:
    try:
        return model.objects.get(code=code, **scope)
    except (model.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def plan_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """One endpoint per plan verb: start, problem, goal, objective, intervention, status,
    review, acknowledge. Every change carries the plan version it was made against."""
    participant = chart_participant(request, code, audit=False)
    if not _require_access(request, participant):
        raise Http404
    plan = treatment_plan_for(participant)
    post = request.POST
    try:
        version = int(post.get("version", "0"))
    except ValueError:
        version = 0
    form: Any = None
    try:
        if action == "start":
            form = PlanStartForm(post)
            if form.is_valid():
                services.plan_start(actor=request.user, participant=participant,
                                    episode=current_episode(participant), request=request,
                                    statement=form.cleaned_data["statement"])
        elif plan is None:
            raise Http404
        elif action == "problem":
            form = ProblemForm(post)
            if form.is_valid():
                services.plan_add_problem(actor=request.user, plan=plan, version=version,
                                          request=request, **form.cleaned_data)
        elif action == "goal":
            form = GoalForm(post, prefix="goal")
            if form.is_valid():
                problem = _find(TreatmentProblem, post.get("parent"), plan=plan)
                services.plan_add_goal(actor=request.user, problem=problem, version=version,
                                       request=request, **form.cleaned_data)
        elif action == "objective":
            form = ObjectiveForm(post, prefix="objective")
            if form.is_valid():
                goal = _find(TreatmentGoal, post.get("parent"), problem__plan=plan)
                services.plan_add_objective(actor=request.user, goal=goal, version=version,
                                            request=request, **form.cleaned_data)
        elif action == "intervention":
            form = InterventionForm(post, prefix="intervention",
                                    staff=_staff_choices(participant))
            if form.is_valid():
                objective = _find(TreatmentObjective, post.get("parent"),
                                  goal__problem__plan=plan)
                data = form.cleaned_data
                responsible = User.objects.filter(code=data.pop("responsible")).first()
                services.plan_add_intervention(actor=request.user, objective=objective,
                                               responsible=responsible, version=version,
                                               request=request, **data)
        elif action == "status":
            form = ObjectiveStatusForm(post, prefix="status")
            if form.is_valid():
                objective = _find(TreatmentObjective, post.get("parent"),
                                  goal__problem__plan=plan)
                services.plan_set_objective_status(actor=request.user, objective=objective,
                                                   version=version, request=request,
                                                   **form.cleaned_data)
        elif action == "review":
            form = ReviewForm(post, prefix="review")
            if form.is_valid():
                services.plan_review(actor=request.user, plan=plan, version=version,
                                     request=request, **form.cleaned_data)
        elif action == "acknowledge":
            form = AcknowledgeForm(post, prefix="ack")
            if form.is_valid():
                services.plan_acknowledge(actor=request.user, plan=plan, version=version,
                                          request=request, **form.cleaned_data)
        else:
            raise Http404
    except ValidationError as exc:
        apply_validation_error(form, exc)
    except (Conflict, NotPermitted) as exc:
        form.add_error(None, exc.message)
    if form is not None and form.errors:
        messages.error(request, "Not saved: " + "; ".join(
            f"{form.fields[k].label if k in form.fields else k}: {' '.join(v)}"
            if k != "__all__" else " ".join(v) for k, v in form.errors.items()))
    else:
        messages.success(request, "Treatment plan updated.")
    return redirect("clinical:participant_plan", code=participant.code)


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def plan_revision(request: HttpRequest, code: str, number: int) -> HttpResponse:
    participant = chart_participant(request, code)
    if not _require_access(request, participant):
        raise Http404
    plan = treatment_plan_for(participant)
    revision = TreatmentPlanRevision.objects.filter(plan=plan, number=number).select_related(
        "created_by").first() if plan else None
    if revision is None:
        raise Http404
    return render(request, "clinical/plan_revision.html", _chart(request, participant) | {
        "plan": plan, "revision": revision, "snapshot": revision.snapshot,
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < plan.revision else None,
    })


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def plan_export(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    participant = chart_participant(request, code, audit=False)
    if not _require_access(request, participant) or fmt not in ("print", "pdf"):
        raise Http404
    plan = treatment_plan_for(participant)
    if plan is None:
        raise Http404
    services.plan_export(actor=request.user, plan=plan,
                         action="print" if fmt == "print" else "export", request=request)
    snapshot = plan_snapshot(plan)
    if fmt == "pdf":
        response = HttpResponse(plan_pdf(plan, snapshot, plan.revision),
                                content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="treatment-plan-{plan.code}.pdf"'
        return response
    return render(request, "clinical/plan_print.html", {
        "participant": participant, "plan": plan, "snapshot": snapshot,
        "revision_number": plan.revision})


@staff_required(Perm.CLINICAL_VIEW)
@require_http_methods(["GET", "POST"])
def safety_plan(request: HttpRequest, code: str) -> HttpResponse:
    participant = chart_participant(request, code, audit=request.method == "GET")
    if not _require_access(request, participant):
        raise Http404
    current = current_safety_plan(participant)
    if request.method == "POST":
        form = SafetyPlanForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            based_on = data.pop("version")
            try:
                services.safety_plan_save(actor=request.user, participant=participant,
                                          data=data, based_on_version=based_on,
                                          request=request)
            except ValidationError as exc:
                apply_validation_error(form, exc)
            except (Conflict, NotPermitted) as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, "Safety plan saved as a new version.")
                return redirect("clinical:safety_plan", code=participant.code)
    else:
        initial = {f: getattr(current, f) for f in SafetyPlanForm.Meta.fields} if current else {}
        form = SafetyPlanForm(initial=initial | {"version": current.version if current else None})
    return render(request, "clinical/safety_plan.html", _chart(request, participant) | {
        "form": form, "current": current, "versions": safety_plan_versions(participant)[:30],
        "can_write": can_write_for(request.user, participant),
    })


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def safety_plan_export(request: HttpRequest, code: str, version: int, fmt: str) -> HttpResponse:
    participant = chart_participant(request, code, audit=False)
    if not _require_access(request, participant) or fmt not in ("view", "print", "pdf"):
        raise Http404
    plan = SafetyPlan.objects.filter(participant=participant, version=version).first()
    if plan is None:
        raise Http404
    if fmt == "view":
        audit_record(actor=request.user, action="view", object_type="safety_plan",
                     object_id=plan.code, participant=participant, request=request)
    else:
        services.safety_plan_export(actor=request.user, plan=plan,
                                    action="print" if fmt == "print" else "export",
                                    request=request)
    if fmt == "pdf":
        response = HttpResponse(safety_plan_pdf(plan), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="safety-plan-v{plan.version}.pdf"')
        return response
    return render(request, "clinical/safety_plan_print.html", {
        "participant": participant, "plan": plan, "printing": fmt == "print"})
