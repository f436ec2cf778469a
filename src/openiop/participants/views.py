"""Staff pages for participants: list, chart overview, create and edit."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_list_view
from openiop.audit.vocabulary import ObjectType
from openiop.care.models import Program
from openiop.core.decorators import staff_required
from openiop.core.forms import submit

from . import services
from .forms import AvailabilityForm, ParticipantFilterForm, ParticipantForm, RelatedPersonForm
from .selectors import current_episode, get_participant_for_user, participant_list

PAGE_SIZE = 25


@staff_required(Perm.PARTICIPANT_VIEW)
def participant_list_view(request: HttpRequest) -> HttpResponse:
    org_id = request.user.staff_organization_id
    programs = [(str(p.code), p.name) for p in Program.objects.filter(organization_id=org_id)]
    form = ParticipantFilterForm(request.GET or None, programs=programs)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = participant_list(
        user=request.user,
        query=filters.get("q", ""),
        program_code=filters.get("program", ""),
        level_of_care=filters.get("level", ""),
        status=filters.get("status", ""),
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query_string = request.GET.copy()
    query_string.pop("page", None)
    context = {"form": form, "page": page, "query_string": query_string.urlencode(),
               # The same check as participant_create's decorator.
               "can_create": has_perm(request.user, Perm.PARTICIPANT_CREATE)}
    audit_list_view(request=request, object_type=ObjectType.PARTICIPANT_LIST)
    template = (
        "participants/_list_results.html" if request.htmx else "participants/list.html"
    )
    return render(request, template, context)


@staff_required(Perm.PARTICIPANT_VIEW)
def participant_chart(request: HttpRequest, code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request)
    return _render_overview(request, participant)


def _render_overview(
    request: HttpRequest,
    participant: object,
    *,
    availability_form: AvailabilityForm | None = None,
    related_form: RelatedPersonForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The chart's overview tab; a form with errors is shown again with what was typed.

    Edit links and forms are shown only to users who may follow them.
    """
    from openiop.core.chart import overview_panels

    context = chart_context(request, participant, active_tab="participants:chart")
    return render(
        request,
        "participants/chart_overview.html",
        context
        | {
            # The same check as participant_edit's decorator.
            "can_edit": has_perm(request.user, Perm.PARTICIPANT_EDIT),
            "panels": overview_panels(request, participant, context["episode"]),
            "availability": participant.availability.all(),
            "related_people": participant.related_people.all(),
            "availability_form": availability_form or AvailabilityForm(),
            "related_form": related_form or RelatedPersonForm(),
        },
        status=status,
    )


def chart_context(request: HttpRequest, participant: object, *, active_tab: str) -> dict:
    """Context for any chart tab: the header (name, age, program, level, flags) and tabs.

    Apps that add a chart tab render a template extending participants/chart_base.html
    with this context.
    """
    from openiop.core.chart import chart_flags, chart_tabs

    episode = current_episode(participant)
    return {
        "participant": participant,
        "episode": episode,
        "flags": chart_flags(participant, episode, request.user),
        "tabs": chart_tabs(request.user, participant, active_tab),
    }


@staff_required(Perm.PARTICIPANT_CREATE)
@require_http_methods(["GET", "POST"])
def participant_create(request: HttpRequest) -> HttpResponse:
    organization = request.user.staff_profile.organization
    form = ParticipantForm(request.POST or None, organization_id=organization.pk)
    saved = submit(form, lambda data: services.participant_create(
        actor=request.user, organization=organization, data=data, request=request,
    )) if request.method == "POST" else None
    if saved is not None:
        participant = saved.result
        messages.success(request, f"{participant.display_name} was added.")
        return redirect("participants:chart", code=participant.code)
    return render(request, "participants/form.html", {"form": form, "creating": True})


@staff_required(Perm.PARTICIPANT_EDIT)
@require_http_methods(["GET", "POST"])
def participant_edit(request: HttpRequest, code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.PARTICIPANT_EDIT)
    if request.method == "POST":
        form = ParticipantForm(request.POST, instance=participant)
        if submit(form, lambda data: services.participant_update(
                actor=request.user, participant=participant, data=data,
                version=data.get("version") or 0, request=request)):
            messages.success(request, "Changes saved.")
            return redirect("participants:chart", code=participant.code)
    else:
        form = ParticipantForm(instance=participant, initial={"version": participant.version})
    return render(
        request, "participants/form.html",
        {"form": form, "participant": participant, "creating": False},
    )


@staff_required(Perm.PARTICIPANT_EDIT)
@require_POST
def availability_add(request: HttpRequest, code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.PARTICIPANT_EDIT, audit_action=None)
    form = AvailabilityForm(request.POST)
    submit(form, lambda data: services.availability_add(
        actor=request.user, participant=participant, data=data, request=request))
    context = {
        "participant": participant,
        "availability": participant.availability.all(),
        "availability_form": form if form.errors else AvailabilityForm(),
        "can_edit": True,  # this view required PARTICIPANT_EDIT
    }
    if request.htmx:
        return render(request, "participants/_availability.html", context)
    if form.errors:
        messages.error(request, "The availability window was not saved: see the form below.")
        return _render_overview(request, participant, availability_form=form)
    messages.success(request, "Availability window added.")
    return redirect("participants:chart", code=participant.code)


@staff_required(Perm.PARTICIPANT_EDIT)
@require_POST
def availability_remove(request: HttpRequest, code: str, window_id: int) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.PARTICIPANT_EDIT, audit_action=None)
    window = participant.availability.filter(pk=window_id).first()
    if window is None:
        raise Http404
    services.availability_remove(actor=request.user, window=window, request=request)
    if request.htmx:
        return render(request, "participants/_availability.html", {
            "participant": participant, "availability": participant.availability.all(),
            "availability_form": AvailabilityForm(), "can_edit": True})
    return redirect("participants:chart", code=participant.code)


@staff_required(Perm.PARTICIPANT_EDIT)
@require_POST
def related_person_add(request: HttpRequest, code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.PARTICIPANT_EDIT, audit_action=None)
    form = RelatedPersonForm(request.POST)
    submit(form, lambda data: services.related_person_add(
        actor=request.user, participant=participant, data=data, request=request))
    if form.errors:
        messages.error(request, "The contact was not saved: see the form below.")
        return _render_overview(request, participant, related_form=form)
    messages.success(request, "Contact added.")
    return redirect("participants:chart", code=participant.code)
