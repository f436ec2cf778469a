"""My work, its count in the navigation, notifications, safety tasks, the on-call rota."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, has_perm
from openiop.care.models import Program
from openiop.core.decorators import staff_required
from openiop.core.exceptions import InvalidTransition, NotPermitted
from openiop.core.forms import submit
from openiop.intake import safety
from openiop.intake.safety_policy import DAY_NAMES, response_hours
from openiop.intake.selectors import get_safety_task_for_user
from openiop.notifications import selectors as notes_sel
from openiop.notifications.models import OnCallShift
from openiop.notifications.services import (
    notification_mark_read,
    on_call_shift_add,
    on_call_shift_remove,
)
from openiop.scheduling.selectors import sessions_of_day

from . import worklist
from .forms import OnCallShiftForm, ResolveTaskForm


@staff_required()
def my_work(request: HttpRequest) -> HttpResponse:
    """The staff home page: what needs me now, most urgent first."""
    sections = worklist.my_work(request.user)
    org = request.user.staff_profile.organization
    today = timezone.localdate(timezone=org.zone)
    session_day, sessions = sessions_of_day(org, today)
    return render(request, "dashboard/my_work.html", {
        "sections": sections, "count": worklist.count(sections),
        "unread": notes_sel.unread_count(request.user),
        "today": today,
        # Today's sessions, or on a day without any (a weekend, a holiday) the next day's.
        "sessions": sessions, "session_day": session_day,
        "sessions_are_today": session_day == today,
        "can_view_schedule": has_perm(request.user, Perm.SCHEDULE_VIEW),
        "rota_programs": Program.objects.filter(
            organization_id=request.user.staff_organization_id, is_active=True).order_by("name")
        if has_perm(request.user, Perm.PROGRAM_MANAGE) else [],
    })


@staff_required()
def my_work_count(request: HttpRequest) -> HttpResponse:
    """The fragment polled by the navigation: " · 3", or nothing when nothing waits."""
    n = worklist.count(worklist.my_work(request.user)) + notes_sel.unread_count(request.user)
    return render(request, "dashboard/_count.html", {"count": n})


@staff_required()
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        notification_mark_read(actor=request.user)
        return redirect("dashboard:notifications")
    page = Paginator(notes_sel.notifications_for(request.user), 25).get_page(
        request.GET.get("page"))
    return render(request, "dashboard/notifications.html", {
        "page": page, "unread": notes_sel.unread_count(request.user)})


@staff_required()
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of my notifications read and go where it points (a path in this site)."""
    note = notes_sel.notifications_for(request.user).filter(pk=pk).first()
    if note is None:
        raise Http404
    notification_mark_read(actor=request.user, notification_ids=[note.pk])
    target = note.url if note.url.startswith("/") and not note.url.startswith("//") else ""
    return redirect(target or "dashboard:notifications")


# --- safety tasks -------------------------------------------------------------------------

def _task_page(request: HttpRequest, task: safety.SafetyTask, form: ResolveTaskForm,
               status: int = 200) -> HttpResponse:
    hours = response_hours(task.program)
    return render(request, "dashboard/safety_task.html", {
        "task": task, "form": form, "hours": hours.label(),
        "can_open_referral": has_perm(request.user, Perm.INTAKE_MANAGE),
        "escalations": task.escalations.select_related("recipient"),
        "overdue": (task.is_open and not task.is_acknowledged and task.acknowledge_due_at
                    and task.acknowledge_due_at < timezone.now()),
    }, status=status)


@staff_required(Perm.CLINICAL_WRITE)
def safety_task(request: HttpRequest, task: str) -> HttpResponse:
    obj = get_safety_task_for_user(request.user, task, request=request)
    return _task_page(request, obj, ResolveTaskForm())


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def safety_task_acknowledge(request: HttpRequest, task: str) -> HttpResponse:
    obj = get_safety_task_for_user(request.user, task)
    try:
        safety.safety_task_acknowledge(actor=request.user, task=obj, request=request)
    except InvalidTransition as exc:
        messages.error(request, exc.message)
        return _task_page(request, obj, ResolveTaskForm(), status=409)
    messages.success(request, "Acknowledged. Escalation stopped; resolve the task when done.")
    return redirect("dashboard:safety_task", task=obj.code)


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def safety_task_resolve(request: HttpRequest, task: str) -> HttpResponse:
    obj = get_safety_task_for_user(request.user, task)
    form = ResolveTaskForm(request.POST)
    try:
        saved = submit(form, lambda data: safety.safety_task_resolve(
            actor=request.user, task=obj, outcome=data["outcome"],
            resolution=data["resolution"], request=request), reraise=(InvalidTransition,))
    except InvalidTransition as exc:  # resolved or closed meanwhile: 409, the text kept
        form.add_error(None, exc.message)
        return _task_page(request, obj, form, status=409)
    if saved is not None:
        messages.success(request, "Safety task resolved.")
        return redirect("dashboard:safety_task", task=obj.code)
    return _task_page(request, obj, form, status=400)


# --- on-call rota -------------------------------------------------------------------------

def _program(request: HttpRequest, code: str) -> Program:
    try:
        return Program.objects.select_related("organization").get(
            code=code, organization_id=request.user.staff_organization_id)
    except (Program.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def _clinicians(request: HttpRequest) -> object:
    org_id = request.user.staff_organization_id
    holders = [u.pk for u in User.objects.filter(
        staff_profile__organization_id=org_id, staff_profile__is_active=True, is_active=True)
        if has_perm(u, Perm.CLINICAL_WRITE)]
    return User.objects.filter(pk__in=holders).order_by("last_name", "first_name")


@staff_required(Perm.PROGRAM_MANAGE)
@require_http_methods(["GET", "POST"])
def on_call_rota(request: HttpRequest, code: str) -> HttpResponse:
    """The program's weekly on-call rota: one column per day, add and remove blocks."""
    program = _program(request, code)
    form = OnCallShiftForm(request.POST or None, clinicians=_clinicians(request))
    status = 200
    if request.method == "POST":
        try:
            saved = submit(form, lambda data: on_call_shift_add(
                actor=request.user, program=program, request=request, **data),
                reraise=(NotPermitted,))
        except NotPermitted as exc:
            raise Http404 from exc
        if saved is not None:
            messages.success(request, "On-call block added.")
            return redirect("dashboard:on_call_rota", code=program.code)
        status = 400
    shifts = list(notes_sel.rota_for(program))
    days = [{"name": name, "shifts": [s for s in shifts if s.weekday == i]}
            for i, name in enumerate(DAY_NAMES)]
    return render(request, "dashboard/on_call_rota.html", {
        "program": program, "days": days, "form": form,
        "hours": response_hours(program).label(),
        "programs": Program.objects.filter(organization_id=request.user.staff_organization_id,
                                           is_active=True).order_by("name"),
    }, status=status)


@staff_required(Perm.PROGRAM_MANAGE)
@require_POST
def on_call_remove(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    program = _program(request, code)
    shift = OnCallShift.objects.filter(pk=pk, program=program).select_related(
        "program__organization").first()
    if shift is None:
        raise Http404
    on_call_shift_remove(actor=request.user, shift=shift, request=request)
    messages.success(request, "On-call block removed.")
    return redirect("dashboard:on_call_rota", code=program.code)
