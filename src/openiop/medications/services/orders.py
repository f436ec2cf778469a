"""Medication orders: create, adjust, stop, with every safety check before anything is
written.

Checks, in order: permission and organization; coding (a catalog pick keeps its code, a
renamed pick is refused, free text is matched to the catalog by name and synonym, an
unmatched order is saved as uncoded and shown as not checked for interactions); dose (unit,
route, single dose refused above the maximum, daily total above the maximum needs a
prescriber's documented override, a ten-fold change needs confirmation); controlled
substances (refills per schedule; methadone for opioid use disorder only in a certified
opioid treatment program); then warnings to acknowledge with a reason (interactions with
active and recently stopped medications, allergies, a missing allergy statement).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, has_perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted
from openiop.participants.selectors import current_episode

from .. import controlled, dosing, interactions, rules, selectors
from ..models import DoseUnit, Frequency, MedicationChange, MedicationOrder, Route
from . import allergies
from .common import (
    MIN_REASON,
    active_orders,
    choice,
    decimal_of,
    facts,
    interaction_window,
    require_acknowledged,
    same_org,
    save_acks,
)

if TYPE_CHECKING:
    from openiop.participants.models import Participant

# --- checks ----------------------------------------------------------------------------


def resolve_coding(*, catalog_key: str, name: str) -> tuple[rules.CatalogEntry | None, str, str]:
    """(entry, coding, name) for what the prescriber chose or typed.

    A catalog pick whose typed name refers to another medication (or to nothing in the
    catalog) is refused: the code would not match the name.
    """
    key = (catalog_key or "").strip()
    typed = (name or "").strip()
    if key:
        entry = rules.catalog().get(key)
        if entry is None:
            raise ValidationError({"catalog_key": f"{key!r} is not in the medication catalog."})
        if typed and typed.lower() != entry.name.lower():
            matched = rules.match_text(typed)
            if matched is None or set(matched.ingredients) != set(entry.ingredients):
                raise ValidationError({"name": (
                    f"\"{typed}\" is not {entry.name}, the catalog choice: the name and the "
                    "code would disagree. Keep the catalog name, or clear the catalog choice "
                    "to order a medication by name.")})
        return entry, MedicationOrder.Coding.CATALOG, typed or entry.name
    if not typed:
        raise ValidationError({"name": "Choose a medication from the catalog or enter its name."})
    matched = rules.match_text(typed)
    if matched is None:
        return None, MedicationOrder.Coding.UNCODED, typed
    return matched, MedicationOrder.Coding.MATCHED, typed


def _methadone_entry(entry: rules.CatalogEntry | None, coding: str, indication: str,
                     name: str) -> rules.CatalogEntry | None:
    """Which methadone entry an order is: the opioid-use-disorder one when it was chosen or
    named (Methadose, "methadone for opioid use disorder") or its indication says so;
    otherwise methadone for pain, checked as an opioid."""
    if entry is None or "methadone" not in entry.ingredients:
        return entry
    text = indication if coding == MedicationOrder.Coding.CATALOG else f"{indication} {name}"
    oud = controlled.is_methadone_for_oud(entry, text)
    return rules.catalog()["methadone" if oud else "methadone_pain"]


def check_otp(*, participant: Participant, entry: rules.CatalogEntry | None, indication: str,
              source: str) -> None:
    if source != MedicationOrder.Source.CLINIC or not controlled.is_methadone_for_oud(
            entry, indication):
        return
    episode = current_episode(participant)
    if not (episode is not None and episode.program.typed_settings.certified_otp):
        raise ValidationError({"catalog_key": controlled.OTP_REFUSAL})


def _state(participant: Participant) -> str:
    """The state whose prescription rules apply: the site of the current episode's program."""
    episode = current_episode(participant)
    return episode.program.site.state if episode is not None else ""


def check_refills(*, participant: Participant, entry: rules.CatalogEntry | None, refills: int) -> None:
    problem = controlled.refill_problem(entry=entry, refills=refills, state=_state(participant))
    if problem:
        raise ValidationError({"refills": problem})


def check_dose(*, actor: User, entry: rules.CatalogEntry | None, dose: Decimal, unit: str,
               route: str, frequency: str, max_doses_per_day: int | None,
               previous: tuple[Decimal, str] | None, confirm_dose_change: bool,
               override_reason: str) -> str:
    """Run the dose checks; return the documented override reason to store ("" if none)."""
    result = dosing.check_dose(dose=dose, unit=unit, route=route, frequency=frequency,
                               catalog_key=entry.key if entry else "",
                               max_doses_per_day=max_doses_per_day)
    if result.refusal:
        raise ValidationError({result.refusal[0]: result.refusal[1]})
    if previous is not None and not confirm_dose_change:
        message = dosing.tenfold_change(previous=previous[0], previous_unit=previous[1],
                                        dose=dose, unit=unit)
        if message:
            raise ValidationError({"confirm_dose_change": message + " Tick \"I confirm this "
                                   "dose\" to continue."})
    reason = (override_reason or "").strip()
    if not result.over_daily:
        return ""
    if not has_perm(actor, Perm.MEDICATION_PRESCRIBE):
        raise ValidationError({"dose": result.over_daily + " Only a prescriber can document "
                                                           "an override."})
    if len(reason) < MIN_REASON:
        raise ValidationError({"dose_override_reason": result.over_daily + " To give it "
                               "anyway, document the reason for the override."})
    return reason[:500]


def _warnings_for(*, participant: Participant, candidate: interactions.MedFacts, entry_key: str,
                  name: str, exclude_pk: int | None, source: str, done: set[str]
                  ) -> list[interactions.Warning]:
    others = [facts(o, label) for o, label in interaction_window(participant)
              if o.pk != exclude_pk]
    warnings = interactions.interaction_warnings(candidate, others)
    status = selectors.allergy_status(participant)
    warnings += allergies.allergy_warnings(active=status["active"], catalog_key=entry_key,
                                           name=name)
    if source == MedicationOrder.Source.CLINIC and not status["on_file"]:
        warnings.append(allergies.missing_statement_warning(name))
    return [w for w in warnings if w.rule_id not in done]


def _previous_dose(participant: Participant, entry: rules.CatalogEntry | None, name: str
                   ) -> tuple[Decimal, str] | None:
    rows = MedicationOrder.objects.filter(participant=participant)
    rows = rows.filter(catalog_key=entry.key) if entry else rows.filter(name__iexact=name)
    last = rows.order_by("-start_date", "-pk").values_list("dose", "unit").first()
    return (last[0], last[1]) if last else None


# --- create ----------------------------------------------------------------------------

def order_create(
    *, actor: User, participant: Participant, data: dict[str, Any],
    acknowledgements: dict[str, str] | None = None, request: HttpRequest | None = None,
) -> MedicationOrder:
    """Add a medication: a clinic order (prescribers only) or an outside prescription.

    data: catalog_key or name, source, prescriber (a user, clinic orders), outside_prescriber,
    dose, unit, route, frequency, max_doses_per_day (as-needed orders), quantity, refills,
    start_date, stop_date, indication, contains_alcohol, confirm_dose_change,
    dose_override_reason. Raises ValidationError naming the field, NotPermitted, or
    InteractionWarningsPending (until each warning is acknowledged with a reason).
    """
    source = data.get("source") or MedicationOrder.Source.CLINIC
    choice(source, MedicationOrder.Source, "source", "source")
    if source == MedicationOrder.Source.CLINIC:
        require_perm(actor, Perm.MEDICATION_PRESCRIBE)
    else:
        require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, participant)
    order, override = _build_order(participant=participant, data=data, source=source,
                                   actor=actor)
    warnings = _warnings_for(participant=participant, candidate=facts(order),
                             entry_key=order.catalog_key, name=order.name, exclude_pk=None,
                             source=source, done=set())
    require_acknowledged(warnings, acknowledgements)
    reason = (MedicationChange.Reason.RECONCILED if data.get("reconciled")
              else MedicationChange.Reason.NEW)
    with transaction.atomic():
        order.save()
        MedicationChange.objects.create(
            order=order, kind=MedicationChange.Kind.START, reason=reason,
            effective_date=order.start_date, dose=order.dose, unit=order.unit,
            frequency=order.frequency, changed_by=actor, note=(data.get("note") or "")[:500],
            override_reason=override,
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.MEDICATION_ORDER,
                     object_id=order.code, participant=participant, request=request,
                     reason=f"coding: {order.coding}" + ("; daily maximum overridden"
                                                          if override else ""))
        save_acks(order, warnings, acknowledgements or {}, actor, request)
    return order


def _prescriber(participant: Participant, data: dict[str, Any], source: str) -> tuple[Any, str]:
    prescriber = data.get("prescriber")
    outside = (data.get("outside_prescriber") or "").strip()
    if source == MedicationOrder.Source.CLINIC:
        if prescriber is None:
            raise ValidationError({"prescriber": "A clinic order needs a prescriber."})
        if not has_perm(prescriber, Perm.MEDICATION_PRESCRIBE) or \
                getattr(prescriber, "staff_organization_id", None) != participant.organization_id:
            raise ValidationError(
                {"prescriber": f"{prescriber} is not a prescriber in this organization."})
        return prescriber, outside
    if not outside:
        raise ValidationError({"outside_prescriber": "Name the outside prescriber (or 'unknown')."})
    return None, outside


def _int_or_none(value: Any, field: str, low: int, high: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: "Enter a whole number."}) from exc
    if not low <= number <= high:
        raise ValidationError({field: f"Enter a number from {low} to {high}."})
    return number


def _build_order(*, participant: Participant, data: dict[str, Any], source: str, actor: User
                 ) -> tuple[MedicationOrder, str]:
    indication = (data.get("indication") or "").strip()
    entry, coding, name = resolve_coding(catalog_key=data.get("catalog_key") or "",
                                         name=data.get("name") or "")
    entry = _methadone_entry(entry, coding, indication, name)
    prescriber, outside = _prescriber(participant, data, source)
    dose = decimal_of(data.get("dose"), "dose")
    unit = choice(data.get("unit"), DoseUnit, "unit", "dose unit")
    route = choice(data.get("route"), Route, "route", "route")
    frequency = choice(data.get("frequency"), Frequency, "frequency", "frequency")
    max_per_day = _int_or_none(data.get("max_doses_per_day"), "max_doses_per_day", 1, 24)
    start = data.get("start_date")
    if not isinstance(start, date):
        raise ValidationError({"start_date": "Enter the start date."})
    stop = data.get("stop_date")
    if stop is not None and stop < start:
        raise ValidationError({"stop_date": "The stop date cannot be before the start date."})
    quantity = _int_or_none(data.get("quantity"), "quantity", 0, 10000)
    refills = _int_or_none(data.get("refills"), "refills", 0, 99) or 0
    check_otp(participant=participant, entry=entry, indication=indication, source=source)
    check_refills(participant=participant, entry=entry, refills=refills)
    override = check_dose(
        actor=actor, entry=entry, dose=dose, unit=unit, route=route, frequency=frequency,
        max_doses_per_day=max_per_day, previous=_previous_dose(participant, entry, name),
        confirm_dose_change=bool(data.get("confirm_dose_change")),
        override_reason=data.get("dose_override_reason") or "")
    status = MedicationOrder.Status.ACTIVE
    if stop is not None and stop < timezone.localdate():
        status = MedicationOrder.Status.STOPPED
    return MedicationOrder(
        participant=participant, catalog_key=entry.key if entry else "", name=name[:200],
        rxnorm=entry.rxnorm if entry else "", coding=coding, source=source,
        prescriber=prescriber, outside_prescriber=outside[:200], dose=dose, unit=unit,
        route=route, frequency=frequency, max_doses_per_day=max_per_day, quantity=quantity,
        refills=refills, start_date=start, stop_date=stop, status=status,
        indication=indication[:200], contains_alcohol=bool(data.get("contains_alcohol")),
        created_by=actor,
    ), override


# --- adjust and stop -------------------------------------------------------------------

def _require_changeable(actor: User, order: MedicationOrder) -> None:
    if order.source == MedicationOrder.Source.CLINIC:
        if not has_perm(actor, Perm.MEDICATION_PRESCRIBE):
            raise NotPermitted("Only a prescriber may change a clinic medication order.")
    else:
        require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, order.participant)
    if order.status != MedicationOrder.Status.ACTIVE:
        raise InvalidTransition("This medication is stopped; start a new order instead.",
                                field="status")


def order_adjust(
    *, actor: User, order: MedicationOrder, version: int, reason: str,
    dose: Any = None, unit: str | None = None, frequency: str | None = None,
    route: str | None = None, quantity: int | None = None, refills: int | None = None,
    max_doses_per_day: int | None = None, effective_date: date | None = None, note: str = "",
    contains_alcohol: bool | None = None, confirm_dose_change: bool = False,
    dose_override_reason: str = "", acknowledgements: dict[str, str] | None = None,
    request: HttpRequest | None = None,
) -> MedicationOrder:
    """Change dose, unit, schedule, route or refills; the change becomes a history row.

    Every check of order_create applies again: dose limits (a ten-fold change from the
    current dose needs confirmation), refills per schedule, interactions and allergies.
    """
    _require_changeable(actor, order)
    if reason not in MedicationChange.ADJUST_REASONS:
        raise ValidationError({"reason": "Give the reason for the change (side effect, not "
                                         "effective, adherence, participant preference or dose "
                                         "titration)."})
    entry = rules.catalog().get(order.catalog_key)
    new_dose = order.dose if dose in (None, "") else decimal_of(dose, "dose")
    new_unit = choice(unit or order.unit, DoseUnit, "unit", "dose unit")
    new_freq = choice(frequency or order.frequency, Frequency, "frequency", "frequency")
    new_route = choice(route or order.route, Route, "route", "route")
    new_max = _int_or_none(max_doses_per_day, "max_doses_per_day", 1, 24)
    if new_max is None and new_freq == Frequency.PRN:
        new_max = order.max_doses_per_day
    when = effective_date or timezone.localdate()
    if when < order.start_date:
        raise ValidationError({"effective_date": "A change cannot take effect before the "
                                                 "medication started."})
    new_refills = _int_or_none(refills, "refills", 0, 99)
    new_quantity = _int_or_none(quantity, "quantity", 0, 10000)
    alcohol = order.contains_alcohol if contains_alcohol is None else bool(contains_alcohol)
    fields: dict[str, Any] = {"dose": new_dose, "unit": new_unit, "frequency": new_freq,
                              "route": new_route, "contains_alcohol": alcohol,
                              "max_doses_per_day": new_max}
    if new_refills is not None:
        check_refills(participant=order.participant, entry=entry, refills=new_refills)
        fields["refills"] = new_refills
    if new_quantity is not None:
        fields["quantity"] = new_quantity
    if all(getattr(order, k) == v for k, v in fields.items()):
        raise ValidationError({"dose": "Nothing changed: enter the new dose or schedule."})
    override = check_dose(
        actor=actor, entry=entry, dose=new_dose, unit=new_unit, route=new_route,
        frequency=new_freq, max_doses_per_day=new_max, previous=(order.dose, order.unit),
        confirm_dose_change=confirm_dose_change, override_reason=dose_override_reason)
    candidate = interactions.facts_for(ref=str(order.code), name=order.name,
                                       catalog_key=order.catalog_key, contains_alcohol=alcohol)
    done = set(order.acknowledgements.values_list("rule_id", flat=True))
    warnings = _warnings_for(participant=order.participant, candidate=candidate,
                             entry_key=order.catalog_key, name=order.name,
                             exclude_pk=order.pk, source="adjust", done=done)
    require_acknowledged(warnings, acknowledgements)
    with transaction.atomic():
        updated = MedicationOrder.objects.filter(pk=order.pk, version=version).update(
            version=version + 1, **fields)
        if updated != 1:
            raise Conflict("Someone changed this medication after you opened it. Nothing was "
                           "saved; reload and apply your change again.", field="version")
        MedicationChange.objects.create(
            order=order, kind=MedicationChange.Kind.ADJUST, reason=reason, note=note[:500],
            effective_date=when, dose=new_dose, unit=new_unit, frequency=new_freq,
            previous_dose=order.dose, changed_by=actor, override_reason=override,
        )
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.MEDICATION_ORDER,
                     object_id=order.code, participant=order.participant, request=request,
                     reason=reason + ("; daily maximum overridden" if override else ""))
        save_acks(order, warnings, acknowledgements or {}, actor, request)
    order.refresh_from_db()
    return order


def order_stop(
    *, actor: User, order: MedicationOrder, version: int, reason: str,
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
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.MEDICATION_ORDER,
                     object_id=order.code, participant=order.participant, request=request,
                     reason=f"stopped: {reason}")
    order.refresh_from_db()
    return order


__all__ = ["active_orders", "order_adjust", "order_create", "order_stop", "resolve_coding"]
