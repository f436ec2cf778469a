"""Writes for the medication list around orders: the problem list, reconciliation,
adherence, side effects, drug screens, reviews, naloxone and in-clinic doses.

Each function checks permission and input first ("check, then do"), then writes in one
transaction together with its audit event. Nothing is written when a check fails.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.access.policy import Kind
from openiop.accounts.models import Role, User
from openiop.accounts.permissions import Perm, has_perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import InvalidTransition, NotPermitted

from .. import dosing, rules
from ..models import (
    INJECTION_ROUTES,
    AdherenceCheck,
    Administration,
    DoseUnit,
    DrugScreen,
    DrugScreenResult,
    MedicationChange,
    MedicationOrder,
    MedicationReview,
    NaloxoneCheck,
    Reconciliation,
    Route,
    SideEffectReport,
    UseDisorder,
)
from .common import active_orders, choice, decimal_of, same_org
from .orders import order_stop

if TYPE_CHECKING:
    from openiop.participants.models import Participant

# --- problem list (how opioid use disorder is recorded) --------------------------------

def use_disorder_record(
    *, actor: User, participant: Participant, substance: str, noted_on: date, note: str = "",
    request: HttpRequest | None = None,
) -> UseDisorder:
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, participant, Kind.PROBLEMS)
    choice(substance, UseDisorder.Substance, "substance", "substance")
    if noted_on > timezone.localdate():
        raise ValidationError({"noted_on": "The date noted cannot be in the future."})
    if UseDisorder.objects.filter(participant=participant, substance=substance,
                                  resolved_on__isnull=True).exists():
        raise ValidationError({"substance": "This use disorder is already on the list."})
    with transaction.atomic():
        row = UseDisorder.objects.create(participant=participant, substance=substance,
                                         noted_on=noted_on, note=note[:300], recorded_by=actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.USE_DISORDER, object_id=row.pk,
                     participant=participant, request=request)
    return row


def use_disorder_resolve(
    *, actor: User, row: UseDisorder, resolved_on: date, request: HttpRequest | None = None,
) -> UseDisorder:
    """Mark a problem-list entry resolved on `resolved_on`. The row is kept (history).

    Refused when already resolved, dated in the future or before it was noted. A resolved
    opioid use disorder no longer counts for the naloxone check (it reads open entries).
    """
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, row.participant, Kind.PROBLEMS)
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
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.USE_DISORDER,
                     object_id=row.pk, participant=row.participant, request=request,
                     reason="resolved")
    row.resolved_on = resolved_on
    return row


# --- reconciliation --------------------------------------------------------------------

RECONCILE_DECISIONS = ("continue", "stop")


def reconciliation_record(
    *, actor: User, participant: Participant, point: str, decisions: dict[str, str], note: str = "",
    request: HttpRequest | None = None,
) -> Reconciliation:
    """Review every active medication at a transition: continue or stop each.

    decisions maps order code → "continue" | "stop". Every active medication must have a
    decision. Stopping a clinic order needs a prescriber; an outside one, any clinician.
    """
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, participant)
    choice(point, Reconciliation.Point, "point", "reconciliation point")
    active = active_orders(participant)
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
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.MED_RECONCILIATION,
                     object_id=rec.code, participant=participant, request=request, reason=point)
    return rec


# --- monitoring ------------------------------------------------------------------------

def _order_of(participant: Participant, order: MedicationOrder | None) -> MedicationOrder | None:
    if order is not None and order.participant_id != participant.pk:
        raise ValidationError({"order": "That medication is not on this participant's list."})
    return order


def adherence_record(
    *, actor: User, participant: Participant, doses_missed: int, checked_on: date | None = None,
    order: MedicationOrder | None = None, note: str = "", request: HttpRequest | None = None,
) -> AdherenceCheck:
    """Record an adherence check-in by staff, or by the participant about themself."""
    by_participant = getattr(actor, "role", "") == Role.PARTICIPANT
    if by_participant:
        if getattr(getattr(actor, "participant", None), "pk", None) != participant.pk:
            raise NotPermitted("You can only report your own medications.")
    else:
        require_perm(actor, Perm.CLINICAL_WRITE)
        same_org(actor, participant)
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
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.ADHERENCE_CHECK,
                     object_id=row.pk, participant=participant, request=request)
    return row


def side_effect_record(
    *, actor: User, participant: Participant, effect: str, severity: str, onset_on: date,
    order: MedicationOrder | None = None, action: str = "", request: HttpRequest | None = None,
) -> SideEffectReport:
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, participant)
    _order_of(participant, order)
    if not effect.strip():
        raise ValidationError({"effect": "Describe the side effect."})
    choice(severity, SideEffectReport.Severity, "severity", "severity")
    if onset_on > timezone.localdate():
        raise ValidationError({"onset_on": "The onset date cannot be in the future."})
    with transaction.atomic():
        row = SideEffectReport.objects.create(
            participant=participant, order=order, effect=effect.strip()[:200], severity=severity,
            onset_on=onset_on, action=action[:300], recorded_by=actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.SIDE_EFFECT, object_id=row.pk,
                     participant=participant, request=request)
    return row


def _keys_on(participant: Participant, day: date) -> list[str]:
    return list(MedicationOrder.objects.filter(participant=participant, start_date__lte=day)
                .exclude(stop_date__lt=day).values_list("catalog_key", flat=True))


def expected_on(participant: Participant, day: date) -> set[str]:
    """Screen substances expected from the medications active on `day`."""
    return rules.expected_substances(_keys_on(participant, day))


def screen_record(
    *, actor: User, participant: Participant, collected_on: date, results: dict[str, bool],
    specimen: str = DrugScreen.Specimen.URINE, note: str = "",
    request: HttpRequest | None = None,
) -> DrugScreen:
    """Record a drug screen; each result is interpreted against what was prescribed then."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, participant, Kind.DRUG_SCREENS)
    choice(specimen, DrugScreen.Specimen, "specimen", "specimen")
    if collected_on > timezone.localdate():
        raise ValidationError({"collected_on": "The collection date cannot be in the future."})
    known = rules.screen_substances()
    unknown = [s for s in results if s not in known]
    if unknown:
        raise ValidationError({"results": f"Unknown substance {unknown[0]!r}."})
    if not results:
        raise ValidationError({"results": "Enter at least one substance result."})
    keys = _keys_on(participant, collected_on)
    # A prescribed substance the lab did not test for is not "absent": only tested ones count.
    rows = []
    for substance, pos in sorted(results.items()):
        interpretation, caveat = rules.interpret_result(substance=substance, positive=bool(pos),
                                                        catalog_keys=keys)
        rows.append(DrugScreenResult(substance=substance, positive=bool(pos),
                                     interpretation=interpretation, caveat=caveat[:1000]))
    with transaction.atomic():
        screen = DrugScreen.objects.create(
            participant=participant, collected_on=collected_on, specimen=specimen,
            note=note[:500], recorded_by=actor,
            has_unexpected=any(r.unexpected for r in rows))
        for r in rows:
            r.screen = screen
        DrugScreenResult.objects.bulk_create(rows)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.DRUG_SCREEN,
                     object_id=screen.code, participant=participant, request=request)
    return screen


def review_record(
    *, actor: User, participant: Participant, reviewed_on: date | None = None, note: str = "",
    request: HttpRequest | None = None,
) -> MedicationReview:
    require_perm(actor, Perm.MEDICATION_PRESCRIBE)
    same_org(actor, participant)
    day = reviewed_on or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"reviewed_on": "The review date cannot be in the future."})
    with transaction.atomic():
        row = MedicationReview.objects.create(participant=participant, reviewed_on=day,
                                              reviewer=actor, note=note[:500])
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.MEDICATION_REVIEW,
                     object_id=row.pk, participant=participant, request=request)
    return row


def naloxone_record(
    *, actor: User, participant: Participant, on_hand: bool, kit_dispensed: bool = False,
    checked_on: date | None = None, note: str = "", request: HttpRequest | None = None,
) -> NaloxoneCheck:
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, participant)
    day = checked_on or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"checked_on": "The date cannot be in the future."})
    with transaction.atomic():
        row = NaloxoneCheck.objects.create(
            participant=participant, checked_on=day, on_hand=bool(on_hand or kit_dispensed),
            kit_dispensed=kit_dispensed, note=note[:300], recorded_by=actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.NALOXONE_CHECK,
                     object_id=row.pk, participant=participant, request=request)
    return row


def administration_record(
    *, actor: User, participant: Participant, order: MedicationOrder | None, administered_at: datetime,
    dose: Any, unit: str, site: str = "", lot: str = "", route: str | None = None,
    expires_on: date | None = None, note: str = "", request: HttpRequest | None = None,
) -> Administration:
    """Record an in-clinic dose. Refused without an active clinic order for it."""
    require_perm(actor, Perm.MEDICATION_ADMINISTER)
    same_org(actor, participant)
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
    amount = decimal_of(dose, "dose")
    choice(unit, DoseUnit, "unit", "dose unit")
    given_route = choice(route or order.route, Route, "route", "route")
    check = dosing.check_dose(dose=amount, unit=unit, route=given_route,
                              catalog_key=order.catalog_key)
    if check.refusal:
        raise ValidationError({check.refusal[0]: check.refusal[1]})
    # Body site and lot number are recorded for injections only (an oral tablet has neither).
    injection = given_route in INJECTION_ROUTES
    site, lot = (site or "").strip(), (lot or "").strip()
    if injection and not site:
        raise ValidationError({"site": "Enter the body site of the injection (e.g. left "
                                       "gluteal)."})
    if injection and not lot:
        raise ValidationError({"lot": "Enter the lot number of the injection."})
    if not injection:
        site, lot, expires_on = "", "", None
    if expires_on and expires_on < day:
        raise ValidationError({"expires_on": "This lot had expired on the day of the dose."})
    with transaction.atomic():
        row = Administration.objects.create(
            order=order, administered_at=administered_at, dose=amount, unit=unit,
            route=given_route, site=site[:100], lot=lot[:60], expires_on=expires_on,
            note=note[:300], administered_by=actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.MED_ADMINISTRATION,
                     object_id=row.code, participant=participant, request=request)
    return row
