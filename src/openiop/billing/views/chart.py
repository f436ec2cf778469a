"""Chart tabs: Diagnoses (clinical staff and billing) and Billing (coverage, authorizations,
charges, claims, the participant's estimate and statement)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.decorators import staff_required
from openiop.core.exceptions import DomainError
from openiop.core.forms import submit
from openiop.participants.selectors import current_episode, get_participant_for_user
from openiop.participants.views import chart_context

from .. import forms, icd10, reports, selectors, services
from ..models import Authorization, Charge, Claim, Coverage, Diagnosis, FinancialProfile

if TYPE_CHECKING:
    from uuid import UUID

    from openiop.participants.models import Participant

DX_TAB = "billing:participant_diagnoses"
BILLING_TAB = "billing:participant_billing"
CHARGES_SHOWN = 60


def _dx_participant(request: HttpRequest, code: UUID | str, *, audit: bool = True) -> Any:
    if not selectors.may_view_diagnoses(request.user):
        raise Http404
    return get_participant_for_user(request.user, code, request=request,
                                    audit_action=Action.VIEW if audit else None,
                                    object_type=ObjectType.DIAGNOSES)


def _billing_participant(request: HttpRequest, code: UUID | str, *, audit: bool = True) -> Any:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.BILLING_VIEW,
                                           audit_action=Action.VIEW if audit else None,
                                           object_type=ObjectType.BILLING)
    if not selectors.may_read_billing(request.user, participant):
        raise Http404
    return participant


def _render_diagnoses(request: HttpRequest, participant: Participant, form: forms.DiagnosisForm | None = None,
                      *, status: int = 200) -> HttpResponse:
    context = chart_context(request, participant, active_tab=DX_TAB) | {
        "diagnoses": selectors.diagnoses_for(participant, include_inactive=True),
        "form": form or forms.DiagnosisForm(),
        "can_write": has_perm(request.user, Perm.CLINICAL_WRITE),
        "code_set_version": icd10.CODE_SET_VERSION,
        "query": request.GET.get("q", "")[:100],
        "results": _search(request.GET.get("q", "")[:100]),
    }
    return render(request, "billing/participant_diagnoses.html", context, status=status)


@staff_required()
@require_http_methods(["GET", "POST"])
def participant_diagnoses(request: HttpRequest, code: UUID) -> HttpResponse:
    if request.method == "GET":
        return _render_diagnoses(request, _dx_participant(request, code))
    participant = _dx_participant(request, code, audit=False)
    form = forms.DiagnosisForm(request.POST)
    saved = submit(form, lambda data: services.diagnosis_add(
        actor=request.user, participant=participant, request=request, **data))
    if saved is not None:
        messages.success(request, f"{saved.result.icd_code} added.")
        return redirect(DX_TAB, code=participant.code)
    return _render_diagnoses(request, participant, form, status=400)


def _diagnosis_change(request: HttpRequest, code: UUID | str, dx_code: UUID | str, change: Any) -> HttpResponse:
    """Run `change(dx, data)` on the participant's diagnosis; a refusal is a message."""
    participant = _dx_participant(request, code, audit=False)
    dx = get_object_or_404(Diagnosis, participant=participant, code=dx_code)
    form = forms.DiagnosisChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not changed: " + " ".join(
            f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
        return redirect(DX_TAB, code=participant.code)
    try:
        change(dx, form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{dx.icd_code} updated.")
    return redirect(DX_TAB, code=participant.code)


@staff_required()
@require_POST
def diagnosis_principal(request: HttpRequest, code: UUID, dx_code: UUID) -> HttpResponse:
    return _diagnosis_change(request, code, dx_code, lambda dx, data: (
        services.diagnosis_make_principal(actor=request.user, diagnosis=dx,
                                          version=data["version"], request=request)))


@staff_required()
@require_POST
def diagnosis_resolve(request: HttpRequest, code: UUID, dx_code: UUID) -> HttpResponse:
    return _diagnosis_change(request, code, dx_code, lambda dx, data: services.diagnosis_resolve(
        actor=request.user, diagnosis=dx, resolved_on=data.get("resolved_on"),
        version=data["version"], request=request))


@staff_required()
@require_POST
def diagnosis_entered_in_error(request: HttpRequest, code: UUID, dx_code: UUID) -> HttpResponse:
    return _diagnosis_change(request, code, dx_code, lambda dx, data: services.diagnosis_resolve(
        actor=request.user, diagnosis=dx, resolved_on=data.get("resolved_on"),
        version=data["version"], entered_in_error=True, request=request))


@staff_required()
@require_GET
def icd_search(request: HttpRequest) -> HttpResponse:
    """The code picker's results (an htmx fragment; without htmx, the Diagnoses tab with
    the results). Codes or words, billable codes first."""
    if not selectors.may_view_diagnoses(request.user):
        raise Http404
    query = request.GET.get("q", "")[:100]
    participant = None
    if request.GET.get("participant"):
        participant = _dx_participant(request, request.GET["participant"], audit=False)
        if not request.htmx:
            from django.http import QueryDict

            params = QueryDict(mutable=True)
            params["q"] = query
            return redirect(f"{reverse(DX_TAB, kwargs={'code': participant.code})}?"
                            f"{params.urlencode()}")
    return render(request, "billing/_icd_results.html", {
        "results": _search(query), "query": query, "participant": participant,
        "can_write": has_perm(request.user, Perm.CLINICAL_WRITE)})


def _search(query: str) -> list[icd10.IcdCode]:
    return icd10.search(query, limit=25) if len(query.strip()) >= 2 else []


def _render_billing(request: HttpRequest, participant: Participant, **forms_: Any) -> HttpResponse:
    status = forms_.pop("status", 200)
    episode = current_episode(participant)
    coverages = selectors.coverages_for(participant)
    auths = list(Authorization.objects.filter(coverage__participant=participant)
                 .select_related("coverage__participant", "coverage__payer")
                 .order_by("-starts_on", "pk"))
    can_manage = has_perm(request.user, Perm.BILLING_MANAGE)
    context = chart_context(request, participant, active_tab=BILLING_TAB) | {
        "coverages": coverages,
        "authorizations": selectors.authorizations_with_usage(auths),
        "warnings": selectors.authorization_warnings(
            organization_id=participant.organization_id, participant=participant),
        "charges": list(Charge.objects.filter(participant=participant)
                        .select_related("coverage__payer").order_by("-service_date", "pk")
                        [:CHARGES_SHOWN]),
        "claims": list(Claim.objects.filter(participant=participant)
                       .select_related("coverage__payer").order_by("-period_end", "pk")),
        "estimate": reports.cost_estimate(participant, episode),
        "profile": FinancialProfile.objects.filter(participant=participant).first(),
        "can_manage": can_manage,
        # The review packet carries clinical facts: only roles with clinical view.
        "can_packet": has_perm(request.user, Perm.CLINICAL_VIEW),
        "coverage_form": forms_.get("coverage_form")
        or forms.CoverageForm(organization_id=participant.organization_id),
        "authorization_form": forms_.get("authorization_form") or forms.AuthorizationForm(),
        "financial_form": forms_.get("financial_form") or forms.FinancialForm(),
        "open_form": forms_.get("open_form", ""),
    } | _certification_context(participant, can_manage, forms_.get("certification_form"))
    context["warnings"] = [*context["warnings"], *context["cert_warnings"]]
    return render(request, "billing/participant_billing.html", context, status=status)


@staff_required(Perm.BILLING_VIEW)
@require_GET
def participant_billing(request: HttpRequest, code: UUID) -> HttpResponse:
    return _render_billing(request, _billing_participant(request, code))


def _save(request: HttpRequest, participant: Participant, form: Any, name: str, call: Any) -> HttpResponse:
    if submit(form, call):
        messages.success(request, "Saved.")
        return redirect(BILLING_TAB, code=participant.code)
    return _render_billing(request, participant, status=400, open_form=name, **{name: form})


@staff_required(Perm.BILLING_MANAGE)
@require_POST
def coverage_add(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _billing_participant(request, code, audit=False)
    form = forms.CoverageForm(request.POST, organization_id=participant.organization_id)
    return _save(request, participant, form, "coverage_form", lambda data: services.coverage_add(
        actor=request.user, participant=participant, data=data, request=request))


@staff_required(Perm.BILLING_MANAGE)
@require_POST
def authorization_add(request: HttpRequest, code: UUID, coverage_code: UUID) -> HttpResponse:
    participant = _billing_participant(request, code, audit=False)
    coverage = get_object_or_404(Coverage.objects.select_related("payer", "participant"),
                                 participant=participant, code=coverage_code)
    form = forms.AuthorizationForm(request.POST)
    return _save(request, participant, form, "authorization_form",
                 lambda data: services.authorization_add(actor=request.user, coverage=coverage,
                                                         data=data, request=request))


def _certification_context(participant: Participant, can_manage: bool, form: Any) -> dict[str, Any]:
    """The Medicare IOP certification block: shown when the participant has an open IOP
    episode and Medicare coverage active today."""
    episodes = selectors.medicare_iop_episodes(organization_id=participant.organization_id,
                                               today=timezone.localdate(),
                                               participant=participant)
    episode = episodes[0] if episodes else None
    if episode is not None and can_manage and form is None:
        form = forms.CertificationForm(
            physicians=services.certification.physicians(participant.organization_id))
    return {"cert_episode": episode, "certification_form": form,
            "cert_warnings": selectors.certification_warnings(
                organization_id=participant.organization_id, participant=participant)
            if episode is not None else []}


@staff_required(Perm.BILLING_MANAGE)
@require_POST
def certification_add(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _billing_participant(request, code, audit=False)
    episodes = selectors.medicare_iop_episodes(organization_id=participant.organization_id,
                                               today=timezone.localdate(),
                                               participant=participant)
    if not episodes:
        raise Http404
    form = forms.CertificationForm(
        request.POST, physicians=services.certification.physicians(participant.organization_id))
    return _save(request, participant, form, "certification_form",
                 lambda data: services.certification_record(
                     actor=request.user, episode=episodes[0], data=data, request=request))


@staff_required(Perm.BILLING_MANAGE)
@require_POST
def financial_profile(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _billing_participant(request, code, audit=False)
    form = forms.FinancialForm(request.POST)
    return _save(request, participant, form, "financial_form",
                 lambda data: services.financial_profile_set(actor=request.user,
                                                             participant=participant,
                                                             request=request, **data))


@staff_required(Perm.BILLING_VIEW)
@require_GET
def statement(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _billing_participant(request, code)
    context = chart_context(request, participant, active_tab=BILLING_TAB) | reports.statement(
        participant)
    return render(request, "billing/statement.html", context)


@require_GET
def my_costs(request: HttpRequest) -> HttpResponse:
    """The participant's own cost estimate and statement (portal look)."""
    from openiop.accounts.models import Role
    from openiop.audit.services import audit_record

    user = request.user
    if not user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    participant = getattr(user, "participant", None) if user.role == Role.PARTICIPANT else None
    if participant is None:
        raise Http404
    audit_record(actor=user, action=Action.VIEW, object_type=ObjectType.MY_COSTS, participant=participant,
                 request=request)
    episode = current_episode(participant)
    return render(request, "billing/my_costs.html", {
        "participant": participant, "estimate": reports.cost_estimate(participant, episode),
        "coverages": selectors.coverages_for(participant),
    } | reports.statement(participant))
