"""Intake pages: the referral queue, one referral's workflow, safety tasks, self-check."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_list_view
from openiop.audit.vocabulary import ObjectType
from openiop.care.models import EpisodeOfCare
from openiop.care.services import TrackFull, episode_admit
from openiop.core.decorators import staff_required
from openiop.core.forms import submit

from . import services
from .decisions import open_urgent_tasks
from .forms import (
    AdmitForm,
    AssessmentForm,
    CloseReferralForm,
    InstrumentForm,
    ReferralForm,
    StartScreeningForm,
)
from .instruments import INSTRUMENTS
from .models import MeasureResponse, Referral, SafetyTask
from .safety import CRISIS_LINE
from .selectors import (
    OPEN_REFERRALS,
    get_referral_for_user,
    open_safety_tasks,
    referral_queue,
    referral_status_counts,
)

STEPS = (
    ("new", "Received", "received_at"),
    ("screening", "Screening", "screening_at"),
    ("assessment", "Assessment", "assessment_at"),
)


@staff_required(Perm.INTAKE_MANAGE)
def referral_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", OPEN_REFERRALS)
    if status not in (OPEN_REFERRALS, "", *Referral.Status.values):
        status = OPEN_REFERRALS
    counts = referral_status_counts(user=request.user)
    counts[OPEN_REFERRALS] = sum(counts[s] for s in Referral.OPEN_STATUSES)
    page = Paginator(referral_queue(user=request.user, status=status), 25).get_page(
        request.GET.get("page"))
    filters = [(OPEN_REFERRALS, "Open"), *list(Referral.Status.choices), ("", "All")]
    audit_list_view(request=request, object_type=ObjectType.REFERRAL_LIST)
    return render(request, "intake/referral_list.html", {
        "page": page, "status": status, "counts": counts, "filters": filters,
        "tasks": open_safety_tasks(user=request.user)[:20],
        "can_hold_tasks": has_perm(request.user, Perm.CLINICAL_WRITE),
        "query_string": f"status={status}",
    })


@staff_required(Perm.INTAKE_MANAGE)
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest) -> HttpResponse:
    org_id = request.user.staff_organization_id
    form = ReferralForm(request.POST or None, organization_id=org_id)
    saved = submit(form, lambda data: services.referral_create(
        actor=request.user, organization=request.user.staff_profile.organization,
        source=data["source"], name=data["name"], phone=data["phone"], email=data["email"],
        reason=data["reason"], program=data["program"], date_of_birth=data["date_of_birth"],
        referrer_name=data["referrer_name"], urgent=data["urgent"], request=request,
    )) if request.method == "POST" else None
    if saved is not None:
        messages.success(request, "Referral added to the queue.")
        return redirect("intake:referral", ref=saved.result.code)
    return render(request, "intake/referral_form.html", {"form": form})


def _detail(request: HttpRequest, referral: Referral, *, status: int = 200,
            **forms: Any) -> HttpResponse:
    org_id = request.user.staff_organization_id
    screens = []
    if referral.participant_id:
        screens = list(MeasureResponse.objects.filter(
            participant_id=referral.participant_id, context=MeasureResponse.Context.INTAKE,
        ).order_by("completed_at"))
    assessment = referral.assessments.select_related("assessed_by", "decided_by").first()
    admit_initial = {}
    if assessment is not None:
        admit_initial["level_of_care"] = assessment.decided_level
        admit_initial["authorized_level_of_care"] = ""
    if referral.program_id:
        admit_initial["program"] = referral.program_id
    steps = [(label, getattr(referral, attr)) for _, label, attr in STEPS]
    if referral.waitlisted_at:
        steps.append(("Waitlisted", referral.waitlisted_at))
    steps.append((referral.get_status_display() if not referral.is_open else "Outcome",
                  referral.closed_at))
    context = {
        "referral": referral,
        "steps": steps,
        "screens": screens,
        "safety": any(s.safety_flag for s in screens),
        "crisis": CRISIS_LINE,
        "instruments": [INSTRUMENTS[c] for c in INSTRUMENTS],
        "assessment": assessment,
        "start_form": forms.get("start_form") or StartScreeningForm(initial={
            "date_of_birth": referral.date_of_birth, "version": referral.version}),
        "assess_form": forms.get("assess_form") or AssessmentForm(initial=_last_ratings(assessment)),
        "admit_form": forms.get("admit_form") or AdmitForm(
            organization_id=org_id, initial=admit_initial),
        "close_form": forms.get("close_form") or CloseReferralForm(
            initial={"version": referral.version}),
        "track_full": forms.get("track_full"),
        "close_confirm": forms.get("close_confirm", ""),
        "tasks": referral.safety_tasks.filter(status=SafetyTask.Status.OPEN),
        "open_tasks": open_urgent_tasks(referral.participant),
    }
    return render(request, "intake/referral_detail.html", context, status=status)


def _last_ratings(assessment: Any) -> dict[str, Any]:
    """Start a reassessment from the last ratings."""
    if assessment is None:
        return {}
    fields = ("withdrawal", "biomedical", "emotional", "readiness", "relapse", "environment",
              "hours_available")
    return {f: getattr(assessment, f) for f in fields}


@staff_required(Perm.INTAKE_MANAGE)
def referral_detail(request: HttpRequest, ref: str) -> HttpResponse:
    return _detail(request, get_referral_for_user(request.user, ref, request=request))


@staff_required(Perm.INTAKE_MANAGE)
@require_POST
def referral_start_screening(request: HttpRequest, ref: str) -> HttpResponse:
    referral = get_referral_for_user(request.user, ref, request=request)
    form = StartScreeningForm(request.POST)
    if submit(form, lambda data: services.referral_start_screening(
            actor=request.user, referral=referral, date_of_birth=data["date_of_birth"],
            version=data["version"], request=request)):
        messages.success(request, "Screening started; the person's record is open.")
        return redirect("intake:referral", ref=referral.code)
    return _detail(request, referral, start_form=form, status=400)


@staff_required(Perm.INTAKE_MANAGE)
@require_http_methods(["GET", "POST"])
def referral_screen(request: HttpRequest, ref: str, instrument: str) -> HttpResponse:
    referral = get_referral_for_user(request.user, ref, request=request)
    if instrument not in INSTRUMENTS:
        raise Http404
    form = InstrumentForm(instrument, request.POST or None, confirm_contradictions=True)
    saved = submit(form, lambda data: services.referral_record_screen(
        actor=request.user, referral=referral, instrument=instrument, answers=form.answers(),
        sex=data.get("sex") or None, request=request)) if request.method == "POST" else None
    if saved is not None:
        response = saved.result
        if getattr(response, "was_duplicate", False):
            messages.info(request, f"{form.instrument.name} with these answers was already "
                          f"recorded at {timezone.localtime(response.completed_at):%-I:%M %p}"
                          "; it was not added again.")
        elif response.safety_flag:
            messages.error(request, "Safety flag: an urgent task was sent to the care team. "
                           "Tell the person: " + CRISIS_LINE["text"])
        else:
            messages.success(request, f"{form.instrument.name} recorded.")
        return redirect("intake:referral", ref=referral.code)
    return render(request, "intake/screen_form.html", {
        "referral": referral, "form": form, "instrument": form.instrument,
        "action": request.path, "back": referral,
    }, status=400 if form.errors else 200)


@staff_required(Perm.ADMIT)
@require_POST
def referral_assess(request: HttpRequest, ref: str) -> HttpResponse:
    referral = get_referral_for_user(request.user, ref, request=request)
    form = AssessmentForm(request.POST)
    if submit(form, lambda data: services.referral_assess(
            actor=request.user, referral=referral, dimensions=form.dimensions(),
            hours_available=data["hours_available"],
            decided_level=data["decided_level"] or None,
            override_reason=data["override_reason"], request=request)):
        messages.success(request, "Level-of-care recommendation recorded.")
        return redirect(f"{referral_url(referral)}#recommendation")
    return _detail(request, referral, assess_form=form, status=400)


def referral_url(referral: Referral) -> str:
    from django.urls import reverse

    return reverse("intake:referral", kwargs={"ref": referral.code})


@staff_required(Perm.ADMIT)
@require_POST
def referral_admit(request: HttpRequest, ref: str) -> HttpResponse:
    referral = get_referral_for_user(request.user, ref, request=request)
    form = AdmitForm(request.POST, organization_id=request.user.staff_organization_id)
    track_full = None
    if referral.participant is None:
        form.add_error(None, "Start screening first: admission needs the person's record.")
    else:
        try:
            saved = submit(form, lambda data: episode_admit(
                actor=request.user, participant=referral.participant, program=data["program"],
                track=data["track"], level_of_care=data["level_of_care"],
                authorized_level_of_care=data["authorized_level_of_care"],
                admitted_on=data["admitted_on"], primary_therapist=data["primary_therapist"],
                prescriber=data["prescriber"], case_manager=data["case_manager"],
                referral=referral, waitlist=data["waitlist"],
                admission_exception=data["admission_exception"],
                safety_decision=data["safety_decision"], request=request), reraise=(TrackFull,))
        except TrackFull as exc:  # the page offers the track's waitlist
            track_full, saved = exc, None
            form.add_error("track", exc.message)
        if saved is not None:
            data = form.cleaned_data
            if saved.result.status == EpisodeOfCare.Status.WAITLIST:
                messages.info(request, f"{referral.participant.display_name} is waitlisted in "
                              f"{data['program'].name} ({data['track'].name}).")
            else:
                messages.success(request, f"{referral.participant.display_name} was admitted "
                                 f"to {data['program'].name}.")
            return redirect("care:participant_care", code=referral.participant.code)
    return _detail(request, referral, admit_form=form, track_full=track_full, status=400)


@staff_required(Perm.INTAKE_MANAGE)
@require_POST
def referral_close(request: HttpRequest, ref: str) -> HttpResponse:
    referral = get_referral_for_user(request.user, ref, request=request)
    form = CloseReferralForm(request.POST)
    if form.is_valid() and not form.cleaned_data["confirmed"]:
        outcome = dict(form.fields["status"].choices)[form.cleaned_data["status"]]
        return _detail(request, referral, close_form=form, close_confirm=outcome)
    if submit(form, lambda data: services.referral_close(
            actor=request.user, referral=referral, status=data["status"], note=data["note"],
            referred_to=data["referred_to"], version=data["version"], request=request)):
        messages.success(request, f"Referral closed: {referral.get_status_display()}.")
        return redirect("intake:referral", ref=referral.code)
    return _detail(request, referral, close_form=form, status=400)

