"""Program and track pages; the participant's Care tab (episodes, level changes, discharge)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm, has_perm
from openiop.core.decorators import staff_required
from openiop.core.exceptions import DomainError
from openiop.core.forms import apply_validation_error, submit
from openiop.participants.selectors import get_participant_for_user
from openiop.participants.views import chart_context

from . import services
from .forms import (
    AuthorizedLevelForm,
    ConfirmLevelForm,
    DischargeForm,
    FamilyTherapistForm,
    FromWaitlistForm,
    LevelChangeForm,
)
from .gates import intake_desk
from .levels import LEVEL_ORDER
from .models import EpisodeOfCare
from .selectors import episode_timeline, programs_for_org, tracks_with_openings

if TYPE_CHECKING:
    from openiop.participants.models import Participant


@staff_required(Perm.PARTICIPANT_VIEW)
def program_list(request: HttpRequest) -> HttpResponse:
    org_id = request.user.staff_organization_id
    tracks = list(tracks_with_openings(organization_id=org_id))
    programs = list(programs_for_org(org_id))
    for program in programs:
        program.track_rows = [t for t in tracks if t.program_id == program.pk]
        for t in program.track_rows:
            t.openings = max(t.capacity - t.enrolled, 0)
    return render(request, "care/program_list.html", {
        "programs": programs, "can_manage": has_perm(request.user, Perm.PROGRAM_MANAGE)})


def _episode(participant: Participant, code: str) -> EpisodeOfCare:
    episode = participant.episodes.filter(code=code).select_related("program").first()
    if episode is None:
        raise Http404
    return episode


def _render(request: HttpRequest, participant: Participant, *, status: int = 200,
            **forms: Any) -> HttpResponse:
    desk = intake_desk()
    org_id = request.user.staff_organization_id
    context = chart_context(request, participant, active_tab="care:participant_care")
    episodes = episode_timeline(participant)
    current = context["episode"]
    context |= {
        "open_tasks": desk.open_urgent_tasks(participant),
        "proposals": desk.proposals(participant),
        "may_decide": request.user.may_decide_level_of_care,
        "waitlist_form": forms.get("waitlist_form") or FromWaitlistForm(),
        "confirm_form": forms.get("confirm_form") or ConfirmLevelForm(),
        "confirm_target": forms.get("confirm_target"),
        "episodes": episodes,
        "level_form": forms.get("level_form") or LevelChangeForm(
            organization_id=org_id, initial={"version": current.version if current else 0}),
        "auth_form": forms.get("auth_form") or AuthorizedLevelForm(initial={
            "version": current.version if current else 0,
            "authorized_level_of_care": current.authorized_level_of_care if current else ""}),
        "discharge_form": forms.get("discharge_form") or DischargeForm(),
        "family_form": forms.get("family_form") or FamilyTherapistForm(
            organization_id=org_id, initial={
                "version": current.version if current else 0,
                "family_therapist": current.family_therapist_id if current else None}),
        "level_chart": _level_chart(episodes),
        "may_admit": request.user.role in ("admin", "director", "clinician", "prescriber",
                                           "nurse", "intake"),
    }
    return render(request, "care/participant_care.html", context, status=status)


def _level_chart(episodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A stepped line: the clinical level (and the authorized one) over each episode."""
    labels: list[str] = []
    clinical: list[int | None] = []
    for ep in reversed(episodes):
        for point in ep["levels"]:
            labels.append(point["on"].strftime("%b %-d, %Y"))
            clinical.append(LEVEL_ORDER.index(point["level"]) + 1 if point["level"] else None)
    if len(labels) < 2:
        return None
    return {
        "type": "line", "labels": labels,
        "datasets": [{"label": "Clinical level of care", "data": clinical, "stepped": True}],
        "y": {"min": 0, "max": 5.5, "title": "1 OP · 2 IOP · 3 PHP · 4 RES · 5 INP"},
    }


@staff_required(Perm.PARTICIPANT_VIEW)
def participant_care(request: HttpRequest, code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request)
    return _render(request, participant)


def _participant_for_write(request: HttpRequest, code: str) -> Any:
    return get_participant_for_user(request.user, code, request=request, perm=Perm.ADMIT,
                                    audit_action=None)


@staff_required(Perm.ADMIT)
@require_POST
def episode_level(request: HttpRequest, code: str, episode: str) -> HttpResponse:
    participant = _participant_for_write(request, code)
    ep = _episode(participant, episode)
    form = LevelChangeForm(request.POST, organization_id=request.user.staff_organization_id)
    saved = submit(form, lambda data: services.episode_change_level(
        actor=request.user, episode=ep, to_level=data["to_level"],
        effective_on=data["effective_on"], reason=data["reason"],
        criteria_met=form.criteria(), to_track=data["to_track"], version=data["version"],
        safety_decision=data["safety_decision"], request=request))
    if saved is not None:
        change = saved.result
        messages.success(request, f"{change.get_direction_display()} recorded: "
                         f"{change.from_level} to {change.to_level}.")
        return redirect("care:participant_care", code=participant.code)
    if form.non_field_errors() and ep.status != EpisodeOfCare.Status.ACTIVE:
        # The form is hidden once the episode is no longer active.
        messages.error(request, " ".join(form.non_field_errors()))
    return _render(request, participant, level_form=form, status=400)


@staff_required(Perm.ADMIT)
@require_POST
def episode_authorized(request: HttpRequest, code: str, episode: str) -> HttpResponse:
    participant = _participant_for_write(request, code)
    ep = _episode(participant, episode)
    form = AuthorizedLevelForm(request.POST)
    if submit(form, lambda data: services.episode_set_authorized_level(
            actor=request.user, episode=ep, level=data["authorized_level_of_care"],
            version=data["version"], request=request)):
        messages.success(request, "Authorized level saved.")
        return redirect("care:participant_care", code=participant.code)
    return _render(request, participant, auth_form=form, status=400)


@staff_required(Perm.ADMIT)
@require_POST
def episode_family_therapist(request: HttpRequest, code: str, episode: str) -> HttpResponse:
    participant = _participant_for_write(request, code)
    ep = _episode(participant, episode)
    form = FamilyTherapistForm(request.POST, organization_id=request.user.staff_organization_id)
    if submit(form, lambda data: services.episode_set_family_therapist(
            actor=request.user, episode=ep, family_therapist=data["family_therapist"],
            version=data["version"], request=request)):
        messages.success(request, "Family therapist saved.")
        return redirect("care:participant_care", code=participant.code)
    return _render(request, participant, family_form=form, status=400)


@staff_required(Perm.ADMIT)
@require_POST
def episode_discharge(request: HttpRequest, code: str, episode: str) -> HttpResponse:
    participant = _participant_for_write(request, code)
    ep = _episode(participant, episode)
    form = DischargeForm(request.POST)
    if submit(form, lambda data: services.episode_discharge(
            actor=request.user, episode=ep, request=request, **data)):
        messages.success(request, f"{participant.display_name} was discharged.")
        return redirect("care:participant_care", code=participant.code)
    if form.non_field_errors():
        # The form is hidden once the episode closed.
        messages.error(request, " ".join(form.non_field_errors()))
    return _render(request, participant, discharge_form=form, status=400)


@staff_required(Perm.ADMIT)
@require_POST
def episode_from_waitlist(request: HttpRequest, code: str, episode: str) -> HttpResponse:
    participant = _participant_for_write(request, code)
    ep = _episode(participant, episode)
    form = FromWaitlistForm(request.POST)
    form.is_valid()
    try:
        services.waitlist_admit(actor=request.user, episode=ep, request=request,
                                safety_decision=form.cleaned_data.get("safety_decision", ""))
    except ValidationError as exc:
        apply_validation_error(form, exc)
        return _render(request, participant, waitlist_form=form, status=400)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Admitted from the waitlist.")
    return redirect("care:participant_care", code=participant.code)


@staff_required(Perm.ADMIT)
@require_POST
def loc_confirm(request: HttpRequest, code: str, assessment: str) -> HttpResponse:
    """A licensed clinician confirms a proposed level of care (or decides another)."""
    desk = intake_desk()
    participant = _participant_for_write(request, code)
    target = desk.proposal(participant, assessment)
    if target is None:
        raise Http404
    form = ConfirmLevelForm(request.POST)
    if submit(form, lambda data: desk.confirm_proposal(
            actor=request.user, assessment=target, decided_level=data["decided_level"] or None,
            override_reason=data["override_reason"], request=request)):
        messages.success(request, "Level of care decided.")
        return redirect("care:participant_care", code=participant.code)
    return _render(request, participant, confirm_form=form, confirm_target=target, status=400)


@staff_required(Perm.PROGRAM_MANAGE)
def program_settings(request: HttpRequest, code: str) -> HttpResponse:
    """Every setting of one program with its value and where it comes from (the default or
    set by the program); stored values that are not valid are listed for correction."""
    from .forms import ProgramSettingsForm, _shown
    from .models import Program
    from .program_settings import _leaves, leaf_fields, resolve

    program = (Program.objects.filter(code=code,
                                      organization_id=request.user.staff_organization_id)
               .select_related("organization").first())
    if program is None:
        raise Http404
    status = 200
    if request.method == "POST":
        form = ProgramSettingsForm(request.POST, stored=program.settings)
        # values() reads the typed settings and adds an error beside any it refuses.
        values = form.values() if form.is_valid() else {}
        if submit(form, lambda data: services.program_settings_update(
                actor=request.user, program=program, values=values, request=request)):
            messages.success(request, f"Settings of {program.name} saved.")
            return redirect("care:program_settings", code=program.code)
        status = 400
    else:
        form = ProgramSettingsForm(stored=program.settings)
    resolved = resolve(program.settings)
    current = _leaves(resolved.settings.model_dump(mode="json"))
    rows = [{"path": path, "title": info.title or path, "value": _shown(current.get(path)),
             "source": resolved.sources.get(path, "default"),
             "field": form[path.replace(".", "__")]}
            for path, info in leaf_fields()]
    return render(request, "care/program_settings.html", {
        "program": program, "form": form, "rows": rows, "problems": resolved.problems,
    }, status=status)
