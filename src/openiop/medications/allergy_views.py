"""The allergy list in the chart's medications area: allergies and intolerances, their
status, and the dated "no known drug allergies" statement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from openiop.accounts.permissions import Perm, has_perm
from openiop.core.decorators import staff_required
from openiop.core.exceptions import DomainError
from openiop.core.forms import submit
from openiop.participants.views import chart_context

from . import forms, selectors, services
from .models import Allergy
from .views import TAB, _participant

if TYPE_CHECKING:
    from uuid import UUID

    from openiop.participants.models import Participant


def _render(request: HttpRequest, participant: Participant, *, form: Any = None, nkda_form: Any = None,
            status: int = 200) -> HttpResponse:
    rows = list(Allergy.objects.filter(participant=participant).select_related("recorded_by"))
    context = chart_context(request, participant, active_tab=TAB) | {
        "allergy": selectors.allergy_status(participant),
        "rows": [{"a": a, "form": forms.AllergyStatusForm(
            initial={"version": a.version, "status": a.status}, prefix=f"a{a.pk}")}
            for a in rows],
        "statements": list(participant.allergy_statements.select_related("recorded_by")[:10]),
        "form": form or forms.AllergyForm(classes=services.ALLERGY_CLASSES),
        "nkda_form": nkda_form or forms.NoKnownAllergiesForm(),
        "can_write": has_perm(request.user, Perm.CLINICAL_WRITE),
    }
    return render(request, "medications/allergies.html", context, status=status)


@staff_required(Perm.MEDICATION_VIEW)
@require_http_methods(["GET", "POST"])
def allergies(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    if request.method == "GET":
        return _render(request, participant)
    form = forms.AllergyForm(request.POST, classes=services.ALLERGY_CLASSES)
    saved = submit(form, lambda d: services.allergy_record(
        actor=request.user, participant=participant, substance=d["substance"],
        catalog_key=d["catalog_key"], drug_class=d["drug_class"], kind=d["kind"],
        reaction=d["reaction"], severity=d["severity"], noted_on=d["noted_on"],
        request=request))
    if saved is not None:
        row = saved.result
        messages.success(request, f"{row.get_kind_display()} to {row.substance} recorded.")
        return redirect("medications:allergies", code=participant.code)
    return _render(request, participant, form=form, status=422)


@staff_required(Perm.MEDICATION_VIEW)
@require_POST
def no_known_allergies(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    form = forms.NoKnownAllergiesForm(request.POST)
    if submit(form, lambda d: services.no_known_allergies_record(
            actor=request.user, participant=participant, stated_on=d["stated_on"],
            note=d["note"], request=request)):
        messages.success(request, "\"No known drug allergies\" recorded.")
        return redirect("medications:allergies", code=participant.code)
    return _render(request, participant, nkda_form=form, status=422)


@staff_required(Perm.MEDICATION_VIEW)
@require_POST
def allergy_status(request: HttpRequest, code: UUID, allergy_code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    allergy = get_object_or_404(Allergy.objects.select_related("participant"),
                                participant=participant, code=allergy_code)
    form = forms.AllergyStatusForm(request.POST, prefix=f"a{allergy.pk}")
    if form.is_valid():
        try:
            services.allergy_set_status(actor=request.user, allergy=allergy,
                                        version=form.cleaned_data["version"],
                                        status=form.cleaned_data["status"], request=request)
        except ValidationError as exc:
            messages.error(request, f"Not saved: {' '.join(exc.messages)}")
        except DomainError as exc:
            messages.error(request, f"Not saved: {exc.message}")
        else:
            messages.success(request, f"{allergy.substance}: status changed.")
    else:
        messages.error(request, "Not saved: choose a valid status.")
    return redirect("medications:allergies", code=participant.code)
