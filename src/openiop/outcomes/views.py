"""Outcome pages: the participant's Measures tab, recording a measure, program dashboard."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from openiop.accounts.permissions import Perm
from openiop.core.decorators import staff_required
from openiop.core.forms import submit
from openiop.intake.forms import InstrumentForm
from openiop.intake.instruments import INSTRUMENTS
from openiop.intake.measures import measure_record
from openiop.intake.models import MeasureResponse, SafetyTask
from openiop.intake.safety import CRISIS_LINE
from openiop.participants.selectors import get_participant_for_user
from openiop.participants.views import chart_context

from .selectors import RULE_SOURCES, participant_charts, program_dashboard, referral_funnel


@staff_required(Perm.CLINICAL_VIEW)
def participant_measures(request: HttpRequest, code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.CLINICAL_VIEW)
    context = chart_context(request, participant, active_tab="outcomes:participant_measures")
    context |= {
        "charts": participant_charts(participant),
        "responses": MeasureResponse.objects.filter(participant=participant)
        .order_by("-completed_at")[:50],
        "instruments": [INSTRUMENTS[c] for c in INSTRUMENTS],
        "tasks": SafetyTask.objects.filter(participant=participant,
                                           status=SafetyTask.Status.OPEN),
        "sources": RULE_SOURCES,
    }
    return render(request, "outcomes/participant_measures.html", context)


@staff_required(Perm.CLINICAL_WRITE)
@require_http_methods(["GET", "POST"])
def record_measure(request: HttpRequest, code: str, instrument: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.CLINICAL_WRITE)
    if instrument not in INSTRUMENTS:
        raise Http404
    form = InstrumentForm(instrument, request.POST or None, confirm_contradictions=True)
    context_choice = request.POST.get("context", "weekly")
    saved = submit(form, lambda data: measure_record(
        actor=request.user, participant=participant, instrument=instrument,
        answers=form.answers(), sex=data.get("sex") or None, context=context_choice,
        request=request)) if request.method == "POST" else None
    if saved is not None:
        response = saved.result
        if response.safety_flag:
            messages.error(request, "Safety flag: an urgent task was opened for the care "
                           "team. Give the person the crisis line: " + CRISIS_LINE["text"])
        else:
            messages.success(request, f"{form.instrument.name} recorded: "
                             f"{response.total if response.total is not None else ''} "
                             f"{response.band}.")
        return redirect("outcomes:participant_measures", code=participant.code)
    context = chart_context(request, participant, active_tab="outcomes:participant_measures")
    context |= {"form": form, "instrument": form.instrument, "context_choice": context_choice,
                "contexts": MeasureResponse.Context.choices}
    return render(request, "outcomes/record_form.html", context,
                  status=400 if form.errors else 200)


@staff_required(Perm.REPORTS_VIEW)
def index(request: HttpRequest) -> HttpResponse:
    org_id = request.user.staff_organization_id
    return render(request, "outcomes/index.html", {
        "programs": program_dashboard(org_id),
        "funnel": referral_funnel(org_id),
        "sources": RULE_SOURCES,
    })
