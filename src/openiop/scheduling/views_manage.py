"""Thin HTTP for the director's set-up: session templates, site closures, staff hours, and
the schedule tab's pin / track-move forms. Writes go through services.py.

Pages need schedule.view; every change needs schedule.plan (403 without it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts.models import StaffProfile, User
from openiop.accounts.permissions import Perm, has_perm
from openiop.care.models import Enrollment, Program
from openiop.core.decorators import staff_required
from openiop.core.exceptions import Conflict, DomainError
from openiop.core.forms import submit
from openiop.participants.selectors import current_episode, get_participant_for_user

from . import services
from .forms import (
    AlternativeTracksForm,
    ClosureForm,
    MaxHoursForm,
    SessionTemplateForm,
    StaffHoursForm,
    TrackMoveForm,
)
from .models import Booking, SessionTemplate, SiteClosure, StaffHours

if TYPE_CHECKING:
    from uuid import UUID

    from openiop.care.models import EpisodeOfCare


def _org(request: HttpRequest) -> Any:
    return request.user.staff_profile.organization


class _PlanPermissionMissing(Exception):
    pass


def _require_plan(request: HttpRequest) -> None:
    """Call after the object lookup, so other organizations and unknown codes still get 404."""
    if not has_perm(request.user, Perm.SCHEDULE_PLAN):
        raise _PlanPermissionMissing


def plan_to_change(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A 403 (not the project's usual 404) when staff who may see the page lack schedule.plan:
    the page is no secret to them, and they should learn why nothing happened."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except _PlanPermissionMissing:
            return render(request, "403.html", status=403)

    return wrapped


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "message_dict"):
        return " ".join(f"{k.replace('_', ' ').capitalize()}: {' '.join(v)}"
                        for k, v in exc.message_dict.items())
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return getattr(exc, "message", str(exc))


# --- session templates and closures -------------------------------------------------------

def _templates_page(request: HttpRequest, *, closure_form: ClosureForm | None = None,
                    generate: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    """`generate` re-shows the generate-sessions form as typed, with its error."""
    org = _org(request)
    programs = list(Program.objects.filter(organization=org, is_active=True))
    rows = (SessionTemplate.objects.filter(program__in=programs)
            .select_related("program", "track", "room__site", "facilitator")
            .order_by("program__name", "program_id", "-is_active", "track__name", "weekday", "start_time"))
    closures = (SiteClosure.objects.filter(organization=org, date__gte=timezone.localdate())
                .select_related("site")[:30])
    return render(request, "scheduling/templates.html", {
        "templates": rows, "programs": programs, "closures": closures,
        "closure_form": closure_form or ClosureForm(organization=org),
        "holiday_years": [timezone.localdate().year + i for i in range(3)],
        "can_plan": has_perm(request.user, Perm.SCHEDULE_PLAN),
        "generate": generate or {},
    }, status=status)


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_http_methods(["GET", "POST"])
def templates(request: HttpRequest) -> HttpResponse:
    """Templates and closures; POST generates dated sessions from a program's templates."""
    if request.method == "GET":
        return _templates_page(request)
    _require_plan(request)
    org = _org(request)
    programs = list(Program.objects.filter(organization=org, is_active=True))
    typed = {k: request.POST.get(k, "").strip() for k in ("program", "start", "end")}
    field, error = "", ""
    try:
        field = "program"
        program = next(p for p in programs if str(p.code) == typed["program"])
        field = "start"
        start = date.fromisoformat(typed["start"])
        field = "end"
        end = date.fromisoformat(typed["end"])
        field = "form"
        n = services.sessions_generate(actor=request.user, program=program, start=start, end=end,
                                       request=request)
    except StopIteration:
        error = "Program: pick one of your programs."
    except ValueError:
        label = "From" if field == "start" else "To"
        error = f"{label}: enter a date such as 2026-03-02."
    except (ValidationError, DomainError) as exc:
        error = _error_text(exc)
    if error:
        messages.error(request, f"No sessions generated. {error}")
        return _templates_page(request, generate=typed | {"field": field, "error": error},
                               status=400)
    messages.success(request, f"{n} sessions generated for {program.name} (closures skipped).")
    return redirect("scheduling:templates")


def _template(request: HttpRequest, code: UUID | str) -> SessionTemplate:
    try:
        return SessionTemplate.objects.select_related("program__organization").get(
            code=code, program__organization=_org(request))
    except SessionTemplate.DoesNotExist as exc:
        raise Http404 from exc


def _template_form_page(request: HttpRequest, form: SessionTemplateForm, template: SessionTemplate | None,
                        *, current: SessionTemplate | None = None, status: int = 200) -> HttpResponse:
    return render(request, "scheduling/template_form.html",
                  {"form": form, "template": template, "current": current}, status=status)


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_http_methods(["GET", "POST"])
def template_new(request: HttpRequest) -> HttpResponse:
    _require_plan(request)
    org = _org(request)
    if request.method == "GET":
        initial = {"capacity": 12, "counts_toward_hours": True}
        programs = list(Program.objects.filter(organization=org, is_active=True)[:2])
        if len(programs) == 1:
            initial["program"] = programs[0]
        return _template_form_page(request, SessionTemplateForm(organization=org, initial=initial), None)
    form = SessionTemplateForm(request.POST, organization=org)
    saved = submit(form, lambda data: services.template_save(
        actor=request.user, template=None, program=data["program"], data=data, request=request))
    if saved is not None:
        messages.success(request, f"Template “{saved.result.title}” created.")
        return redirect("scheduling:templates")
    return _template_form_page(request, form, None, status=400)


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, code: UUID) -> HttpResponse:
    template = _template(request, code)
    _require_plan(request)
    org = _org(request)
    if request.method == "GET":
        return _template_form_page(request, SessionTemplateForm(instance=template, organization=org), template)
    form = SessionTemplateForm(request.POST, instance=template, organization=org)
    try:
        saved = submit(form, lambda data: services.template_save(
            actor=request.user, template=template, data=data, version=data.get("version") or 0,
            request=request), reraise=(Conflict,))
    except Conflict as exc:
        # Keep what they typed; the next save is made against the version they now see.
        current = SessionTemplate.objects.select_related("track", "room", "facilitator").get(pk=template.pk)
        data = request.POST.copy()
        data["version"] = str(current.version)
        # A second copy for the form: validating it writes the typed values onto its instance.
        form = SessionTemplateForm(data, instance=SessionTemplate.objects.get(pk=template.pk),
                                   organization=org)
        form.is_valid()
        form.add_error(None, exc.message)
        return _template_form_page(request, form, current, current=current, status=409)
    if saved is not None:
        messages.success(request, f"Template “{saved.result.title}” saved. "
                                  "Sessions generated from now on use it.")
        return redirect("scheduling:templates")
    return _template_form_page(request, form, template, status=400)


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_POST
def template_active(request: HttpRequest, code: UUID) -> HttpResponse:
    template = _template(request, code)
    _require_plan(request)
    active = request.POST.get("active") == "1"
    try:
        services.template_set_active(actor=request.user, template=template, active=active, request=request)
    except (ValidationError, DomainError) as exc:
        messages.error(request, f"“{template.title}” was not reactivated. {_error_text(exc)}")
    else:
        messages.success(request, f"Template “{template.title}” "
                                  + ("reactivated." if active else "deactivated: no new sessions or plans "
                                     "use it; sessions already generated stay."))
    return redirect("scheduling:templates")


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_POST
def closure_add(request: HttpRequest) -> HttpResponse:
    _require_plan(request)
    org = _org(request)
    form = ClosureForm(request.POST, organization=org)
    saved = submit(form, lambda data: services.closure_add(
        actor=request.user, organization=org, day=data["date"], site=data["site"],
        reason=data["reason"], cancel_sessions=data["cancel_sessions"], request=request))
    if saved is not None:
        c, cancelled = saved.result
        if form.cleaned_data["cancel_sessions"]:
            done = (f"{cancelled} session{'s' if cancelled != 1 else ''} that day "
                    f"{'was' if cancelled == 1 else 'were'} cancelled and the booked participants told.")
        else:
            done = "Sessions already generated for it are not cancelled."
        messages.success(request, f"Closed on {c.date:%a %b %-d}: no sessions will be generated "
                                  f"that day. {done}")
        return redirect("scheduling:templates")
    return _templates_page(request, closure_form=form, status=400)


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_POST
def closures_holidays(request: HttpRequest) -> HttpResponse:
    _require_plan(request)
    try:
        year = int(request.POST.get("year", ""))
        made = services.closures_add_holidays(actor=request.user, organization=_org(request),
                                              year=year, request=request)
    except ValueError:
        messages.error(request, "Year: pick one of the years offered.")
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"{len(made)} public holiday closure{'s' if len(made) != 1 else ''} "
                                  f"added for {year}. Remove any day a site stays open.")
    return redirect("scheduling:templates")


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_POST
def closure_remove(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        closure = SiteClosure.objects.select_related("organization").get(pk=pk, organization=_org(request))
    except SiteClosure.DoesNotExist as exc:
        raise Http404 from exc
    _require_plan(request)
    try:
        services.closure_remove(actor=request.user, closure=closure, request=request)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"The closure on {closure.date:%a %b %-d} was removed.")
    return redirect("scheduling:templates")


# --- staff hours --------------------------------------------------------------------------

DEFAULT_HOURS_LABEL = "Monday to Friday, 8:00 AM to 8:00 PM"


def clinical_staff(organization: Any) -> list[StaffProfile]:
    """Active staff with a credential (whom the planner may book), with their windows:
    two queries whatever the number of people."""
    profiles = (StaffProfile.objects.filter(organization=organization, is_active=True, user__is_active=True)
                .select_related("user").prefetch_related("user__working_hours")
                .order_by("user__last_name", "user__first_name"))
    return [p for p in profiles if p.credentials]


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    return render(request, "scheduling/staff_hours.html", {
        "staff": clinical_staff(_org(request)), "default_label": DEFAULT_HOURS_LABEL,
        "can_plan": has_perm(request.user, Perm.SCHEDULE_PLAN),
    })


def _staff_member(request: HttpRequest, code: UUID | str) -> User:
    try:
        return User.objects.select_related("staff_profile__organization").get(
            code=code, staff_profile__organization=_org(request))
    except User.DoesNotExist as exc:
        raise Http404 from exc


def _staff_page(request: HttpRequest, member: User, *, window_form: StaffHoursForm | None = None,
                hours_form: MaxHoursForm | None = None, status: int = 200) -> HttpResponse:
    profile = member.staff_profile
    return render(request, "scheduling/staff_edit.html", {
        "member": member, "profile": profile, "windows": list(member.working_hours.all()),
        "window_form": window_form or StaffHoursForm(),
        "hours_form": hours_form or MaxHoursForm(initial={"max_weekly_hours": profile.max_weekly_hours}),
        "default_label": DEFAULT_HOURS_LABEL,
    }, status=status)


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_GET
def staff_edit(request: HttpRequest, code: UUID) -> HttpResponse:
    member = _staff_member(request, code)
    _require_plan(request)
    return _staff_page(request, member)


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_POST
def staff_window_add(request: HttpRequest, code: UUID) -> HttpResponse:
    member = _staff_member(request, code)
    _require_plan(request)
    form = StaffHoursForm(request.POST)
    saved = submit(form, lambda data: services.staff_hours_add(
        actor=request.user, user=member, request=request, **data))
    if saved is not None:
        messages.success(request, f"Window added: {saved.result}. The next plan uses it.")
        return redirect("scheduling:staff_edit", code=member.code)
    return _staff_page(request, member, window_form=form, status=400)


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_POST
def staff_max_hours(request: HttpRequest, code: UUID) -> HttpResponse:
    member = _staff_member(request, code)
    _require_plan(request)
    form = MaxHoursForm(request.POST)
    if submit(form, lambda data: services.staff_max_hours_set(
            actor=request.user, user=member, request=request,
            max_weekly_hours=data["max_weekly_hours"])):
        messages.success(request, "Most hours a week saved. The next plan uses it.")
        return redirect("scheduling:staff_edit", code=member.code)
    return _staff_page(request, member, hours_form=form, status=400)


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_POST
def staff_window_remove(request: HttpRequest, code: UUID, pk: int) -> HttpResponse:
    member = _staff_member(request, code)
    try:
        window = StaffHours.objects.select_related("user__staff_profile").get(pk=pk, user=member)
    except StaffHours.DoesNotExist as exc:
        raise Http404 from exc
    _require_plan(request)
    services.staff_hours_remove(actor=request.user, window=window, request=request)
    left = member.working_hours.count()
    messages.success(request, f"Window removed: {window}." + (
        "" if left else f" No windows left: the planner uses the default, {DEFAULT_HOURS_LABEL}."))
    return redirect("scheduling:staff_edit", code=member.code)


# --- the schedule tab: pin a booking, move to another track --------------------------------

@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_POST
def booking_pin(request: HttpRequest, code: UUID, booking: Any) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.SCHEDULE_VIEW, audit_action=None)
    try:
        b = (Booking.objects.select_related("session__program", "participant")
             .get(code=booking, participant=participant))
    except (Booking.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc
    _require_plan(request)
    pinned = request.POST.get("pinned") == "1"
    services.booking_set_pinned(actor=request.user, booking=b, pinned=pinned, request=request)
    when = timezone.localtime(b.session.starts_at, services.zoneinfo_of(b.session.program))
    messages.success(request, f"{b.session.title} on {when:%a %b %-d} "
                              + ("pinned: re-planning keeps it." if pinned else "unpinned: the next plan may move it."))
    week = request.POST.get("week", "")
    url = redirect("scheduling:participant_schedule", code=participant.code).url
    return redirect(f"{url}?week={week}" if week else url)


def active_enrollment(episode: EpisodeOfCare | None) -> Enrollment | None:
    if episode is None:
        return None
    return (episode.enrollments.filter(status=Enrollment.Status.ACTIVE)
            .select_related("track").order_by("-start_date").first())


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_POST
def track_move(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.SCHEDULE_VIEW, audit_action=None)
    _require_plan(request)
    episode = current_episode(participant)
    if episode is None:
        messages.error(request, "Nothing was changed: there is no open episode of care.")
        return redirect("scheduling:participant_schedule", code=participant.code)
    current = active_enrollment(episode)
    form = TrackMoveForm(request.POST, episode=episode, current=current)
    if form.is_valid():
        track, day = form.cleaned_data["track"], form.cleaned_data["start_date"]
        try:
            if current is None and track is None:
                raise ValidationError({"track": "Not in a track; pick one to join."})
            if current is None:
                _, booked = services.membership_join(actor=request.user, episode=episode, track=track,
                                                     start_date=day, request=request)
                cancelled = 0
            else:
                _, cancelled, booked = services.membership_move(
                    actor=request.user, enrollment=current, track=track, start_date=day, request=request)
        except (ValidationError, DomainError) as exc:
            messages.error(request, f"Nothing was changed. {_error_text(exc)}")
        else:
            what = f"Moved to the {track.name} track" if track else f"Left the {current.track.name} track"
            messages.success(request, f"{what} from {day:%b %-d}: {cancelled} upcoming booking(s) of the "
                                      f"old track cancelled, {booked} booked. Past sessions and attendance "
                                      "are unchanged.")
    else:
        messages.error(request, "Nothing was changed. " + " ".join(
            f"{form.fields[k].label if k in form.fields else k}: {' '.join(v)}" for k, v in form.errors.items()))
    return redirect("scheduling:participant_schedule", code=participant.code)


@staff_required(Perm.SCHEDULE_VIEW)
@plan_to_change
@require_POST
def track_alternatives(request: HttpRequest, code: UUID) -> HttpResponse:
    """Set the acceptable other tracks of the participant's current track membership."""
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.SCHEDULE_VIEW, audit_action=None)
    _require_plan(request)
    current = active_enrollment(current_episode(participant))
    if current is None:
        messages.error(request, "Nothing was changed: not in a track.")
        return redirect("scheduling:participant_schedule", code=participant.code)
    form = AlternativeTracksForm(request.POST, enrollment=current)
    saved = submit(form, lambda data: services.membership_set_alternatives(
        actor=request.user, enrollment=current, tracks=data["tracks"], request=request))
    if saved is not None:
        names = ", ".join(t.name for t in saved.result)
        messages.success(request, f"Other tracks they can attend: {names}. The next plan may "
                                  "propose a move to one." if names else
                                  "No other track saved: the planner keeps them in their track.")
    else:
        messages.error(request, "Nothing was changed. " + " ".join(
            " ".join(v) for v in form.errors.values()))
    return redirect("scheduling:participant_schedule", code=participant.code)
