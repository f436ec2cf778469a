"""Writes for medications: one path for views, API, demo and commands.

Each function checks permission and input first ("check, then do"), then writes in one
transaction together with its audit event. Nothing is written when a check fails.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.accounts.permissions import Perm, has_perm, require_perm
from openiop.audit.services import audit_record
from openiop.core.exceptions import Conflict, DomainError, InvalidTransition, NotPermitted

from . import rules
from .models import (
    AdherenceCheck,
    Administration,
    DoseUnit,
    DrugScreen,
    DrugScreenResult,
    Frequency,
    InteractionAcknowledgement,
    MedicationChange,
    MedicationOrder,
    MedicationReview,
    NaloxoneCheck,
    Reconciliation,
    Route,
    SideEffectReport,
    UseDisorder,
)


class InteractionWarningsPending(DomainError):
    """The change would create unacknowledged interaction warnings; nothing was saved.

    `warnings` lists them; call again with `acknowledgements={rule_id: reason}`.
    """

    def __init__(self, warnings: list[rules.Warning]) -> None:
        titles = "; ".join(w.title for w in warnings)
        super().__init__(
            f"Acknowledge each interaction warning with a reason to continue: {titles}.",
            field="acknowledgements",
        )
        self.warnings = warnings


# --- helpers ---------------------------------------------------------------------------

def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValidationError({field: "Enter a number."}) from exc
    if not number.is_finite():
        raise ValidationError({field: "Enter a number."})
    return number


def _choice(value: Any, choices: type, field: str, label: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: f"Choose a valid {label}."})
    return value


def _same_org(actor: Any, participant: Any) -> None:
    if getattr(actor, "staff_organization_id", None) != participant.organization_id:
        raise NotPermitted("This participant belongs to another organization.")


def _check_dose(dose: Decimal, unit: str, catalog_key: str) -> None:
    problem = rules.dose_problem(dose=dose, unit=unit, catalog_key=catalog_key)
    if problem:
        raise ValidationError({problem[0]: problem[1]})


def _facts(order: MedicationOrder) -> rules.MedFacts:
    return rules.facts_for(ref=str(order.code), name=order.name, catalog_key=order.catalog_key,
                           contains_alcohol=order.contains_alcohol)


def _active_orders(participant: Any) -> list[MedicationOrder]:
    return list(MedicationOrder.objects.filter(participant=participant,
                                               status=MedicationOrder.Status.ACTIVE))


def _pending_warnings(
    candidate: rules.MedFacts, participant: Any, *, order: MedicationOrder | None,
    acknowledgements: dict[str, str] | None,
) -> list[rules.Warning]:
    """Warnings for the candidate that still need a reason; raise if any lacks one."""
    others = [_facts(o) for o in _active_orders(participant) if order is None or o.pk != order.pk]
    warnings = rules.interaction_warnings(candidate, others)
    if order is not None:
        done = set(order.acknowledgements.values_list("rule_id", flat=True))
        warnings = [w for w in warnings if w.rule_id not in done]
    acks = {k: (v or "").strip() for k, v in (acknowledgements or {}).items()}
    missing = [w for w in warnings if len(acks.get(w.rule_id, "")) < 5]
    if missing:
        raise InteractionWarningsPending(warnings)
    return warnings


def _save_acks(order: MedicationOrder, warnings: list[rules.Warning], acks: dict[str, str],
               actor: Any, request: HttpRequest | None) -> None:
    for w in warnings:
        InteractionAcknowledgement.objects.create(
            order=order, rule_id=w.rule_id, title=w.title, medications=w.involved[:500],
            reason=acks[w.rule_id].strip()[:500], acknowledged_by=actor,
        )
        audit_record(actor=actor, action="change", object_type="interaction_ack",
                     object_id=order.code, participant=order.participant, request=request,
                     reason=f"acknowledged {w.rule_id}")


# --- problem list (how opioid use disorder is recorded) --------------------------------

def use_disorder_record(
    *, actor: Any, participant: Any, substance: str, noted_on: date, note: str = "",
    request: HttpRequest | None = None,
) -> UseDisorder:
    require_perm(actor, Perm.CLINICAL_WRITE)
    _same_org(actor, participant)
    _choice(substance, UseDisorder.Substance, "substance", "substance")
    if noted_on > timezone.localdate():
        raise ValidationError({"noted_on": "The date noted cannot be in the future."})
    if UseDisorder.objects.filter(participant=participant, substance=substance,
                                  resolved_on__isnull=True).exists():
        raise ValidationError({"substance": "This use disorder is already on the list."})
    with transaction.atomic():
        row = UseDisorder.objects.create(participant=participant, substance=substance,
                                         noted_on=noted_on, note=note[:300], recorded_by=actor)
        audit_record(actor=actor, action="create", object_type="use_disorder", object_id=row.pk,
                     participant=participant, request=request)
    return row


def use_disorder_resolve(
    *, actor: Any, row: UseDisorder, resolved_on: date, request: HttpRequest | None = None,
) -> UseDisorder:
    """Mark a problem-list entry resolved on `resolved_on`. The row is kept (history).

    Refused when already resolved, dated in the future or before it was noted. A resolved
    opioid use disorder no longer counts for the naloxone check (it reads open entries).
    """
    require_perm(actor, Perm.CLINICAL_WRITE)
    _same_org(actor, row.participant)
    if not isinstance(resolved_on, date):
        raise ValidationError({"resolved_on": "Enter a date."})
    if resolved_on > timezone.localdate():
        raise ValidationError({"resolved_on": "The date resolved cannot be in the future."})
    if resolved_on < row.noted_on:
        raise ValidationError({"resolved_on": "The date resolved cannot be before the date "
                               f"noted ({row.noted_on:%b %d, %Y})."})
    with transaction.atomic():
        updated = UseDisorder.objects.filter(pk=row.pk, resolved_on__isnull=True).update(
            resolved_on=resolved_on)
        if updated != 1:
            raise InvalidTransition("This entry is already resolved.", field="resolved_on")
        audit_record(actor=actor, action="change", object_type="use_disorder",
                     object_id=row.pk, participant=row.participant, request=request,
                     reason="resolved")
    row.resolved_on = resolved_on
    return row


# --- orders ----------------------------------------------------------------------------

def order_create(
    *, actor: Any, participant: Any, data: dict[str, Any],
    acknowledgements: dict[str, str] | None = None, request: HttpRequest | None = None,
) -> MedicationOrder:
    """Add a medication: a clinic order (prescribers only) or an outside prescription.

    data: catalog_key or name, source, prescriber (a user, clinic orders), outside_prescriber,
    dose, unit, route, frequency, quantity, refills, start_date, stop_date, indication,
    contains_alcohol. Raises ValidationError naming the field, NotPermitted, or
    InteractionWarningsPending (until each warning is acknowledged with a reason).
    """
    source = data.get("source") or MedicationOrder.Source.CLINIC
    _choice(source, MedicationOrder.Source, "source", "source")
    if source == MedicationOrder.Source.CLINIC:
        require_perm(actor, Perm.MEDICATION_PRESCRIBE)
    else:
        require_perm(actor, Perm.CLINICAL_WRITE)
    _same_org(actor, participant)
    order = _build_order(participant=participant, data=data, source=source, actor=actor)
    warnings = _pending_warnings(_facts(order), participant, order=None,
                                 acknowledgements=acknowledgements)
    reason = (MedicationChange.Reason.RECONCILED if data.get("reconciled")
              else MedicationChange.Reason.NEW)
    with transaction.atomic():
        order.save()
        MedicationChange.objects.create(
            order=order, kind=MedicationChange.Kind.START, reason=reason,
            effective_date=order.start_date, dose=order.dose, unit=order.unit,
            frequency=order.frequency, changed_by=actor, note=(data.get("note") or "")[:500],
        )
        audit_record(actor=actor, action="create", object_type="medication_order",
                     object_id=order.code, participant=participant, request=request)
        _save_acks(order, warnings, acknowledgements or {}, actor, request)
    return order


def _build_order(*, participant: Any, data: dict[str, Any], source: str, actor: Any
                 ) -> MedicationOrder:
    key = (data.get("catalog_key") or "").strip()
    entry = rules.catalog().get(key) if key else None
    if key and entry is None:
        raise ValidationError({"catalog_key": f"{key!r} is not in the medication catalog."})
    name = (data.get("name") or "").strip() or (entry.name if entry else "")
    if not name:
        raise ValidationError({"name": "Choose a medication from the catalog or enter its name."})
    prescriber = data.get("prescriber")
    outside = (data.get("outside_prescriber") or "").strip()
    if source == MedicationOrder.Source.CLINIC:
        if prescriber is None:
            raise ValidationError({"prescriber": "A clinic order needs a prescriber."})
        if not has_perm(prescriber, Perm.MEDICATION_PRESCRIBE) or \
                getattr(prescriber, "staff_organization_id", None) != participant.organization_id:
            raise ValidationError(
                {"prescriber": f"{prescriber} is not a prescriber in this organization."})
    else:
        prescriber = None
        if not outside:
            raise ValidationError(
                {"outside_prescriber": "Name the outside prescriber (or 'unknown')."})
    dose = _decimal(data.get("dose"), "dose")
    unit = _choice(data.get("unit"), DoseUnit, "unit", "dose unit")
    _check_dose(dose, unit, key)
    route = _choice(data.get("route"), Route, "route", "route")
    frequency = _choice(data.get("frequency"), Frequency, "frequency", "frequency")
    start = data.get("start_date")
    if not isinstance(start, date):
        raise ValidationError({"start_date": "Enter the start date."})
    stop = data.get("stop_date")
    if stop is not None and stop < start:
        raise ValidationError({"stop_date": "The stop date cannot be before the start date."})
    quantity = data.get("quantity")
    if quantity is not None and (int(quantity) < 0 or int(quantity) > 10000):
        raise ValidationError({"quantity": "Quantity must be between 0 and 10000."})
    refills = int(data.get("refills") or 0)
    if refills < 0 or refills > 12:
        raise ValidationError({"refills": "Refills must be between 0 and 12."})
    if entry and entry.dea_schedule == "II" and refills:
        # Schedule II prescriptions may not be refilled (21 U.S.C. 829(a)).
        raise ValidationError({"refills": f"{entry.name} is Schedule II: no refills allowed."})
    status = MedicationOrder.Status.ACTIVE
    if stop is not None and stop < timezone.localdate():
        status = MedicationOrder.Status.STOPPED
    return MedicationOrder(
        participant=participant, catalog_key=key, name=name[:200],
        rxnorm=entry.rxnorm if entry else (data.get("rxnorm") or "")[:20], source=source,
        prescriber=prescriber, outside_prescriber=outside[:200], dose=dose, unit=unit,
        route=route, frequency=frequency, quantity=quantity, refills=refills,
        start_date=start, stop_date=stop, status=status,
        indication=(data.get("indication") or "")[:200],
        contains_alcohol=bool(data.get("contains_alcohol")), created_by=actor,
    )


def _require_changeable(actor: Any, order: MedicationOrder) -> None:
    if order.source == MedicationOrder.Source.CLINIC:
        if not has_perm(actor, Perm.MEDICATION_PRESCRIBE):
            raise NotPermitted("Only a prescriber may change a clinic medication order.")
    else:
        require_perm(actor, Perm.CLINICAL_WRITE)
    _same_org(actor, order.participant)
    if order.status != MedicationOrder.Status.ACTIVE:
        raise InvalidTransition("This medication is stopped; start a new order instead.",
                                field="status")


def order_adjust(
    *, actor: Any, order: MedicationOrder, version: int, reason: str,
    dose: Any = None, unit: str | None = None, frequency: str | None = None,
    route: str | None = None, quantity: int | None = None, refills: int | None = None,
    effective_date: date | None = None, note: str = "", contains_alcohol: bool | None = None,
    acknowledgements: dict[str, str] | None = None, request: HttpRequest | None = None,
) -> MedicationOrder:
    """Change dose, unit, schedule or route; the change becomes a new history row."""
    _require_changeable(actor, order)
    if reason not in MedicationChange.ADJUST_REASONS:
        raise ValidationError({"reason": "Give the reason for the change (side effect, not "
                                         "effective, adherence, participant preference or dose "
                                         "titration)."})
    new_dose = order.dose if dose in (None, "") else _decimal(dose, "dose")
    new_unit = unit or order.unit
    _choice(new_unit, DoseUnit, "unit", "dose unit")
    _check_dose(new_dose, new_unit, order.catalog_key)
    new_freq = _choice(frequency or order.frequency, Frequency, "frequency", "frequency")
    new_route = _choice(route or order.route, Route, "route", "route")
    when = effective_date or timezone.localdate()
    if when < order.start_date:
        raise ValidationError({"effective_date": "A change cannot take effect before the "
                                                 "medication started."})
    if refills is not None and not 0 <= int(refills) <= 12:
        raise ValidationError({"refills": "Refills must be between 0 and 12."})
    if quantity is not None and not 0 <= int(quantity) <= 10000:
        raise ValidationError({"quantity": "Quantity must be between 0 and 10000."})
    if (new_dose, new_unit, new_freq, new_route) == (order.dose, order.unit, order.frequency,
                                                     order.route) and refills is None \
            and quantity is None and contains_alcohol in (None, order.contains_alcohol):
        raise ValidationError({"dose": "Nothing changed: enter the new dose or schedule."})
    alcohol = order.contains_alcohol if contains_alcohol is None else bool(contains_alcohol)
    candidate = rules.facts_for(ref=str(order.code), name=order.name,
                                catalog_key=order.catalog_key, contains_alcohol=alcohol)
    warnings = _pending_warnings(candidate, order.participant, order=order,
                                 acknowledgements=acknowledgements)
    previous = order.dose
    fields = {"dose": new_dose, "unit": new_unit, "frequency": new_freq, "route": new_route,
              "contains_alcohol": alcohol}
    if refills is not None:
        fields["refills"] = int(refills)
    if quantity is not None:
        fields["quantity"] = int(quantity)
    with transaction.atomic():
        updated = MedicationOrder.objects.filter(pk=order.pk, version=version).update(
            version=version + 1, **fields)
        if updated != 1:
            raise Conflict("Someone changed this medication after you opened it. Nothing was "
                           "saved; reload and apply your change again.", field="version")
        MedicationChange.objects.create(
            order=order, kind=MedicationChange.Kind.ADJUST, reason=reason, note=note[:500],
            effective_date=when, dose=new_dose, unit=new_unit, frequency=new_freq,
            previous_dose=previous, changed_by=actor,
        )
        audit_record(actor=actor, action="change", object_type="medication_order",
                     object_id=order.code, participant=order.participant, request=request,
                     reason=reason)
        _save_acks(order, warnings, acknowledgements or {}, actor, request)
    order.refresh_from_db()
    return order


def order_stop(
    *, actor: Any, order: MedicationOrder, version: int, reason: str,
    stop_date: date | None = None, note: str = "", request: HttpRequest | None = None,
) -> MedicationOrder:
    _require_changeable(actor, order)
    allowed = (*MedicationChange.ADJUST_REASONS, MedicationChange.Reason.COMPLETED,
               MedicationChange.Reason.NO_LONGER_TAKING)
    if reason not in allowed:
        raise ValidationError({"reason": "Give the reason for stopping."})
    when = stop_date or timezone.localdate()
    if when < order.start_date:
        raise ValidationError({"stop_date": "The stop date cannot be before the start date."})
    with transaction.atomic():
        updated = MedicationOrder.objects.filter(pk=order.pk, version=version).update(
            version=version + 1, status=MedicationOrder.Status.STOPPED, stop_date=when)
        if updated != 1:
            raise Conflict("Someone changed this medication after you opened it. Nothing was "
                           "saved; reload and try again.", field="version")
        MedicationChange.objects.create(
            order=order, kind=MedicationChange.Kind.STOP, reason=reason, note=note[:500],
            effective_date=when, dose=order.dose, unit=order.unit, frequency=order.frequency,
            previous_dose=order.dose, changed_by=actor,
        )
        audit_record(actor=actor, action="change", object_type="medication_order",
                     object_id=order.code, participant=order.participant, request=request,
                     reason=f"stopped: {reason}")
    order.refresh_from_db()
    return order


# --- reconciliation --------------------------------------------------------------------

RECONCILE_DECISIONS = ("continue", "stop")


def reconciliation_record(
    *, actor: Any, participant: Any, point: str, decisions: dict[str, str], note: str = "",
    request: HttpRequest | None = None,
) -> Reconciliation:
    """Review every active medication at a transition: continue or stop each.

    decisions maps order code → "continue" | "stop". Every active medication must have a
    decision. Stopping a clinic order needs a prescriber; an outside one, any clinician.
    """
    require_perm(actor, Perm.CLINICAL_WRITE)
    _same_org(actor, participant)
    _choice(point, Reconciliation.Point, "point", "reconciliation point")
    active = _active_orders(participant)
    summary = []
    for order in active:
        decision = decisions.get(str(order.code))
        if decision not in RECONCILE_DECISIONS:
            raise ValidationError({"decisions": f"Choose continue or stop for {order.name}."})
        if decision == "stop" and order.source == MedicationOrder.Source.CLINIC and \
                not has_perm(actor, Perm.MEDICATION_PRESCRIBE):
            raise NotPermitted(f"Only a prescriber may stop the clinic order for {order.name}.")
        summary.append({"order": str(order.code), "name": order.name, "sig": order.sig,
                        "decision": decision, "source": order.source})
    with transaction.atomic():
        rec = Reconciliation.objects.create(
            participant=participant, point=point, performed_by=actor,
            performed_at=timezone.now(), note=note, decisions=summary)
        for order in active:
            if decisions[str(order.code)] == "stop":
                order_stop(actor=actor, order=order, version=order.version,
                           reason=MedicationChange.Reason.NO_LONGER_TAKING,
                           note=f"Stopped at {rec.get_point_display().lower()} reconciliation",
                           request=request)
        audit_record(actor=actor, action="create", object_type="med_reconciliation",
                     object_id=rec.code, participant=participant, request=request, reason=point)
    return rec


# --- monitoring ------------------------------------------------------------------------

def _order_of(participant: Any, order: MedicationOrder | None) -> MedicationOrder | None:
    if order is not None and order.participant_id != participant.pk:
        raise ValidationError({"order": "That medication is not on this participant's list."})
    return order


def adherence_record(
    *, actor: Any, participant: Any, doses_missed: int, checked_on: date | None = None,
    order: MedicationOrder | None = None, note: str = "", request: HttpRequest | None = None,
) -> AdherenceCheck:
    """Record an adherence check-in by staff, or by the participant about themself."""
    by_participant = getattr(actor, "role", "") == Role.PARTICIPANT
    if by_participant:
        if getattr(getattr(actor, "participant", None), "pk", None) != participant.pk:
            raise NotPermitted("You can only report your own medications.")
    else:
        require_perm(actor, Perm.CLINICAL_WRITE)
        _same_org(actor, participant)
    _order_of(participant, order)
    try:
        missed = int(doses_missed)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"doses_missed": "Enter a whole number of doses."}) from exc
    if not 0 <= missed <= 60:
        raise ValidationError({"doses_missed": "Doses missed must be between 0 and 60."})
    day = checked_on or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"checked_on": "The check-in date cannot be in the future."})
    with transaction.atomic():
        row = AdherenceCheck.objects.create(
            participant=participant, order=order, checked_on=day, doses_missed=missed,
            reporter=(AdherenceCheck.Reporter.PARTICIPANT if by_participant
                      else AdherenceCheck.Reporter.STAFF),
            note=note[:500], recorded_by=actor)
        audit_record(actor=actor, action="create", object_type="adherence_check",
                     object_id=row.pk, participant=participant, request=request)
    return row


def side_effect_record(
    *, actor: Any, participant: Any, effect: str, severity: str, onset_on: date,
    order: MedicationOrder | None = None, action: str = "", request: HttpRequest | None = None,
) -> SideEffectReport:
    require_perm(actor, Perm.CLINICAL_WRITE)
    _same_org(actor, participant)
    _order_of(participant, order)
    if not effect.strip():
        raise ValidationError({"effect": "Describe the side effect."})
    _choice(severity, SideEffectReport.Severity, "severity", "severity")
    if onset_on > timezone.localdate():
        raise ValidationError({"onset_on": "The onset date cannot be in the future."})
    with transaction.atomic():
        row = SideEffectReport.objects.create(
            participant=participant, order=order, effect=effect.strip()[:200], severity=severity,
            onset_on=onset_on, action=action[:300], recorded_by=actor)
        audit_record(actor=actor, action="create", object_type="side_effect", object_id=row.pk,
                     participant=participant, request=request)
    return row


def expected_on(participant: Any, day: date) -> set[str]:
    """Screen substances expected from the medications active on `day`."""
    keys = MedicationOrder.objects.filter(participant=participant, start_date__lte=day).exclude(
        stop_date__lt=day).values_list("catalog_key", flat=True)
    return rules.expected_substances(keys)


def screen_record(
    *, actor: Any, participant: Any, collected_on: date, results: dict[str, bool],
    specimen: str = DrugScreen.Specimen.URINE, note: str = "",
    request: HttpRequest | None = None,
) -> DrugScreen:
    """Record a drug screen; each result is interpreted against what was prescribed then."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    _same_org(actor, participant)
    _choice(specimen, DrugScreen.Specimen, "specimen", "specimen")
    if collected_on > timezone.localdate():
        raise ValidationError({"collected_on": "The collection date cannot be in the future."})
    known = rules.screen_substances()
    unknown = [s for s in results if s not in known]
    if unknown:
        raise ValidationError({"results": f"Unknown substance {unknown[0]!r}."})
    if not results:
        raise ValidationError({"results": "Enter at least one substance result."})
    expected = expected_on(participant, collected_on)
    # A prescribed substance the lab did not test for is not "absent": only tested ones count.
    rows = [
        DrugScreenResult(substance=s, positive=bool(pos),
                         interpretation=rules.interpret_screen(substance=s, positive=bool(pos),
                                                               expected=expected))
        for s, pos in sorted(results.items())
    ]
    with transaction.atomic():
        screen = DrugScreen.objects.create(
            participant=participant, collected_on=collected_on, specimen=specimen,
            note=note[:500], recorded_by=actor,
            has_unexpected=any(r.unexpected for r in rows))
        for r in rows:
            r.screen = screen
        DrugScreenResult.objects.bulk_create(rows)
        audit_record(actor=actor, action="create", object_type="drug_screen",
                     object_id=screen.code, participant=participant, request=request)
    return screen


def review_record(
    *, actor: Any, participant: Any, reviewed_on: date | None = None, note: str = "",
    request: HttpRequest | None = None,
) -> MedicationReview:
    require_perm(actor, Perm.MEDICATION_PRESCRIBE)
    _same_org(actor, participant)
    day = reviewed_on or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"reviewed_on": "The review date cannot be in the future."})
    with transaction.atomic():
        row = MedicationReview.objects.create(participant=participant, reviewed_on=day,
                                              reviewer=actor, note=note[:500])
        audit_record(actor=actor, action="create", object_type="medication_review",
                     object_id=row.pk, participant=participant, request=request)
    return row


def naloxone_record(
    *, actor: Any, participant: Any, on_hand: bool, kit_dispensed: bool = False,
    checked_on: date | None = None, note: str = "", request: HttpRequest | None = None,
) -> NaloxoneCheck:
    require_perm(actor, Perm.CLINICAL_WRITE)
    _same_org(actor, participant)
    day = checked_on or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"checked_on": "The date cannot be in the future."})
    with transaction.atomic():
        row = NaloxoneCheck.objects.create(
            participant=participant, checked_on=day, on_hand=bool(on_hand or kit_dispensed),
            kit_dispensed=kit_dispensed, note=note[:300], recorded_by=actor)
        audit_record(actor=actor, action="create", object_type="naloxone_check",
                     object_id=row.pk, participant=participant, request=request)
    return row


def administration_record(
    *, actor: Any, participant: Any, order: MedicationOrder | None, administered_at: datetime,
    dose: Any, unit: str, site: str, lot: str, route: str | None = None,
    expires_on: date | None = None, note: str = "", request: HttpRequest | None = None,
) -> Administration:
    """Record an in-clinic dose. Refused without an active clinic order for it."""
    require_perm(actor, Perm.MEDICATION_ADMINISTER)
    _same_org(actor, participant)
    if order is None:
        raise ValidationError({"order": "A dose can only be recorded against an active order."})
    _order_of(participant, order)
    day = timezone.localtime(administered_at).date()
    if order.status != MedicationOrder.Status.ACTIVE or order.start_date > day or (
            order.stop_date and order.stop_date < day):
        raise ValidationError({"order": f"The order for {order.name} is not active on "
                                        f"{day:%b %d, %Y}; no dose can be recorded."})
    if order.source != MedicationOrder.Source.CLINIC:
        raise ValidationError({"order": "Doses are given only against a clinic order, not an "
                                        "outside prescription."})
    if administered_at > timezone.now():
        raise ValidationError({"administered_at": "The time cannot be in the future."})
    amount = _decimal(dose, "dose")
    _choice(unit, DoseUnit, "unit", "dose unit")
    _check_dose(amount, unit, order.catalog_key)
    if not site.strip():
        raise ValidationError({"site": "Enter the body site (e.g. left gluteal)."})
    if not lot.strip():
        raise ValidationError({"lot": "Enter the lot number."})
    if expires_on and expires_on < day:
        raise ValidationError({"expires_on": "This lot had expired on the day of the dose."})
    with transaction.atomic():
        row = Administration.objects.create(
            order=order, administered_at=administered_at, dose=amount, unit=unit,
            route=_choice(route or order.route, Route, "route", "route"), site=site.strip()[:100],
            lot=lot.strip()[:60], expires_on=expires_on, note=note[:300], administered_by=actor)
        audit_record(actor=actor, action="create", object_type="med_administration",
                     object_id=row.code, participant=participant, request=request)
    return row
