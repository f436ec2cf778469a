"""Allergies and intolerances on the chart, the dated "no known drug allergies" statement,
and the warnings an order raises against them.

An order for a medication whose ingredient (or, when the allergy names a whole class, whose
class) matches an active allergy raises a warning that must be acknowledged with a reason.
A clinic order when the chart has neither an active allergy nor a "no known drug
allergies" statement asks for one (acknowledged with a reason, e.g. "participant unsure,
asked the pharmacy").
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import Conflict

from .. import interactions, rules
from ..models import Allergy, AllergyStatement
from .common import choice, same_org

if TYPE_CHECKING:
    from openiop.participants.models import Participant

# Classes an allergy may extend to (catalog flags), with labels for the form.
ALLERGY_CLASSES = {
    "opioid": "Opioids", "benzodiazepine": "Benzodiazepines", "maoi": "MAO inhibitors",
    "nsaid": "NSAIDs", "ace_inhibitor": "ACE inhibitors", "arb": "Angiotensin receptor blockers",
    "thiazide": "Thiazide diuretics", "gabapentinoid": "Gabapentinoids",
    "stimulant": "Stimulants", "muscle_relaxant": "Muscle relaxants", "triptan": "Triptans",
}

MISSING_STATEMENT = "allergy_status_unknown"


def allergy_record(
    *, actor: User, participant: Participant, reaction: str, severity: str, noted_on: date,
    substance: str = "", catalog_key: str = "", drug_class: str = "",
    kind: str = Allergy.Kind.ALLERGY, request: HttpRequest | None = None,
) -> Allergy:
    """Record an allergy or intolerance (substance from the catalog or free text)."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, participant)
    key = (catalog_key or "").strip()
    entry = rules.catalog().get(key) if key else None
    if key and entry is None:
        raise ValidationError({"catalog_key": f"{key!r} is not in the medication catalog."})
    text = (substance or "").strip()
    if not text and entry is None:
        raise ValidationError({"substance": "Choose the substance from the catalog or type it."})
    if entry is None:
        matched = rules.match_text(text)
        key = matched.key if matched else ""
    if drug_class and drug_class not in ALLERGY_CLASSES:
        raise ValidationError({"drug_class": "Choose a class from the list, or none."})
    choice(kind, Allergy.Kind, "kind", "kind (allergy or intolerance)")
    choice(severity, Allergy.Severity, "severity", "severity")
    if not (reaction or "").strip():
        raise ValidationError({"reaction": "Describe the reaction (e.g. hives, anaphylaxis, "
                                           "nausea)."})
    if not isinstance(noted_on, date) or noted_on > timezone.localdate():
        raise ValidationError({"noted_on": "Enter the date noted (not in the future)."})
    with transaction.atomic():
        row = Allergy.objects.create(
            participant=participant, catalog_key=key, substance=(text or (entry.name if entry else ""))[:200],
            drug_class=drug_class, kind=kind, reaction=reaction.strip()[:300],
            severity=severity, noted_on=noted_on, recorded_by=actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.ALLERGY, object_id=row.code,
                     participant=participant, request=request)
    return row


def allergy_set_status(
    *, actor: User, allergy: Allergy, version: int, status: str,
    request: HttpRequest | None = None,
) -> Allergy:
    """Mark an allergy inactive, resolved or entered in error (or active again)."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, allergy.participant)
    choice(status, Allergy.Status, "status", "status")
    with transaction.atomic():
        updated = Allergy.objects.filter(pk=allergy.pk, version=version).update(
            status=status, version=version + 1)
        if updated != 1:
            raise Conflict("Someone changed this allergy after you opened it. Nothing was "
                           "saved; reload and try again.", field="version")
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.ALLERGY,
                     object_id=allergy.code, participant=allergy.participant,
                     request=request, reason=status)
    allergy.refresh_from_db()
    return allergy


def no_known_allergies_record(
    *, actor: User, participant: Participant, stated_on: date | None = None, note: str = "",
    request: HttpRequest | None = None,
) -> AllergyStatement:
    """Record "no known drug allergies" as of a date. Refused while an allergy is active."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, participant)
    day = stated_on or timezone.localdate()
    if day > timezone.localdate():
        raise ValidationError({"stated_on": "The date cannot be in the future."})
    if Allergy.objects.filter(participant=participant, status=Allergy.Status.ACTIVE).exists():
        raise ValidationError({"stated_on": "An active allergy is on the chart: mark it "
                                            "inactive or entered in error first."})
    with transaction.atomic():
        row = AllergyStatement.objects.create(participant=participant, stated_on=day,
                                              note=note[:300], recorded_by=actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.ALLERGY_STATEMENT,
                     object_id=row.pk, participant=participant, request=request,
                     reason="no known drug allergies")
    return row


def _allergy_tags(allergy: Allergy) -> set[str]:
    entry = rules.catalog().get(allergy.catalog_key)
    tags = {f"ing:{i}" for i in entry.ingredients} if entry else set()
    if allergy.drug_class:
        tags.add(allergy.drug_class)
    return tags


def _words(text: str) -> set[str]:
    return set(rules._words(text))


def allergy_warnings(*, active: list[Allergy], catalog_key: str, name: str
                     ) -> list[interactions.Warning]:
    """Warnings for an order of this medication against the active allergies."""
    entry = rules.catalog().get(catalog_key) if catalog_key else None
    warnings = []
    for allergy in active:
        if entry is not None:
            hit = bool(_allergy_tags(allergy) & entry.tags)
        else:  # an uncoded order: compare names word by word
            hit = bool(_words(allergy.substance)) and _words(allergy.substance) <= _words(name)
        if hit:
            scope = (f" (whole class: {ALLERGY_CLASSES[allergy.drug_class].lower()})"
                     if allergy.drug_class else "")
            warnings.append(interactions.Warning(
                rule_id=f"allergy_{allergy.pk}",
                title=f"{allergy.get_kind_display()} to {allergy.substance}{scope}",
                severity="severe" if allergy.severity == Allergy.Severity.SEVERE else "high",
                mechanism=(f"Recorded {allergy.get_kind_display().lower()}: {allergy.reaction} "
                           f"({allergy.get_severity_display().lower()}, noted "
                           f"{allergy.noted_on:%b %d, %Y})."),
                action="Confirm the history with the participant; choose another medication, or "
                       "give the reason it is still the right choice.",
                source="The participant's allergy list on this chart.",
                medications=(name, allergy.substance)))
    return warnings


def missing_statement_warning(name: str) -> interactions.Warning:
    return interactions.Warning(
        rule_id=MISSING_STATEMENT, title="No allergy statement on file",
        severity="high",
        mechanism="The chart has no recorded allergies and no \"no known drug allergies\" "
                  "statement, so this order cannot be checked against allergies.",
        action="Ask the participant and record their allergies or \"no known drug allergies\" "
               "on the Medications tab; or give the reason to prescribe without it.",
        source="The Joint Commission National Patient Safety Goal NPSG.03.06.01 (maintain and "
               "communicate accurate medication information, including allergies).",
        medications=(name,))
