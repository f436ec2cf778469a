"""Recording, ranking and resolving diagnoses (ICD-10-CM)."""

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
from openiop.core.exceptions import Conflict, InvalidTransition

from .. import icd10
from ..models import Diagnosis, DiagnosisRank, DiagnosisStatus
from ._common import require_date, same_org

if TYPE_CHECKING:
    from openiop.participants.models import Participant


def diagnosis_add(
    *, actor: User, participant: Participant, icd_code: str, rank: str = DiagnosisRank.SECONDARY,
    onset_on: date | str | None = None, request: HttpRequest | None = None,
) -> Diagnosis:
    """Add an active diagnosis. A new principal demotes the current one to secondary."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, participant.organization_id)
    found = icd10.lookup(icd_code or "")
    if found is None:
        raise ValidationError({"icd_code": f"“{icd_code}” is not an ICD-10-CM code in "
                                           f"{icd10.CODE_SET_VERSION}."})
    if rank not in DiagnosisRank.values:
        raise ValidationError({"rank": "Choose principal or secondary."})
    if rank == DiagnosisRank.PRINCIPAL and not found.billable:
        raise ValidationError({"icd_code": f"{found.code} is a heading, not a billable code: "
                                           "choose a more specific code as principal."})
    onset = require_date(onset_on, "onset_on", required=False)
    if onset and onset > timezone.localdate():
        raise ValidationError({"onset_on": "The onset date cannot be in the future."})
    active = Diagnosis.objects.filter(participant=participant, status=DiagnosisStatus.ACTIVE)
    if active.filter(icd_code=found.code).exists():
        raise ValidationError({"icd_code": f"{found.code} is already an active diagnosis."})
    with transaction.atomic():
        if rank == DiagnosisRank.PRINCIPAL:
            active.filter(rank=DiagnosisRank.PRINCIPAL).update(rank=DiagnosisRank.SECONDARY,
                                                               changed_at=timezone.now())
        dx = Diagnosis.objects.create(
            participant=participant, icd_code=found.code, description=found.description[:300],
            code_set_version=icd10.CODE_SET_VERSION, billable=found.billable, rank=rank,
            onset_on=onset, recorded_by=actor,
        )
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.DIAGNOSIS, object_id=dx.code,
                     participant=participant, request=request)
    return dx


def diagnosis_make_principal(*, actor: User, diagnosis: Diagnosis, version: int,
                             request: HttpRequest | None = None) -> Diagnosis:
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, diagnosis.participant.organization_id)
    if not diagnosis.is_active:
        raise InvalidTransition("Only an active diagnosis can be principal.")
    if not diagnosis.billable:
        raise ValidationError({"icd_code": f"{diagnosis.icd_code} is not billable and cannot be "
                                           "principal."})
    with transaction.atomic():
        Diagnosis.objects.filter(participant=diagnosis.participant, status=DiagnosisStatus.ACTIVE,
                                 rank=DiagnosisRank.PRINCIPAL).update(
            rank=DiagnosisRank.SECONDARY, changed_at=timezone.now())
        changed = Diagnosis.objects.filter(pk=diagnosis.pk, version=version).update(
            rank=DiagnosisRank.PRINCIPAL, version=version + 1, changed_at=timezone.now())
        if not changed:
            raise Conflict("Someone changed this diagnosis; reload and try again.")
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.DIAGNOSIS,
                     object_id=diagnosis.code, participant=diagnosis.participant,
                     request=request, reason="made principal")
    diagnosis.refresh_from_db()
    return diagnosis


def diagnosis_resolve(*, actor: User, diagnosis: Diagnosis, resolved_on: date | str | None,
                      version: int, entered_in_error: bool = False,
                      request: HttpRequest | None = None) -> Diagnosis:
    """Resolve (with a date) or mark entered in error; the row is kept either way."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    same_org(actor, diagnosis.participant.organization_id)
    if not diagnosis.is_active:
        raise InvalidTransition("This diagnosis is no longer active.")
    day = require_date(resolved_on, "resolved_on", required=not entered_in_error)
    if day and day > timezone.localdate():
        raise ValidationError({"resolved_on": "The resolution date cannot be in the future."})
    if day and diagnosis.onset_on and day < diagnosis.onset_on:
        raise ValidationError({"resolved_on": "The resolution date is before the onset date."})
    status = DiagnosisStatus.ENTERED_IN_ERROR if entered_in_error else DiagnosisStatus.RESOLVED
    with transaction.atomic():
        changed = Diagnosis.objects.filter(pk=diagnosis.pk, version=version).update(
            status=status, resolved_on=day, version=version + 1, changed_at=timezone.now())
        if not changed:
            raise Conflict("Someone changed this diagnosis; reload and try again.")
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.DIAGNOSIS,
                     object_id=diagnosis.code, participant=diagnosis.participant,
                     request=request, reason=status)
    diagnosis.refresh_from_db()
    return diagnosis
