"""Earlier versions of Patient, Observation, MedicationRequest, Consent, Condition and
Coverage, rebuilt from the history the system already keeps (vread and `_history`):

- Patient: `participants.ParticipantRevision`, one row per create or edit.
- Observation: recorded, then (if so) marked entered in error; the time of that change is
  the audit trail's `change` event for the response (intake.measures).
- MedicationRequest: `medications.MedicationChange`, one row per start, adjustment and
  stop, with the dose, unit and frequency from then; other fields are shown as they are
  now (the change rows do not keep them).
- Consent: granted, then (if so) revoked; nothing else about a consent changes.
- Condition (billing.Diagnosis): recorded active, then (if so) resolved or marked entered
  in error, once (only an active diagnosis changes status). Its rank (principal or
  secondary) is not in the resource: a rank change moves lastUpdated, and the version
  before it reads the same.
- Coverage (billing.Coverage): added, then (if so) ended, possibly more than once. The end
  date a coverage had before each `ended` change is in that change's audit event
  (billing.services.coverage.coverage_end writes "ended; end date was <date or none>");
  a change recorded without it leaves only the current version.

The newest version is always the resource as read now, with the same versionId.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from typing import Any

from django.db.models import Case, CharField, DateTimeField, OuterRef, Subquery, Value, When
from django.db.models.functions import Cast, Replace
from django.utils import timezone

from .resources import Spec

SUPPORTED = ("Patient", "Observation", "MedicationRequest", "Consent", "Condition", "Coverage")


def entered_in_error_at() -> Case:
    """When a score was marked entered in error (its audit `change` event); null for a
    score that is not.

    The audit log is asked only for rows in that status: the mark is a response's only
    `change` event, written in the same transaction as the status (intake.measures.
    measure_mark_entered_in_error), and no code takes the status back, so for any other row
    the look-up finds nothing. Asked for every row, a count of a clinic's scores cost one
    look-up in the audit log per score, and PostgreSQL's planner priced it high enough to
    compile the query (JIT) first: 1.6 s for 11,398 scores."""
    from openiop.audit.models import AccessEvent
    from openiop.intake.models import MeasureResponse

    bare = Replace(Cast(OuterRef("code"), output_field=CharField()), Value("-"), Value(""))
    marked = Subquery(AccessEvent.objects.filter(
        participant=OuterRef("participant"), object_type="measure_response", action="change",
    ).annotate(bare=Replace("object_id", Value("-"), Value(""))).filter(bare=bare)
        .order_by("-seq").values("occurred_at")[:1])
    return Case(When(status=MeasureResponse.Status.ENTERED_IN_ERROR, then=marked),
                default=None, output_field=DateTimeField())


def _state(row: Any, moment: datetime, **fields: Any) -> Any:
    obj = copy.copy(row)
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.fhir_updated = moment
    return obj


def _patient(row: Any) -> list[Any]:
    out = []
    for rev in row.revisions.order_by("version"):
        data = dict(rev.data)
        data["date_of_birth"] = date.fromisoformat(data["date_of_birth"])
        out.append(_state(row, rev.recorded_at, **data))
    return out


def _observation(row: Any) -> list[Any]:
    from openiop.intake.models import MeasureResponse

    if row.status != MeasureResponse.Status.ENTERED_IN_ERROR or row.fhir_updated == \
            row.created_at:
        return []
    return [_state(row, row.created_at, status=MeasureResponse.Status.FINAL)]


def _medication_request(row: Any) -> list[Any]:
    from openiop.medications.models import MedicationChange, MedicationOrder

    out = []
    for change in row.changes.order_by("changed_at", "pk"):
        stopped = change.kind == MedicationChange.Kind.STOP
        out.append(_state(
            row, change.changed_at, dose=change.dose, unit=change.unit,
            frequency=change.frequency,
            status=MedicationOrder.Status.STOPPED if stopped else MedicationOrder.Status.ACTIVE,
            stop_date=change.effective_date if stopped else (
                row.stop_date if row.status == MedicationOrder.Status.ACTIVE else None),
            stop_reason=change.reason if stopped else None))
    return out


def _consent(row: Any) -> list[Any]:
    if row.revoked_at is None or row.revoked_at <= row.granted_at or \
            row.revoked_at > timezone.now():
        return []
    return [_state(row, row.granted_at, revoked_at=None)]


def _condition(row: Any) -> list[Any]:
    from openiop.billing.models import DiagnosisStatus

    if row.changed_at is None or row.changed_at <= row.recorded_at:
        return []
    return [_state(row, row.recorded_at, status=DiagnosisStatus.ACTIVE, resolved_on=None)]


ENDED_WAS = re.compile(r"^ended; end date was (none|\d{4}-\d{2}-\d{2})$")


def _coverage(row: Any) -> list[Any]:
    from openiop.audit.models import AccessEvent

    if row.changed_at is None:
        return []
    changes = list(AccessEvent.objects.filter(
        participant_id=row.participant_id, object_type="coverage", action="change",
        object_id__in=[str(row.code), row.code.hex]).order_by("seq").values_list(
        "occurred_at", "reason"))
    before = [ENDED_WAS.match(reason) for _, reason in changes]
    if not changes or not all(before):
        return []
    ends = [None if m.group(1) == "none" else date.fromisoformat(m.group(1))
            for m in before if m]
    moments = [row.created_at, *(at for at, _ in changes[:-1])]
    return [_state(row, moment, ends_on=end) for moment, end in zip(moments, ends, strict=True)]


_EARLIER = {"Patient": _patient, "Observation": _observation,
            "MedicationRequest": _medication_request, "Consent": _consent,
            "Condition": _condition, "Coverage": _coverage}


def versions(spec: Spec, row: Any) -> list[Any]:
    """Every version of the row's resource, oldest first; the last is `row` itself."""
    earlier = [v for v in _EARLIER[spec.name](row) if v.fhir_updated < row.fhir_updated]
    return [*earlier, row]
