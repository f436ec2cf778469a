"""Staff pages: curriculum library, rotations, cohort progress, holistic sessions, chart tab."""

from __future__ import annotations

from collections import OrderedDict
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from openiop.access.decisions import scope
from openiop.access.policy import Kind
from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.vocabulary import ObjectType
from openiop.care.models import EpisodeOfCare, Program
from openiop.core.decorators import staff_required
from openiop.core.exceptions import DomainError
from openiop.core.forms import submit
from openiop.participants.selectors import get_participant_for_user
from openiop.participants.views import chart_context
from openiop.scheduling.models import HOLISTIC_KINDS, Attendance, Booking, Session

from . import selectors, services
from .forms import (
    ApplyRotationForm,
    HolisticNoteForm,
    HomeworkAssignForm,
    HomeworkReviewForm,
    ProgramHolisticForm,
    RelapsePlanForm,
    RotationForm,
)
from .models import Homework, Module, Rotation, Topic

COHORT_PAGE = 25
HOLISTIC_PAGE = 60


def _program(request: HttpRequest, code: object) -> Program:
    try:
        return Program.objects.select_related("organization").get(
            code=code, organization_id=request.user.staff_organization_id
        )
    except (Program.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def _session(request: HttpRequest, code: object) -> Session:
    try:
        return Session.objects.select_related("program__organization", "facilitator", "track", "room").get(
            code=code, program__organization_id=request.user.staff_organization_id
        )
    except (Session.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def _error(request: HttpRequest, exc: DomainError | ValidationError) -> None:
    text = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
    messages.error(request, text)


@staff_required(Perm.CLINICAL_VIEW)
def index(request: HttpRequest) -> HttpResponse:
    """The curriculum: the module library by topic, each program's rotations, skills."""
    by_topic: OrderedDict[str, list[Module]] = OrderedDict((t.label, []) for t in Topic)
    for module in selectors.module_library():
        by_topic[module.get_topic_display()].append(module)
    context = {
        "by_topic": [(label, mods) for label, mods in by_topic.items() if mods],
        "module_count": sum(len(m) for m in by_topic.values()),
        "programs": selectors.programs_with_rotations(request.user.staff_organization_id),
        "skills": selectors.skills_catalog(),
        "rotation_kinds": Rotation.Kind.choices,
    }
    return render(request, "skills/index.html", context)


@staff_required(Perm.CLINICAL_VIEW)
def module_detail(request: HttpRequest, slug: str) -> HttpResponse:
    module = get_object_or_404(Module.objects.prefetch_related("skills"), slug=slug, is_active=True)
    return render(request, "skills/module_detail.html", {"module": module})


@staff_required(Perm.CLINICAL_VIEW)
@require_http_methods(["GET", "POST"])
def rotation_edit(request: HttpRequest, program: str, kind: str) -> HttpResponse:
    prog = _program(request, program)
    if kind not in Rotation.Kind.values:
        raise Http404
    rotation = Rotation.objects.filter(program=prog, kind=kind).first()
    current = {i.module_id: i.position for i in rotation.items.all()} if rotation else {}
    modules = list(selectors.module_library())
    form = RotationForm(request.POST or None, modules=modules, current=current,
                        initial={"version": rotation.version if rotation else None})
    apply_form = ApplyRotationForm(initial={"start": timezone.localdate()})
    if request.method == "POST" and submit(form, lambda data: services.rotation_set(
            actor=request.user, program=prog, kind=kind, modules=form.ordered_modules(),
            expected_version=data.get("version"), request=request)):
        messages.success(request, "Rotation saved.")
        return redirect("skills:rotation", program=prog.code, kind=kind)
    rows = sorted(
        ((form[f"pos_{m.pk}"], m) for m in modules),
        key=lambda t: (current.get(t[1].pk) is None, current.get(t[1].pk) or 0, t[1].topic, t[1].title),
    )
    return render(request, "skills/rotation_edit.html", {
        "program": prog, "kind": kind, "kind_label": Rotation.Kind(kind).label, "rotation": rotation,
        "form": form, "rows": rows, "apply_form": apply_form,
    })


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def rotation_apply(request: HttpRequest, program: str, kind: str) -> HttpResponse:
    prog = _program(request, program)
    rotation = Rotation.objects.filter(program=prog, kind=kind).first()
    if rotation is None:
        raise Http404
    form = ApplyRotationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick the first date to apply the rotation from.")
    else:
        try:
            n = services.rotation_apply(actor=request.user, rotation=rotation,
                                        start=form.cleaned_data["start"], request=request)
        except (ValidationError, DomainError) as exc:
            _error(request, exc)
        else:
            messages.success(request, f"{n} sessions now have a module from this rotation.")
    return redirect("skills:rotation", program=prog.code, kind=kind)


@staff_required(Perm.CLINICAL_VIEW)
def cohort(request: HttpRequest, program: str) -> HttpResponse:
    """Which participant has covered which module: a participants x modules table."""
    prog = _program(request, program)
    # Only the participants whose skills work the user may open (openiop.access).
    episodes = (
        scope(EpisodeOfCare.objects.filter(program=prog, status=EpisodeOfCare.Status.ACTIVE),
              request.user, Kind.SKILLS)
        .select_related("participant")
        .order_by("participant__legal_last_name", "participant__legal_first_name", "pk")
    )
    page = Paginator(episodes, COHORT_PAGE).get_page(request.GET.get("page"))
    people = [ep.participant for ep in page.object_list]
    items, matrix = selectors.cohort_progress(prog, people)
    rows = []
    for person in people:
        statuses = matrix.get(person.pk, {})
        cells = [statuses.get(item.module_id, "") for item in items]
        rows.append({"participant": person, "cells": cells,
                     "covered": cells.count("covered"), "missed": cells.count("missed")})
    return render(request, "skills/cohort.html", {
        "program": prog, "items": items, "rows": rows, "page": page, "query_string": "",
    })


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def session_module(request: HttpRequest, session: str) -> HttpResponse:
    sess = _session(request, session)
    slug = request.POST.get("module", "")
    module = Module.objects.filter(slug=slug, is_active=True).first() if slug else None
    if slug and module is None:
        messages.error(request, "Module: pick a module from the library.")
    else:
        services.session_module_set(actor=request.user, session=sess, module=module, request=request)
        messages.success(request, "Session module recorded.")
    return redirect(request.POST.get("next") or "skills:index")


@staff_required(Perm.CLINICAL_VIEW)
def holistic(request: HttpRequest) -> HttpResponse:
    """This week's mindfulness, yoga, art and exercise sessions, and each program's switch."""
    org_id = request.user.staff_organization_id
    try:
        week = int(request.GET.get("week", "0"))
    except ValueError:
        week = 0
    week = max(min(week, 52), -52)
    today = timezone.localdate()
    start = today - timedelta(days=today.weekday()) + timedelta(weeks=week)
    end = start + timedelta(days=6)
    programs = list(Program.objects.filter(organization_id=org_id, is_active=True).order_by("name"))
    chosen = next((p for p in programs if str(p.code) == request.GET.get("program", "")), None)
    qs = selectors.holistic_sessions(org_id, start=start, end=end)
    if chosen is not None:
        qs = qs.filter(program=chosen)
    # A large clinic runs hundreds of holistic sessions a week: page them.
    page = Paginator(qs, HOLISTIC_PAGE).get_page(request.GET.get("page"))
    sessions = list(page.object_list)
    attended = _attended_counts([s.pk for s in sessions])
    for s in sessions:
        s.attended_count = attended.get(s.pk, 0)
    query = {"week": week} | ({"program": chosen.code} if chosen else {})
    return render(request, "skills/holistic.html", {
        "sessions": sessions, "page": page, "start": start, "end": end, "week": week,
        "programs": programs, "chosen": chosen, "can_manage": has_perm(request.user, Perm.PROGRAM_MANAGE),
        "query_string": "&".join(f"{k}={v}" for k, v in query.items()),
        "program_param": f"&program={chosen.code}" if chosen else "",
    })


def _attended_counts(session_ids: list[int]) -> dict[int, int]:
    from django.db.models import Count, Q

    rows = (
        Booking.objects.filter(session_id__in=session_ids)
        .values("session_id")
        .annotate(n=Count("id", filter=Q(attendance__status__in=Attendance.ATTENDED)))
    )
    return {r["session_id"]: r["n"] for r in rows}


@staff_required(Perm.PROGRAM_MANAGE)
@require_POST
def holistic_switch(request: HttpRequest, program: str) -> HttpResponse:
    prog = _program(request, program)
    form = ProgramHolisticForm(request.POST)
    form.is_valid()
    counts = bool(form.cleaned_data.get("counts"))
    changed = services.program_holistic_set(actor=request.user, program=prog, counts=counts, request=request)
    messages.success(
        request,
        f"{prog.name}: holistic sessions {'now count' if counts else 'no longer count'} toward weekly "
        f"hours ({changed} upcoming sessions updated).",
    )
    return redirect("skills:holistic")


@staff_required(Perm.CLINICAL_VIEW)
@require_http_methods(["GET", "POST"])
def holistic_session(request: HttpRequest, session: str) -> HttpResponse:
    sess = _session(request, session)
    if sess.kind not in HOLISTIC_KINDS:
        raise Http404
    note = getattr(sess, "holistic_note", None)
    initial = {"activity": note.activity, "note": note.note, "version": note.version} if note else {}
    form = HolisticNoteForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not has_perm(request.user, Perm.CLINICAL_WRITE):
            raise Http404
        if submit(form, lambda data: services.holistic_note_save(
                actor=request.user, session=sess, activity=data["activity"], note=data["note"],
                expected_version=data.get("version"), request=request)):
            messages.success(request, "Activity note saved.")
            return redirect("skills:holistic_session", session=sess.code)
    roster = (
        Booking.objects.filter(session=sess)
        .select_related("participant", "attendance")
        .order_by("participant__legal_last_name", "participant__legal_first_name")
    )
    return render(request, "skills/holistic_session.html", {
        "session": sess, "note": note, "form": form, "roster": roster,
    })


# --- chart tab -------------------------------------------------------------------------


def _tab_context(request: HttpRequest, participant: object, **extra: object) -> dict:
    homework = selectors.homework_for(participant)
    review_forms = {
        hw.pk: HomeworkReviewForm(initial={"version": hw.version}, prefix=f"hw{hw.pk}")
        for hw in homework if hw.status == Homework.Status.COMPLETED
    }
    for hw in homework:
        hw.review_form = review_forms.get(hw.pk)
    plan = selectors.relapse_plan_for(participant)
    trend = selectors.craving_trend(participant)
    return chart_context(request, participant, active_tab="skills:participant_skills") | {
        "progress": selectors.participant_progress(participant),
        "homework": homework,
        "assign_form": extra.pop("assign_form", None) or HomeworkAssignForm(),
        "practices": selectors.skill_practices(participant, limit=10),
        "skill_summary": selectors.skill_summary(participant),
        "cravings": selectors.craving_logs(participant, limit=10),
        "trend": trend,
        "plan": plan,
        "can_write": has_perm(request.user, Perm.CLINICAL_WRITE),
    } | extra


@staff_required(Perm.CLINICAL_VIEW)
def participant_skills(request: HttpRequest, code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request, perm=Perm.CLINICAL_VIEW,
                                           object_type=ObjectType.SKILLS)
    return render(request, "skills/participant_skills.html", _tab_context(request, participant))


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def homework_assign(request: HttpRequest, code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request, perm=Perm.CLINICAL_WRITE,
                                           audit_action=None)
    form = HomeworkAssignForm(request.POST)
    if submit(form, lambda data: services.homework_assign(
            actor=request.user, participant=participant, request=request, **data)):
        messages.success(request, "Homework assigned; the participant sees it in the portal.")
        return redirect("skills:participant_skills", code=participant.code)
    return render(request, "skills/participant_skills.html",
                  _tab_context(request, participant, assign_form=form), status=400)


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def homework_review(request: HttpRequest, code: str, homework: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request, perm=Perm.CLINICAL_WRITE,
                                           audit_action=None)
    hw = _homework(participant, homework)
    form = HomeworkReviewForm(request.POST, prefix=f"hw{hw.pk}")
    if not form.is_valid():
        messages.error(request, "Review: the form was incomplete; reload and try again.")
        return redirect("skills:participant_skills", code=participant.code)
    try:
        services.homework_review(
            actor=request.user, homework=hw, comment=form.cleaned_data["review_comment"],
            close=form.cleaned_data["close"], expected_version=form.cleaned_data["version"],
            request=request,
        )
    except (ValidationError, DomainError) as exc:
        _error(request, exc)
    else:
        messages.success(request, "Review saved; the participant sees your comment.")
    return redirect("skills:participant_skills", code=participant.code)


def _homework(participant: object, code: str) -> Homework:
    hw = Homework.objects.filter(code=code, participant=participant).first()
    if hw is None:
        raise Http404
    return hw


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def homework_close(request: HttpRequest, code: str, homework: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request, perm=Perm.CLINICAL_WRITE,
                                           audit_action=None)
    hw = _homework(participant, homework)
    try:
        services.homework_close(actor=request.user, homework=hw, request=request)
    except (ValidationError, DomainError) as exc:
        _error(request, exc)
    else:
        messages.success(request, "Homework closed.")
    return redirect("skills:participant_skills", code=participant.code)


@staff_required(Perm.CLINICAL_VIEW)
@require_http_methods(["GET", "POST"])
def relapse_plan(request: HttpRequest, code: str) -> HttpResponse:
    perm = Perm.CLINICAL_WRITE if request.method == "POST" else Perm.CLINICAL_VIEW
    participant = get_participant_for_user(request.user, code, request=request, perm=perm,
                                           object_type=ObjectType.RELAPSE_PLAN)
    plan = selectors.relapse_plan_for(participant)
    form = RelapsePlanForm.for_plan(plan, request.POST or None)
    if request.method == "POST" and submit(form, lambda data: services.relapse_plan_save(
            actor=request.user, participant=participant, sections=data,
            expected_version=data.get("version"), request=request)):
        messages.success(request, "Relapse-prevention plan saved.")
        return redirect("skills:participant_skills", code=participant.code)
    context = chart_context(request, participant, active_tab="skills:participant_skills")
    return render(request, "skills/relapse_plan_edit.html", context | {"form": form, "plan": plan})
