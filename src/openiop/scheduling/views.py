"""Thin HTTP for scheduling: parse, call a selector or service, render."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, has_perm
from openiop.care.models import Track
from openiop.core.decorators import staff_required
from openiop.core.exceptions import DomainError
from openiop.organizations.models import Room
from openiop.participants.selectors import get_participant_for_user
from openiop.participants.views import chart_context

from . import selectors, services
from .forms import AlternativeTracksForm, TrackMoveForm
from .hours import minimum_minutes, monday_of
from .ical import build_calendar, feed_window
from .models import (
    Attendance,
    Booking,
    CalendarFeed,
    Notification,
    PlanRun,
    Session,
)
from .views_manage import active_enrollment

if TYPE_CHECKING:
    from uuid import UUID


def _org(request: HttpRequest) -> Any:
    return request.user.staff_profile.organization


def _week(request: HttpRequest, tz: Any) -> date:
    raw = request.GET.get("week", "")
    try:
        return monday_of(date.fromisoformat(raw))
    except ValueError:
        return monday_of(timezone.localtime(timezone.now(), tz).date())


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "message_dict"):
            return " ".join(f"{k.replace('_', ' ').capitalize()}: {' '.join(v)}"
                            for k, v in exc.message_dict.items())
        return " ".join(exc.messages)
    return getattr(exc, "message", str(exc))


@staff_required(Perm.SCHEDULE_VIEW)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The week grid for a track, a clinician or a room."""
    org = _org(request)
    tz = selectors.org_tz(org)
    week = _week(request, tz)
    tracks = list(Track.objects.filter(program__organization=org, is_active=True).select_related("program"))
    clinicians = list(User.objects.filter(staff_profile__organization=org, facilitated_sessions__isnull=False)
                      .distinct().order_by("last_name"))
    rooms = list(Room.objects.filter(site__organization=org, is_active=True).select_related("site"))
    view = request.GET.get("view", "track")
    ident = request.GET.get("id", "")
    filters: dict[str, Any] = {}
    subject = ""
    if view == "clinician":
        chosen = next((c for c in clinicians if str(c.pk) == ident), clinicians[0] if clinicians else None)
        filters["facilitator"] = chosen
        subject = f"{chosen}" if chosen else ""
    elif view == "room":
        chosen = next((r for r in rooms if str(r.pk) == ident), rooms[0] if rooms else None)
        filters["room"] = chosen
        subject = f"{chosen}" if chosen else ""
    else:
        view = "track"
        chosen = next((t for t in tracks if str(t.code) == ident), tracks[0] if tracks else None)
        filters["track"] = chosen
        subject = f"{chosen}" if chosen else ""
    sessions, booked = selectors.week_sessions(org, week, **filters) if chosen else ([], {})
    grid = selectors.week_grid(sessions, week, tz, booked)
    plans = PlanRun.objects.filter(organization=org).order_by("-created_at")[:5]
    return render(request, "scheduling/index.html", {
        "grid": grid, "week": week, "prev_week": week - timedelta(days=7),
        "next_week": week + timedelta(days=7), "view": view, "chosen": chosen, "subject": subject,
        "tracks": tracks, "clinicians": clinicians, "rooms": rooms, "plans": plans,
        "can_plan": has_perm(request.user, Perm.SCHEDULE_PLAN),
        "ident": str(getattr(chosen, "code", getattr(chosen, "pk", ""))) if chosen else "",
    })


@staff_required(Perm.SCHEDULE_PLAN)
@require_http_methods(["GET", "POST"])
def plan_new(request: HttpRequest) -> HttpResponse:
    """Ask for a plan: the engine runs in a background job; the page follows it."""
    org = _org(request)
    tz = selectors.org_tz(org)
    next_monday = monday_of(timezone.localtime(timezone.now(), tz).date()) + timedelta(days=7)
    error = ""
    week_value = request.POST.get("week_start", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            week = date.fromisoformat(week_value)
        except ValueError:
            error = "Week start: enter a date such as 2026-03-02."
        else:
            try:
                job = services.plan_week_start(actor=request.user, organization=org,
                                               week_start=week, request=request)
            except (ValidationError, DomainError) as exc:
                error = _error_text(exc)
            else:
                return redirect("scheduling:plan_progress", code=job.code)
    return render(request, "scheduling/plan_new.html", {
        "next_monday": next_monday, "error": error, "week_value": week_value,
        "running": selectors.planning_jobs(org),
    })


@staff_required(Perm.SCHEDULE_PLAN)
@require_GET
def plan_progress(request: HttpRequest, code: UUID) -> HttpResponse:
    """A planning job's live progress (htmx polls the status part); its plan when done."""
    job = selectors.planning_job(_org(request), code)
    if job is None:
        raise Http404
    plan_code = (job.result or {}).get("plan")
    if job.state == job.State.SUCCEEDED and plan_code:
        target = reverse("scheduling:plan_detail", kwargs={"code": plan_code})
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return redirect(target)
    template = ("scheduling/_plan_progress.html" if request.headers.get("HX-Request")
                else "scheduling/plan_progress.html")
    return render(request, template, {"job": job, "best": job.best or {}})


@staff_required(Perm.SCHEDULE_PLAN)
@require_GET
def plan_detail(request: HttpRequest, code: UUID) -> HttpResponse:
    run = _run(request, code)
    proposal = run.proposal
    diff_by_person: dict[str, list[Any]] = {}
    for row in proposal.diff:
        diff_by_person.setdefault(row.name, []).append(row)
    return render(request, "scheduling/plan_detail.html", {
        "run": run, "m": proposal.metrics, "diff": diff_by_person,
        "explanations": proposal.explanations, "cadence_gaps": proposal.cadence_gaps,
        "adds": proposal.adds, "removes": proposal.removes,
        "therapist_changes": proposal.therapist_changes,
        "track_moves": proposal.track_moves,
    })


def _run(request: HttpRequest, code: UUID | str) -> PlanRun:
    try:
        return PlanRun.objects.get(code=code, organization=_org(request))
    except PlanRun.DoesNotExist as exc:
        raise Http404 from exc


@staff_required(Perm.SCHEDULE_PLAN)
@require_POST
def plan_apply(request: HttpRequest, code: UUID) -> HttpResponse:
    run = _run(request, code)
    try:
        counts = services.plan_apply(actor=request.user, run=run, request=request,
                                     accepted_moves=request.POST.getlist("accept_move"))
    except (ValidationError, DomainError) as exc:
        messages.error(request, f"Nothing was applied. {_error_text(exc)}")
        return redirect("scheduling:plan_detail", code=run.code)
    # Therapist changes are part of the appointments added: said next to them; track moves
    # (accepted or declined) in a sentence of their own.
    stand_ins = counts.pop("therapist_changes", 0)
    moved, declined = counts.pop("track_moves", 0), counts.pop("track_moves_declined", 0)
    dropped, rebooked = counts.pop("declined_sessions_dropped", 0), counts.pop("declined_rebooked", 0)
    changed = {k: v for k, v in counts.items() if v}
    parts = [f"{v} {k.replace('_', ' ')}" + (
        f" ({stand_ins} as approved therapist changes)"
        if k == "appointments_added" and stand_ins else "") for k, v in sorted(changed.items())]
    text = ("Plan applied: " + ", ".join(parts) + "." if changed else "Plan applied: no changes.")
    if moved:
        text += f" {moved} track move{'s' if moved != 1 else ''} approved: enrollment changed."
    if declined:
        text += (f" {declined} track move{'s' if declined != 1 else ''} declined: "
                 f"{dropped} session{'s' if dropped != 1 else ''} of the other track not booked, "
                 f"{rebooked} seat{'s' if rebooked != 1 else ''} of their own track booked instead.")
    messages.success(request, text)
    return redirect(f"{reverse('scheduling:index')}?week={run.week_start.isoformat()}")


# --- attendance ---------------------------------------------------------------------------

def _roster_rows(session: Session) -> list[dict]:
    bookings = list(session.bookings.filter(status=Booking.Status.BOOKED)
                    .select_related("participant", "attendance").order_by("participant__legal_last_name"))
    return [{"booking": b, "attendance": getattr(b, "attendance", None)} for b in bookings]


@staff_required(Perm.SCHEDULE_VIEW)
@require_GET
def roster(request: HttpRequest, code: UUID) -> HttpResponse:
    return _roster_page(request, selectors.get_session_for_user(request.user, code))


def _roster_page(request: HttpRequest, session: Session, *, typed: dict | None = None,
                 status: int = 200) -> HttpResponse:
    """The roster; `typed` ({booking code, minutes, error}) re-shows one row as typed."""
    from .locks import attendance_lock_reason

    rows = _roster_rows(session)
    for row in rows:
        if typed and row["booking"].code == typed["booking"]:
            row |= {"typed": typed["minutes"], "error": typed["error"]}
    return render(request, "scheduling/roster.html", {
        "session": session, "rows": rows, "statuses": Attendance.Status.choices,
        "lock": attendance_lock_reason(session), "length": session.duration_minutes,
        "can_record": has_perm(request.user, Perm.ATTENDANCE_RECORD),
        "can_plan": has_perm(request.user, Perm.SCHEDULE_PLAN),
        "missing": sum(1 for r in rows if r["attendance"] is None),
        "tz": selectors.org_tz(session.program.organization),
    }, status=status)


@staff_required(Perm.ATTENDANCE_RECORD)
@require_POST
def attendance_mark(request: HttpRequest, code: UUID, booking: Any) -> HttpResponse:
    session = selectors.get_session_for_user(request.user, code)
    try:
        b = session.bookings.select_related("participant").get(code=booking)
    except (Booking.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    error = ""
    raw = request.POST.get("minutes", "").strip()
    minutes = None
    status = request.POST.get("status", "")
    if raw and status in Attendance.ATTENDED:
        try:
            minutes = int(raw)
        except ValueError:
            error = "Minutes attended: enter a whole number."
        # The box starts at the full length: untouched, Late / Left early take 15 minutes off.
        if minutes == session.duration_minutes and status in (Attendance.Status.LATE, Attendance.Status.LEFT_EARLY):
            minutes = None
    version = request.POST.get("version")
    if not error:
        try:
            services.attendance_record(actor=request.user, booking=b, status=status, minutes=minutes,
                                       version=int(version) if version and version.isdigit() else None,
                                       reason=request.POST.get("reason", ""), request=request)
        except (ValidationError, DomainError) as exc:
            error = _error_text(exc)
    b = Booking.objects.select_related("participant", "attendance").get(pk=b.pk)
    # On an error the box keeps what was typed, not the stored minutes.
    row = {"booking": b, "attendance": getattr(b, "attendance", None),
           "typed": raw if error else None, "error": error}
    ctx = {"session": session, "row": row, "statuses": Attendance.Status.choices,
           "length": session.duration_minutes, "can_record": True}
    if request.headers.get("HX-Request"):
        return render(request, "scheduling/_roster_row.html", ctx, status=200)
    if error:
        messages.error(request, error)
        return _roster_page(request, session, status=400,
                            typed={"booking": b.code, "minutes": raw, "error": error})
    return redirect("scheduling:roster", code=session.code)


@staff_required(Perm.ATTENDANCE_RECORD)
@require_POST
def attendance_all_present(request: HttpRequest, code: UUID) -> HttpResponse:
    session = selectors.get_session_for_user(request.user, code)
    try:
        n = services.attendance_all_present(actor=request.user, session=session, request=request)
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"{n} marked present for the full {session.duration_minutes} minutes.")
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect("scheduling:roster", code=session.code)


@staff_required(Perm.SCHEDULE_PLAN)
@require_POST
def session_cancel(request: HttpRequest, code: UUID) -> HttpResponse:
    session = selectors.get_session_for_user(request.user, code)
    try:
        notices = services.session_cancel(actor=request.user, session=session,
                                          reason=request.POST.get("reason", ""), request=request)
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"Session cancelled; {len(notices)} participant(s) notified in the app "
                                  "with other times they could join.")
    return redirect("scheduling:roster", code=session.code)


# --- compliance and policy ----------------------------------------------------------------

COMPLIANCE_PAGE_SIZE = 50
FLAGS_PAGE_SIZE = 25


@staff_required(Perm.SCHEDULE_VIEW)
@require_GET
def compliance(request: HttpRequest) -> HttpResponse:
    """Who is under the weekly minimum, a page at a time (three queries per page)."""
    org = _org(request)
    tz = selectors.org_tz(org)
    week = _week(request, tz)
    page = Paginator(selectors.compliance_queryset(org, week),
                     COMPLIANCE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.compliance_rows(org, week, list(page.object_list))
    return render(request, "scheduling/compliance.html", {
        "rows": rows, "page": page, "week": week, "prev_week": week - timedelta(days=7),
        "next_week": week + timedelta(days=7), "query_string": f"week={week.isoformat()}",
    })


@staff_required(Perm.SCHEDULE_VIEW)
@require_GET
def attendance_flags(request: HttpRequest) -> HttpResponse:
    """People past their program's attendance policy, a page at a time, each with make-up
    sessions to offer for their last two misses (a fixed number of queries per page)."""
    org = _org(request)
    page = Paginator(selectors.attendance_flags_queryset(org),
                     FLAGS_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.attendance_flag_rows(list(page.object_list))
    options = selectors.makeup_options_for([b for r in rows for b in r.missed[-2:]])
    offers = {r.participant.pk: {b.pk: options[b.pk] for b in r.missed[-2:]} for r in rows}
    return render(request, "scheduling/flags.html", {
        "rows": rows, "offers": offers, "page": page,
        "can_record": has_perm(request.user, Perm.ATTENDANCE_RECORD)})


@staff_required(Perm.ATTENDANCE_RECORD)
@require_POST
def makeup_offer(request: HttpRequest, booking: Any) -> HttpResponse:
    org = _org(request)
    try:
        b = Booking.objects.select_related("participant", "session").get(
            code=booking, session__program__organization=org)
        target = Session.objects.select_related("program").get(
            code=request.POST.get("session", ""), program__organization=org)
    except (Booking.DoesNotExist, Session.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc
    try:
        services.makeup_offer(actor=request.user, booking=b, session=target, request=request)
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"Make-up booked and {b.participant.display_name} notified in the app.")
    return redirect("scheduling:attendance_flags")


# --- the participant's schedule tab -------------------------------------------------------

@staff_required(Perm.SCHEDULE_VIEW)
@require_GET
def participant_schedule(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.SCHEDULE_VIEW)
    ctx = chart_context(request, participant, active_tab="scheduling:participant_schedule")
    tz = selectors.org_tz(participant.organization)
    week = _week(request, tz)
    sessions, booked = selectors.week_sessions(participant.organization, week, participant=participant)
    episode = ctx["episode"]
    minimum = minimum_minutes(episode.program.weekly_hour_minimum) if episode else 0
    hours = selectors.participant_hours(participant, weeks=8, episode=episode)
    this_week = hours[-1] if hours else {}
    spec = {
        "type": "bar",
        # Weeks before admission are labelled so, the week of admission "partial".
        "labels": [f"{h['week']:%b %-d}" + _week_note(h) for h in hours],
        "datasets": [{"label": "Hours attended", "data": [round(h["minutes"] / 60, 1) for h in hours],
                      "color": "#2b6f77"}],
        "y": {"min": 0, "max": max([minimum / 60 + 3] + [h["minutes"] / 60 + 1 for h in hours]),
              "title": "Hours"},
    }
    if minimum:
        spec["threshold"] = {"value": minimum / 60, "label": f"{minimum / 60:g} h minimum"}
    feeds = participant.calendar_feeds.filter(revoked_at__isnull=True)
    can_plan = has_perm(request.user, Perm.SCHEDULE_PLAN)
    enrollment = active_enrollment(episode)
    move_form = (TrackMoveForm(episode=episode, current=enrollment,
                               initial={"start_date": timezone.localtime(timezone.now(), tz).date()})
                 if episode and can_plan else None)
    alt_form = (AlternativeTracksForm(enrollment=enrollment)
                if enrollment is not None and can_plan else None)
    if alt_form is not None and not alt_form.fields["tracks"].choices:
        alt_form = None  # no other active track in the program
    return render(request, "scheduling/participant_schedule.html", ctx | {
        "bookings": selectors.participant_week_bookings(participant, week, tz),
        "now": timezone.now(),
        "can_plan": can_plan, "enrollment": enrollment, "move_form": move_form,
        "alt_form": alt_form,
        "grid": selectors.week_grid(sessions, week, tz, booked), "week": week,
        "prev_week": week - timedelta(days=7), "next_week": week + timedelta(days=7),
        "spec": spec, "hours": hours, "minimum": minimum,
        "notifications": participant.schedule_notifications.prefetch_related("alternatives")[:5],
        "feeds": feeds,
        "this_week": this_week.get("minutes", 0),
        "this_week_minimum": this_week.get("minimum", minimum),
        "this_week_partial": this_week.get("partial", False),
    })


def _week_note(week: dict[str, Any]) -> str:
    if "minimum" not in week:
        return ""
    if week["minimum"] is None:
        return " (before admission)"
    return " (partial week)" if week["partial"] else ""


@staff_required(Perm.SCHEDULE_VIEW)
@require_POST
def participant_feed_create(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.SCHEDULE_VIEW, audit_action=None)
    services.feed_create(actor=request.user, participant=participant, request=request)
    messages.success(request, "A new private calendar link was created. Share it only with the participant.")
    return redirect("scheduling:participant_schedule", code=participant.code)


@staff_required(Perm.SCHEDULE_VIEW)
@require_POST
def participant_feed_revoke(request: HttpRequest, code: UUID, feed_id: int) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.SCHEDULE_VIEW, audit_action=None)
    try:
        feed = participant.calendar_feeds.get(pk=feed_id)
    except CalendarFeed.DoesNotExist as exc:
        raise Http404 from exc
    services.feed_revoke(actor=request.user, feed=feed, request=request)
    messages.success(request, "The calendar link was revoked; calendars using it stop updating.")
    return redirect("scheduling:participant_schedule", code=participant.code)


@staff_required(Perm.SCHEDULE_VIEW)
@require_http_methods(["GET", "POST"])
def my_calendar(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if request.POST.get("revoke"):
            try:
                feed = request.user.calendar_feeds.get(pk=request.POST["revoke"])
            except (CalendarFeed.DoesNotExist, ValueError) as exc:
                raise Http404 from exc
            services.feed_revoke(actor=request.user, feed=feed, request=request)
            messages.success(request, "Link revoked.")
        else:
            services.feed_create(actor=request.user, user=request.user, request=request)
            messages.success(request, "A new private calendar link was created.")
        return redirect("scheduling:my_calendar")
    return render(request, "scheduling/my_calendar.html", {
        "feeds": request.user.calendar_feeds.filter(revoked_at__isnull=True)})


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The public iCalendar feed: anyone with the secret URL, until it is revoked or its
    staff member is deactivated; then 410 Gone, so calendar apps stop asking."""
    try:
        f = CalendarFeed.objects.select_related("participant__organization", "user__staff_profile__organization").get(
            token=token)
    except CalendarFeed.DoesNotExist as exc:
        raise Http404 from exc
    if f.revoked_at is not None or (f.user_id and not (
            f.user.is_active and getattr(f.user, "staff_profile", None) is not None
            and f.user.staff_profile.is_active)):
        return HttpResponse("This calendar link was turned off.", status=410,
                            content_type="text/plain; charset=utf-8")
    start, end = feed_window()
    qs = Session.objects.filter(starts_at__gte=start, starts_at__lt=end).select_related("site", "room")
    if f.participant_id:
        org = f.participant.organization
        qs = qs.filter(bookings__participant=f.participant, bookings__status=Booking.Status.BOOKED)
        name = "My program schedule"
    else:
        org = f.user.staff_profile.organization
        qs = qs.filter(Q(facilitator=f.user)).exclude(status=Session.Status.CANCELLED)
        name = "My clinic schedule"
    body = build_calendar(qs.order_by("starts_at").distinct(), name=name, tz=org.zone)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


@staff_required(Perm.SCHEDULE_VIEW)
@require_POST
def notification_read(request: HttpRequest, code: UUID) -> HttpResponse:
    try:
        n = Notification.objects.get(code=code, participant__organization=_org(request))
    except Notification.DoesNotExist as exc:
        raise Http404 from exc
    n.read_at = n.read_at or timezone.now()
    n.save(update_fields=["read_at"])
    return redirect("scheduling:participant_schedule", code=n.participant.code)
