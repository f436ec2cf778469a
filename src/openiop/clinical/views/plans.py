"""Treatment-plan and safety-plan pages on the participant chart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.access.policy import Kind
from openiop.accounts.models import User
from openiop.accounts.permissions import Perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.decorators import staff_required
from openiop.core.exceptions import Conflict, NotPermitted
from openiop.core.forms import submit
from openiop.jobs import downloads
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
from ..pdf import plan_pdf, print_release, safety_plan_pdf
from ..pdf_jobs import plan_size
from ..permissions import can_see_chart_clinical, can_write_for
from ..selectors import (
    current_safety_plan,
    plan_signature_record,
    safety_plan_versions,
    treatment_plan_for,
)
from ..services.plans import plan_snapshot
from .common import chart_participant, error_messages

if TYPE_CHECKING:
    from openiop.participants.models import Participant


def _chart(request: HttpRequest, participant: Participant) -> dict[str, Any]:
    from openiop.participants.views import chart_context

    return chart_context(request, participant, active_tab="clinical:participant_plan")


def _staff_choices(participant: Participant) -> list[tuple[str, str]]:
    users = User.objects.filter(staff_profile__organization_id=participant.organization_id,
                                staff_profile__is_active=True,
                                role__in=("clinician", "prescriber", "nurse", "director"))
    return [(str(u.code), str(u)) for u in users.select_related("staff_profile")]


def _require_access(request: HttpRequest, participant: Participant) -> bool:
    return can_see_chart_clinical(request.user, participant, request, Kind.PLANS)


def _plan_page(request: HttpRequest, participant: Participant, *, retry: dict[str, Any] | None = None
               ) -> HttpResponse:
    """The plan tab; `retry` re-shows a form that was not saved, with what was typed and
    an error beside each field (status 400)."""
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
        "retry": retry,
    }
    if plan is not None:
        revisions = list(plan.revisions.select_related("created_by")[:50])
        context |= {
            "plan_snapshot": plan_snapshot(plan, loaded=True),
            "revisions": revisions,
            "draft": next((r for r in revisions if r.number == plan.revision and r.is_draft),
                          None),
            "reviews": plan.reviews.select_related("reviewed_by")[:20],
            "review_overdue": plan.next_review_due < today,
            "review_due_soon": today <= plan.next_review_due <= today + timezone.timedelta(
                days=7),
        }
    return render(request, "clinical/participant_plan.html", context,
                  status=400 if retry else 200)


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def participant_plan(request: HttpRequest, code: str) -> HttpResponse:
    return _plan_page(request, chart_participant(request, code))


def _find(model: Any, code: str | None, **scope: Any) -> Any:
    try:
        return model.objects.get(code=code, **scope)
    except (model.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc


# action -> (form class, prefix, parent model and its scope below the plan, heading)
PLAN_ACTIONS: dict[str, tuple[Any, str | None, Any, str, str]] = {
    "start": (PlanStartForm, None, None, "", "Start the treatment plan"),
    "problem": (ProblemForm, None, None, "", "Add a problem"),
    "goal": (GoalForm, "goal", TreatmentProblem, "plan", "Add a goal to the problem"),
    "objective": (ObjectiveForm, "objective", TreatmentGoal, "problem__plan",
                  "Add an objective to the goal"),
    "intervention": (InterventionForm, "intervention", TreatmentObjective,
                     "goal__problem__plan", "Add an intervention to the objective"),
    "status": (ObjectiveStatusForm, "status", TreatmentObjective, "goal__problem__plan",
               "Update the objective's status"),
    "review": (ReviewForm, "review", None, "", "Record a review"),
    "acknowledge": (AcknowledgeForm, "ack", None, "", "Record the acknowledgment"),
    "finish": (None, None, None, "", "Finish this revision"),
}


@dataclass
class _Verb:
    """One plan verb as posted: the form's cleaned data and what it hangs under."""

    request: HttpRequest
    plan: Any
    participant: Participant
    data: dict[str, Any]
    parent: Any
    version: int

    @property
    def common(self) -> dict[str, Any]:
        return {"actor": self.request.user, "request": self.request}


def _add_intervention(v: _Verb) -> Any:
    responsible = User.objects.filter(code=v.data.pop("responsible")).first()
    return services.plan_add_intervention(objective=v.parent, responsible=responsible,
                                          version=v.version, **v.data, **v.common)


# verb -> the service it calls. Each verb has its own named URL, `clinical:plan_<verb>`
# (clinical/urls.py), all served by `plan_action`.
PLAN_SERVICES: dict[str, Callable[[_Verb], Any]] = {
    "start": lambda v: services.plan_start(
        participant=v.participant, episode=current_episode(v.participant),
        statement=v.data["statement"], **v.common),
    "problem": lambda v: services.plan_add_problem(plan=v.plan, version=v.version, **v.data,
                                                   **v.common),
    "goal": lambda v: services.plan_add_goal(problem=v.parent, version=v.version, **v.data,
                                             **v.common),
    "objective": lambda v: services.plan_add_objective(goal=v.parent, version=v.version,
                                                       **v.data, **v.common),
    "intervention": _add_intervention,
    "status": lambda v: services.plan_set_objective_status(objective=v.parent,
                                                           version=v.version, **v.data,
                                                           **v.common),
    "review": lambda v: services.plan_review(plan=v.plan, version=v.version, **v.data,
                                             **v.common),
    "acknowledge": lambda v: services.plan_acknowledge(plan=v.plan, version=v.version,
                                                       **v.data, **v.common),
    "finish": lambda v: services.plan_finish_revision(plan=v.plan, version=v.version,
                                                      **v.common),
}


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def plan_action(request: HttpRequest, code: str, action: str) -> HttpResponse:
    """One named URL per plan verb (`clinical:plan_<verb>`, PLAN_ACTIONS). Every change
    carries the plan version it was made against. When nothing is saved, the page comes back with the form as typed
    and an error beside each field."""
    participant = chart_participant(request, code, audit=False)
    if not _require_access(request, participant) or action not in PLAN_ACTIONS:
        raise Http404
    plan = treatment_plan_for(participant, tree=False)  # the services read what they change
    if plan is None and action != "start":
        raise Http404
    form_class, prefix, parent_model, scope, heading = PLAN_ACTIONS[action]
    post = request.POST
    try:
        version = int(post.get("version", "0"))
    except ValueError:
        version = 0
    parent = _find(parent_model, post.get("parent"), **{scope: plan}) if parent_model else None
    form: Any = None
    if form_class is not None:
        kwargs: dict[str, Any] = {"prefix": prefix}
        if form_class is InterventionForm:
            kwargs["staff"] = _staff_choices(participant)
        form = form_class(post, auto_id="retry_%s", **kwargs)
    problem: str | None = None
    if form is None:  # a verb without fields (start): a refusal is a message
        try:
            PLAN_SERVICES[action](_Verb(request, plan, participant, {}, parent, version))
        except ValidationError as exc:
            problem = " ".join(exc.messages)
        except (Conflict, NotPermitted) as exc:
            problem = exc.message
    elif submit(form, lambda data: PLAN_SERVICES[action](
            _Verb(request, plan, participant, dict(data), parent, version))) is None:
        problem = ""
    if problem is not None:
        messages.error(request, problem or "Not saved: correct the fields marked below.")
        if form is None:
            return redirect("clinical:participant_plan", code=participant.code)
        return _plan_page(request, participant, retry={
            "action": action, "url_name": f"clinical:plan_{action}", "form": form, "heading": heading, "parent": parent,
            "parent_code": post.get("parent", "")})
    messages.success(request, "Treatment plan updated.")
    return redirect("clinical:participant_plan", code=participant.code)


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def plan_revision(request: HttpRequest, code: str, number: int) -> HttpResponse:
    participant = chart_participant(request, code)
    if not _require_access(request, participant):
        raise Http404
    plan = treatment_plan_for(participant, tree=False)  # the revision carries its own tree
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
@require_http_methods(["GET", "POST"])
def plan_export(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """Print view or PDF; a long plan's PDF is offered, then prepared, in the background."""
    participant = chart_participant(request, code, audit=False)
    if not _require_access(request, participant) or fmt not in ("print", "pdf"):
        raise Http404
    if request.method == "POST" and fmt != "pdf":
        raise Http404
    plan = treatment_plan_for(participant)
    if plan is None:
        raise Http404
    try:
        notice = print_release(request, [participant], plan, kind="treatment_plan")
    except ValidationError as exc:
        return HttpResponse("; ".join(error_messages(exc)), status=400,
                            content_type="text/plain")
    snapshot = plan_snapshot(plan, loaded=True)
    if fmt == "pdf" and (request.method == "POST" or downloads.is_large(plan_size(snapshot))):
        return downloads.offer_or_start(
            request, what="treatment_plan", filename=f"treatment-plan-{plan.code}.pdf",
            size=plan_size(snapshot), label=f"Treatment plan PDF (revision {plan.revision})",
            params={"plan_id": plan.pk, "notice": notice}, participant=participant,
            audit=lambda: services.plan_export(actor=request.user, plan=plan, action=Action.EXPORT,
                                               request=request))
    services.plan_export(actor=request.user, plan=plan,
                         action=Action.PRINT if fmt == "print" else Action.EXPORT, request=request)
    signatures = plan_signature_record(plan)
    if fmt == "pdf":
        response = HttpResponse(plan_pdf(plan, snapshot, plan.revision, signatures,
                                         notice=notice),
                                content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="treatment-plan-{plan.code}.pdf"'
        return response
    return render(request, "clinical/plan_print.html", {
        "participant": participant, "plan": plan, "snapshot": snapshot,
        "revision_number": plan.revision, "signatures": signatures, "part2_notice": notice})


@staff_required(Perm.CLINICAL_VIEW)
@require_http_methods(["GET", "POST"])
def safety_plan(request: HttpRequest, code: str) -> HttpResponse:
    participant = chart_participant(request, code, audit=request.method == "GET")
    if not _require_access(request, participant):
        raise Http404
    current = current_safety_plan(participant)
    if request.method == "POST":
        form = SafetyPlanForm(request.POST)
        if submit(form, lambda data: services.safety_plan_save(
                actor=request.user, participant=participant,
                data={k: v for k, v in data.items() if k != "version"},
                based_on_version=data["version"], request=request)):
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
        audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.SAFETY_PLAN,
                     object_id=plan.code, participant=participant, request=request)
    else:
        services.safety_plan_export(actor=request.user, plan=plan,
                                    action=Action.PRINT if fmt == "print" else Action.EXPORT,
                                    request=request)
    if fmt == "pdf":
        response = HttpResponse(safety_plan_pdf(plan), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="safety-plan-v{plan.version}.pdf"')
        return response
    return render(request, "clinical/safety_plan_print.html", {
        "participant": participant, "plan": plan, "printing": fmt == "print"})
