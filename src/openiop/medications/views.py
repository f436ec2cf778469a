"""Medication pages: the chart tab, orders and adjustments, monitoring, the dashboard and
the participant's own adherence check-in. Thin: parse, call a service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from openiop.accounts.models import Role
from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.decorators import staff_required
from openiop.core.forms import submit
from openiop.participants.selectors import current_episode, get_participant_for_user
from openiop.participants.views import chart_context

from . import forms, rules, selectors, services
from .models import MedicationOrder, UseDisorder

if TYPE_CHECKING:
    from uuid import UUID

    from openiop.participants.models import Participant

TAB = "medications:participant_medications"


def _participant(request: HttpRequest, code: UUID | str) -> Any:
    return get_participant_for_user(request.user, code, request=request,
                                    perm=Perm.MEDICATION_VIEW, object_type=ObjectType.MEDICATIONS)


def _order(participant: Participant, order_code: UUID | str) -> MedicationOrder:
    return get_object_or_404(MedicationOrder.objects.select_related("participant", "prescriber"),
                             participant=participant, code=order_code)


def _acks(request: HttpRequest) -> dict[str, str]:
    return {k[4:]: v for k, v in request.POST.items() if k.startswith("ack_")}


def _back(participant: Participant) -> HttpResponse:
    return redirect(TAB, code=participant.code)


# Warnings still to acknowledge are shown beside the form, not as a form error.
PENDING = (services.InteractionWarningsPending,)


def _with_prescriber(data: dict[str, Any], request: HttpRequest) -> dict[str, Any]:
    """A clinic order is prescribed by the user entering it."""
    if data["source"] == MedicationOrder.Source.CLINIC:
        return data | {"prescriber": request.user}
    return dict(data)


def _tab_post(request: HttpRequest, participant: Participant, form: Any, key: str, success: str,
              record: Callable[[dict[str, Any]], object]) -> HttpResponse:
    """A chart-tab form: validate, call the service, then back to the tab or show errors.

    `record(cleaned_data)` calls the service; its ValidationError/DomainError land on the
    form, which is shown again (422) with what was typed.
    """
    if submit(form, record):
        messages.success(request, success)
        return _back(participant)
    return _render_tab(request, participant, {key: form}, status=422)


# --- chart tab -------------------------------------------------------------------------

@staff_required(Perm.MEDICATION_VIEW)
def participant_medications(request: HttpRequest, code: UUID, *, bound: dict | None = None
                            ) -> HttpResponse:
    participant = _participant(request, code)
    return _render_tab(request, participant, bound or {})


def _render_tab(request: HttpRequest, participant: Participant, bound: dict, status: int = 200
                ) -> HttpResponse:
    episode = current_episode(participant)
    summary = selectors.participant_summary(participant, episode)
    active = summary["active_orders"]
    user = request.user
    context = chart_context(request, participant, active_tab=TAB) | summary | {
        "can_prescribe": has_perm(user, Perm.MEDICATION_PRESCRIBE),
        "can_write": has_perm(user, Perm.CLINICAL_WRITE),
        "can_administer": has_perm(user, Perm.MEDICATION_ADMINISTER),
        "adherence_form": bound.get("adherence") or forms.AdherenceForm(orders=active),
        "side_effect_form": bound.get("side_effect") or forms.SideEffectForm(orders=active),
        "naloxone_form": bound.get("naloxone") or forms.NaloxoneForm(),
        "review_form": bound.get("review") or forms.ReviewForm(),
        "use_disorder_form": bound.get("use_disorder") or forms.UseDisorderForm(),
        "use_disorder_rows": [
            {"u": u, "resolve_form": bound.get(f"resolve-{u.pk}") or (
                None if u.resolved_on
                else forms.UseDisorderResolveForm(prefix=f"resolve-{u.pk}"))}
            for u in summary["use_disorders"]],
        "catalog": rules.catalog(),
    }
    return render(request, "medications/participant.html", context, status=status)


# --- orders ----------------------------------------------------------------------------

@staff_required(Perm.MEDICATION_VIEW)
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    can_prescribe = has_perm(request.user, Perm.MEDICATION_PRESCRIBE)
    if not (can_prescribe or has_perm(request.user, Perm.CLINICAL_WRITE)):
        raise Http404
    form = forms.OrderForm(request.POST or None, can_prescribe=can_prescribe)
    warnings: list = []
    if request.method == "POST":
        try:
            saved = submit(form, lambda data: services.order_create(
                actor=request.user, participant=participant, data=_with_prescriber(data, request),
                acknowledgements=_acks(request), request=request), reraise=PENDING)
        except services.InteractionWarningsPending as exc:
            warnings, saved = exc.warnings, None
        if saved is not None:
            messages.success(request, f"{saved.result.name} was added to the medication list.")
            return _back(participant)
    context = chart_context(request, participant, active_tab=TAB) | {
        "form": form, "warnings": warnings, "acks": _acks(request),
        "catalog_json": {k: {"units": list(e.dose_units), "routes": list(e.routes),
                             "max": float(e.max_single_dose), "dea": e.dea_schedule}
                         for k, e in rules.catalog().items()},
    }
    return render(request, "medications/order_form.html", context,
                  status=422 if request.method == "POST" else 200)


@staff_required(Perm.MEDICATION_VIEW)
@require_http_methods(["GET", "POST"])
def order_adjust(request: HttpRequest, code: UUID, order_code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    order = _order(participant, order_code)
    initial = {"version": order.version, "dose": order.dose.normalize(), "unit": order.unit,
               "frequency": order.frequency, "route": order.route,
               "max_doses_per_day": order.max_doses_per_day}
    form = forms.AdjustForm(request.POST or None, initial=initial)
    stop_form = forms.StopForm(initial={"version": order.version}, prefix="stop")
    warnings: list = []
    if request.method == "POST":
        try:
            saved = submit(form, lambda d: services.order_adjust(
                actor=request.user, order=order, version=d["version"], reason=d["reason"],
                dose=d["dose"], unit=d["unit"], frequency=d["frequency"], route=d["route"],
                max_doses_per_day=d["max_doses_per_day"], refills=d["refills"],
                effective_date=d["effective_date"], note=d["note"],
                confirm_dose_change=d["confirm_dose_change"],
                dose_override_reason=d["dose_override_reason"],
                acknowledgements=_acks(request), request=request), reraise=PENDING)
        except services.InteractionWarningsPending as exc:
            warnings, saved = exc.warnings, None
        if saved is not None:
            messages.success(request, f"{order.name} was changed; the change is in its history.")
            return _back(participant)
    context = chart_context(request, participant, active_tab=TAB) | {
        "order": order, "form": form, "stop_form": stop_form, "warnings": warnings,
        "acks": _acks(request), "changes": order.changes.select_related("changed_by"),
        "timelines": selectors.dose_timeline_specs([order]),
        "can_change": order.status == MedicationOrder.Status.ACTIVE and (
            has_perm(request.user, Perm.MEDICATION_PRESCRIBE)
            or (order.source == "outside" and has_perm(request.user, Perm.CLINICAL_WRITE))),
    }
    return render(request, "medications/order_adjust.html", context,
                  status=422 if request.method == "POST" else 200)


@staff_required(Perm.MEDICATION_VIEW)
@require_POST
def order_stop(request: HttpRequest, code: UUID, order_code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    order = _order(participant, order_code)
    form = forms.StopForm(request.POST, prefix="stop")
    if submit(form, lambda d: services.order_stop(
            actor=request.user, order=order, version=d["version"], reason=d["reason"],
            stop_date=d["stop_date"], note=d["note"], request=request)):
        messages.success(request, f"{order.name} was stopped.")
        return _back(participant)
    errors = "; ".join(f"{name.replace('_', ' ')}: {' '.join(e)}"
                       for name, e in form.errors.items())
    messages.error(request, f"{order.name} was not stopped. {errors}")
    return redirect("medications:order_adjust", code=participant.code, order_code=order.code)


# --- reconciliation --------------------------------------------------------------------

@staff_required(Perm.MEDICATION_VIEW)
@require_http_methods(["GET", "POST"])
def reconcile(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    form = forms.ReconcileForm(request.POST or None)
    active = list(MedicationOrder.objects.filter(participant=participant, status=MedicationOrder.Status.ACTIVE)
                  .select_related("prescriber"))
    decisions = {str(o.code): request.POST.get(f"decision_{o.code}", "") for o in active}
    if request.method == "POST" and submit(form, lambda d: services.reconciliation_record(
            actor=request.user, participant=participant, point=d["point"],
            decisions=decisions, note=d["note"], request=request)):
        messages.success(request, "Medication reconciliation recorded.")
        return _back(participant)
    episode = current_episode(participant)
    context = chart_context(request, participant, active_tab=TAB) | {
        "form": form, "active": active, "posted": request.POST,
        "reconciliations": participant.med_reconciliations.select_related("performed_by")[:10],
        "can_prescribe": has_perm(request.user, Perm.MEDICATION_PRESCRIBE),
        "episode": episode,
    }
    return render(request, "medications/reconcile.html", context,
                  status=422 if request.method == "POST" else 200)


# --- monitoring (small forms on the tab) -----------------------------------------------

def _active_order_or_none(participant: Participant, raw: str) -> MedicationOrder | None:
    if not raw:
        return None
    return MedicationOrder.objects.filter(participant=participant, code=raw).first() if \
        _is_uuid(raw) else None


def _is_uuid(raw: str) -> bool:
    import uuid

    try:
        uuid.UUID(str(raw))
    except ValueError:
        return False
    return True


@staff_required(Perm.MEDICATION_VIEW)
@require_POST
def adherence_add(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    active = list(MedicationOrder.objects.filter(participant=participant, status=MedicationOrder.Status.ACTIVE))
    form = forms.AdherenceForm(request.POST, orders=active)
    return _tab_post(
        request, participant, form, "adherence", "Adherence check-in recorded.",
        lambda d: services.adherence_record(
            actor=request.user, participant=participant, doses_missed=d["doses_missed"],
            checked_on=d["checked_on"], order=_active_order_or_none(participant, d["order"]),
            note=d["note"], request=request))


@staff_required(Perm.MEDICATION_VIEW)
@require_POST
def side_effect_add(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    active = list(MedicationOrder.objects.filter(participant=participant, status=MedicationOrder.Status.ACTIVE))
    form = forms.SideEffectForm(request.POST, orders=active)
    return _tab_post(
        request, participant, form, "side_effect", "Side effect recorded.",
        lambda d: services.side_effect_record(
            actor=request.user, participant=participant, effect=d["effect"],
            severity=d["severity"], onset_on=d["onset_on"], action=d["action"],
            order=_active_order_or_none(participant, d["order"]), request=request))


@staff_required(Perm.MEDICATION_VIEW)
@require_POST
def naloxone_add(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    form = forms.NaloxoneForm(request.POST)
    return _tab_post(
        request, participant, form, "naloxone", "Naloxone status recorded.",
        lambda d: services.naloxone_record(
            actor=request.user, participant=participant, on_hand=d["on_hand"],
            kit_dispensed=d["kit_dispensed"], note=d["note"], request=request))


@staff_required(Perm.MEDICATION_VIEW)
@require_POST
def review_add(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    form = forms.ReviewForm(request.POST)
    return _tab_post(
        request, participant, form, "review", "Medication review recorded.",
        lambda d: services.review_record(
            actor=request.user, participant=participant, reviewed_on=d["reviewed_on"],
            note=d["note"], request=request))


@staff_required(Perm.MEDICATION_VIEW)
@require_POST
def use_disorder_add(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    form = forms.UseDisorderForm(request.POST)
    return _tab_post(
        request, participant, form, "use_disorder", "Added to the problem list.",
        lambda d: services.use_disorder_record(
            actor=request.user, participant=participant, substance=d["substance"],
            noted_on=d["noted_on"], note=d["note"], request=request))


@staff_required(Perm.MEDICATION_VIEW)
@require_POST
def use_disorder_resolve(request: HttpRequest, code: UUID, problem_id: int) -> HttpResponse:
    participant = _participant(request, code)
    row = get_object_or_404(UseDisorder.objects.select_related("participant"),
                            participant=participant, pk=problem_id)
    form = forms.UseDisorderResolveForm(request.POST, prefix=f"resolve-{row.pk}")
    return _tab_post(
        request, participant, form, f"resolve-{row.pk}",
        f"{row.get_substance_display()} marked resolved.",
        lambda d: services.use_disorder_resolve(
            actor=request.user, row=row, resolved_on=d["resolved_on"], request=request))


@staff_required(Perm.MEDICATION_VIEW)
@require_http_methods(["GET", "POST"])
def screen_new(request: HttpRequest, code: UUID) -> HttpResponse:
    participant = _participant(request, code)
    form = forms.ScreenForm(request.POST or None)
    saved = submit(form, lambda d: services.screen_record(
        actor=request.user, participant=participant, collected_on=d["collected_on"],
        specimen=d["specimen"], results=form.results(), note=d["note"], request=request),
    ) if request.method == "POST" else None
    if saved is not None:
        if saved.result.has_unexpected:
            messages.warning(request, "Screen recorded: some results do not match what is "
                                      "prescribed. Discuss them with the participant.")
        else:
            messages.success(request, "Screen recorded: results match what is prescribed.")
        return _back(participant)
    expected = sorted(services.expected_on(participant, timezone.localdate()))
    labels = rules.screen_substances()
    context = chart_context(request, participant, active_tab=TAB) | {
        "form": form, "expected": [labels.get(s, s) for s in expected]}
    return render(request, "medications/screen_form.html", context,
                  status=422 if request.method == "POST" else 200)


@staff_required(Perm.MEDICATION_ADMINISTER)
@require_http_methods(["GET", "POST"])
def administer(request: HttpRequest, code: UUID) -> HttpResponse:
    """Record a dose given in clinic: first choose the order, then the form asks only for
    what its route needs (body site and lot number for injections)."""
    participant = _participant(request, code)
    active = list(MedicationOrder.objects.filter(participant=participant, status=MedicationOrder.Status.ACTIVE,
                                                 source=MedicationOrder.Source.CLINIC))
    chosen = request.POST.get("order") or request.GET.get("order", "")
    order = next((o for o in active if str(o.code) == chosen), None)
    form = None
    if order is not None:
        initial = {"order": str(order.code), "dose": order.dose.normalize(), "unit": order.unit,
                   "administered_at": timezone.localtime().replace(second=0, microsecond=0)
                   .strftime("%Y-%m-%dT%H:%M")}
        form = forms.AdministrationForm(request.POST or None, initial=initial,
                                        injection=order.needs_site_and_lot)
    if request.method == "POST" and form is not None and submit(
            form, lambda d: services.administration_record(
                actor=request.user, participant=participant, order=order,
                administered_at=d["administered_at"], dose=d["dose"], unit=d["unit"],
                site=d.get("site", ""), lot=d.get("lot", ""), expires_on=d.get("expires_on"),
                note=d["note"], request=request)):
        messages.success(request, f"Dose of {order.name} recorded.")
        return _back(participant)
    context = chart_context(request, participant, active_tab=TAB) | {
        "form": form, "active": active, "order": order}
    return render(request, "medications/administer.html", context,
                  status=422 if request.method == "POST" else 200)


# --- dashboard -------------------------------------------------------------------------

@staff_required(Perm.MEDICATION_VIEW)
def index(request: HttpRequest) -> HttpResponse:
    org_id = request.user.staff_organization_id
    # Each list shows only the rows whose chart tab the viewer may open (openiop.access).
    overdue = selectors.overdue_reviews(org_id, actor=request.user)
    gaps = selectors.naloxone_gaps(org_id, actor=request.user)
    screens = selectors.unexpected_screens(org_id, actor=request.user)
    audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.MEDICATION_DASHBOARD,
                 organization=request.user.staff_profile.organization, request=request)
    return render(request, "medications/index.html", {
        "overdue": overdue, "gaps": gaps, "screens": screens,
        "window": selectors.UNEXPECTED_SCREEN_WINDOW_DAYS,
    })


@staff_required(Perm.MEDICATION_VIEW)
def catalog_view(request: HttpRequest) -> HttpResponse:
    groups: dict[str, list] = {}
    for entry in rules.catalog().values():
        groups.setdefault(rules.CATEGORY_LABELS.get(entry.category, entry.category), []).append(entry)
    return render(request, "medications/catalog.html", {
        "groups": groups, "rules": rules.interaction_rules()})


# --- the participant's own page (portal look) ------------------------------------------

@require_http_methods(["GET", "POST"])
def my_adherence(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    participant = getattr(user, "participant", None) if user.role == Role.PARTICIPANT else None
    if participant is None:
        raise Http404
    audit_record(actor=user, action=Action.VIEW, object_type=ObjectType.MY_MEDICATIONS,
                 participant=participant, request=request)
    form = forms.MyAdherenceForm(request.POST or None)
    if request.method == "POST" and submit(form, lambda d: services.adherence_record(
            actor=user, participant=participant, doses_missed=d["doses_missed"],
            note=d["note"], request=request)):
        messages.success(request, "Thank you. Your care team will see your check-in.")
        return redirect("medications:my_adherence")
    active = MedicationOrder.objects.filter(participant=participant, status=MedicationOrder.Status.ACTIVE)
    recent = participant.adherence_checks.all()[:5]
    return render(request, "medications/my_adherence.html", {
        "form": form, "active": active, "recent": recent, "participant": participant,
        **_portal_chrome(participant)})


def _portal_chrome(participant: Participant) -> dict[str, Any]:
    """The portal's navigation and unread count, so this page looks like the rest of it."""
    from openiop.portal.models import Message
    from openiop.portal.views import _nav

    unread = Message.objects.filter(participant=participant, from_participant=False,
                                    read_at__isnull=True).count()
    return {"portal_nav": _nav("medications:my_adherence"), "unread": unread}



