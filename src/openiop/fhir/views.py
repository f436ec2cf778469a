"""FHIR R4 REST endpoints under /fhir/R4/ (read and search, JSON).

Every participant record read through FHIR is audited; 42 CFR Part 2 records are
returned only under an active consent, labelled, with the redisclosure notice in the
`X-Redisclosure-Notice` header (and recorded as a disclosure). Errors are
OperationOutcome resources with 4xx status codes.
"""

from __future__ import annotations

import json
import uuid
import zoneinfo
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_record
from openiop.care.models import EpisodeOfCare, Program
from openiop.organizations.models import Organization, Site
from openiop.participants.models import Consent, Participant
from openiop.participants.selectors import get_participant_for_user, participants_visible_to

from . import part2
from .mapping.appointment import appointment
from .mapping.capability import capability_statement
from .mapping.consent import consent
from .mapping.episode_of_care import episode_of_care
from .mapping.medication_request import MEDICATION_STATUSES, is_moud, medication_request
from .mapping.observation import observation
from .mapping.organization import healthcare_service, location, organization
from .mapping.patient import patient
from .mapping.practitioner import practitioner
from .search import SearchError, date_filter

FHIR_JSON = "application/fhir+json"
MAX_COUNT = 100


def _response(data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None,
              ) -> HttpResponse:
    response = HttpResponse(json.dumps(data), status=status, content_type=FHIR_JSON)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def outcome(status: int, code: str, diagnostics: str, expression: str = "") -> HttpResponse:
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return _response({"resourceType": "OperationOutcome", "issue": [issue]}, status)


def fhir_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in clinic staff only; Http404 becomes an OperationOutcome."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return outcome(401, "login", "Sign in required.")
        if not user.is_clinic_staff or user.staff_organization_id is None or not has_perm(
            user, Perm.PARTICIPANT_VIEW
        ):
            return outcome(403, "forbidden", "Clinic staff only.")
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return outcome(404, "not-found", "No such resource.")

    return wrapped


def _part2_check(request: HttpRequest, participant: Participant, object_type: str,
                 *, part2_record: bool | None = None) -> tuple[bool, dict[str, str]]:
    """(allowed, extra headers). Writes the audit event either way.

    `part2_record` overrides the participant-level test for a record that is a Part 2
    record on its own (a MOUD order in a Part 2 program).
    """
    protected = part2.is_part2_record(participant) if part2_record is None else part2_record
    if not protected:
        audit_record(actor=request.user, action="view", object_type=object_type,
                     object_id=participant.code, participant=participant, request=request)
        return True, {}
    consent = part2.active_part2_consent(participant)
    if consent is None:
        audit_record(actor=request.user, action="denied", object_type=object_type,
                     object_id=participant.code, participant=participant, request=request,
                     reason="42 CFR Part 2: no active consent for disclosure")
        return False, {}
    audit_record(actor=request.user, action="disclose", object_type=object_type,
                 object_id=participant.code, participant=participant, request=request,
                 reason=f"42 CFR Part 2 consent {consent.code}")
    return True, {"X-Redisclosure-Notice": part2.notice_text()}


def _part2_refused() -> HttpResponse:
    return outcome(403, "suppressed", "This record is protected by 42 CFR Part 2 and there is "
                   "no active consent that permits its disclosure.")


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    return _response(capability_statement(request.build_absolute_uri("/fhir/R4/")))


@require_GET
@fhir_view
def patient_read(request: HttpRequest, code: str) -> HttpResponse:
    p = get_participant_for_user(request.user, code, request=request, audit_action=None)
    allowed, headers = _part2_check(request, p, "fhir.Patient")
    if not allowed:
        return _part2_refused()
    resource = patient(p)
    if headers:
        resource = part2.label(resource)
    return _response(resource, headers=headers)


def _bundle(request: HttpRequest, entries: list[dict[str, Any]], total: int, withheld: int,
            ) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle", "type": "searchset", "total": total,
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": [{"fullUrl": request.build_absolute_uri(
                       f"/fhir/R4/{e['resourceType']}/{e['id']}"),
                   "resource": e, "search": {"mode": "match"}} for e in entries],
    }
    if withheld:
        bundle["entry"].append({"resource": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "suppressed",
                       "diagnostics": f"{withheld} matching record(s) withheld under "
                                      "42 CFR Part 2 (no active consent)."}]},
            "search": {"mode": "outcome"}})
    return bundle


def _count(request: HttpRequest) -> int | HttpResponse:
    raw = request.GET.get("_count", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_COUNT:
        return outcome(400, "invalid", f"_count must be a whole number from 1 to {MAX_COUNT}.",
                       "_count")
    return int(raw)


@require_GET
@fhir_view
def patient_search(request: HttpRequest) -> HttpResponse:
    count = _count(request)
    if isinstance(count, HttpResponse):
        return count
    unknown = set(request.GET) - {"identifier", "name", "_count"}
    if unknown:
        return outcome(400, "not-supported",
                       f"Unsupported search parameter(s): {', '.join(sorted(unknown))}.")
    qs = participants_visible_to(request.user).select_related("organization")
    identifier = request.GET.get("identifier", "")
    if identifier:
        qs = qs.filter(mrn__iexact=identifier.rsplit("|", 1)[-1])
    name = request.GET.get("name", "").strip()
    if name:
        from django.db.models import Q

        qs = qs.filter(Q(legal_last_name__icontains=name) | Q(legal_first_name__icontains=name)
                       | Q(preferred_name__icontains=name))
    if not identifier and not name:
        return outcome(400, "required", "Search Patient by identifier or name.")
    entries, withheld = [], 0
    for p in qs.order_by("legal_last_name", "legal_first_name")[:count]:
        allowed, headers = _part2_check(request, p, "fhir.Patient")
        if not allowed:
            withheld += 1
            continue
        resource = patient(p)
        entries.append(part2.label(resource) if headers else resource)
    headers = {"X-Redisclosure-Notice": part2.notice_text()} if any(
        "meta" in e for e in entries) else {}
    return _response(_bundle(request, entries, len(entries), withheld), headers=headers)


def _episodes_visible(user: User) -> Any:
    return EpisodeOfCare.objects.filter(
        program__organization_id=user.staff_organization_id
    ).select_related("participant__organization", "program__organization", "primary_therapist")


def _read_record(request: HttpRequest, obj: Any, object_type: str,
                 mapper: Callable[[Any], dict[str, Any]],
                 record_part2: Callable[[Any], bool] | None = None) -> HttpResponse:
    """Read one resource about a participant: 404, Part 2 gate, audit, labels.

    `record_part2(obj)` marks a record that is a Part 2 record on its own even when the
    participant's other records are not (see part2.record_is_part2).
    """
    if obj is None:
        raise Http404
    protected = None
    if record_part2 is not None:
        protected = part2.record_is_part2(obj.participant, sud_record=record_part2(obj))
    allowed, headers = _part2_check(request, obj.participant, object_type,
                                    part2_record=protected)
    if not allowed:
        return _part2_refused()
    resource = mapper(obj)
    return _response(part2.label(resource) if headers else resource, headers=headers)


def _search_for_patient(
    request: HttpRequest, object_type: str,
    narrow: Callable[[Participant], Any],
    mapper: Callable[[Any], dict[str, Any]],
    *,
    params: frozenset[str] | None = None,
    record_part2: Callable[[Any], bool] | None = None,
) -> HttpResponse:
    """`<Resource>?patient=Patient/<id>&...`: one participant's records, gated and audited.

    `narrow(participant)` returns the queryset, or an OperationOutcome for a bad parameter.
    `params`, when given, lists the supported parameters (others are a 400).
    `record_part2(obj)` marks records that are Part 2 records on their own (see
    part2.record_is_part2): without a consent those are withheld from the bundle, with one
    they are labelled. One audit event per search either way.
    """
    count = _count(request)
    if isinstance(count, HttpResponse):
        return count
    if params is not None:
        unknown = set(request.GET) - params - {"patient", "_count"}
        if unknown:
            return outcome(400, "not-supported",
                           f"Unsupported search parameter(s): {', '.join(sorted(unknown))}.")
    patient_ref = request.GET.get("patient", "")
    if not patient_ref:
        return outcome(400, "required", f"Search {object_type.split('.')[-1]} by patient.",
                       "patient")
    try:
        patient_id = uuid.UUID(patient_ref.removeprefix("Patient/"))
    except ValueError:
        return outcome(400, "invalid", "patient must be a Patient id (Patient/<uuid>).",
                       "patient")
    p = get_participant_for_user(request.user, patient_id, request=request, audit_action=None)
    if record_part2 is not None and p.organization.is_part2_program \
            and not part2.is_part2_record(p):
        return _search_gated_per_record(request, object_type, p, narrow, mapper, count,
                                        record_part2)
    allowed, headers = _part2_check(request, p, object_type)
    if not allowed:
        return _response(_bundle(request, [], 0, 1))
    qs = narrow(p)
    if isinstance(qs, HttpResponse):
        return qs
    entries = [mapper(obj) for obj in qs[:count]]
    if headers:
        entries = [part2.label(e) for e in entries]
    return _response(_bundle(request, entries, len(entries), 0), headers=headers)


def _search_gated_per_record(
    request: HttpRequest, object_type: str, p: Participant,
    narrow: Callable[[Participant], Any], mapper: Callable[[Any], dict[str, Any]],
    count: int, record_part2: Callable[[Any], bool],
) -> HttpResponse:
    """A search over a participant who is not a Part 2 record as a whole, in a Part 2
    program, where some records (MOUD orders) are Part 2 records on their own."""
    qs = narrow(p)
    if isinstance(qs, HttpResponse):
        return qs
    rows = list(qs[:count])
    protected = [record_part2(obj) for obj in rows]
    consent = part2.active_part2_consent(p) if any(protected) else None
    entries, withheld = [], 0
    for obj, is_protected in zip(rows, protected, strict=True):
        if not is_protected:
            entries.append(mapper(obj))
        elif consent is not None:
            entries.append(part2.label(mapper(obj)))
        else:
            withheld += 1
    if consent is not None:
        audit_record(actor=request.user, action="disclose", object_type=object_type,
                     object_id=p.code, participant=p, request=request,
                     reason=f"42 CFR Part 2 consent {consent.code}")
        headers = {"X-Redisclosure-Notice": part2.notice_text()}
    else:
        audit_record(actor=request.user, action="view", object_type=object_type,
                     object_id=p.code, participant=p, request=request,
                     reason=(f"42 CFR Part 2: {withheld} record(s) withheld, no active consent"
                             if withheld else ""))
        headers = {}
    return _response(_bundle(request, entries, len(entries), withheld), headers=headers)


@require_GET
@fhir_view
def episode_read(request: HttpRequest, code: str) -> HttpResponse:
    ep = _episodes_visible(request.user).filter(code=code).first()
    return _read_record(request, ep, "fhir.EpisodeOfCare", episode_of_care)


@require_GET
@fhir_view
def episode_search(request: HttpRequest) -> HttpResponse:
    def narrow(p: Participant) -> Any:
        qs = _episodes_visible(request.user).filter(participant=p)
        status = request.GET.get("status")
        if status:
            if status not in EpisodeOfCare.Status.values:
                return outcome(400, "invalid", f"status must be one of "
                               f"{', '.join(EpisodeOfCare.Status.values)}.", "status")
            qs = qs.filter(status=status)
        return qs

    return _search_for_patient(request, "fhir.EpisodeOfCare", narrow, episode_of_care)


def _observations_visible(user: User) -> Any:
    from openiop.outcomes.models import MeasureResponse

    return MeasureResponse.objects.filter(
        participant__organization_id=user.staff_organization_id
    ).select_related("participant__organization")


@require_GET
@fhir_view
def observation_read(request: HttpRequest, code: str) -> HttpResponse:
    m = _observations_visible(request.user).filter(code=code).first()
    return _read_record(request, m, "fhir.Observation", observation)


@require_GET
@fhir_view
def observation_search(request: HttpRequest) -> HttpResponse:
    """Observation?patient=Patient/<id>[&code=http://loinc.org|44261-6]: a score series."""
    from openiop.intake import instruments

    def narrow(p: Participant) -> Any:
        qs = _observations_visible(request.user).filter(participant=p).order_by("-completed_at")
        loinc = request.GET.get("code", "").rsplit("|", 1)[-1]
        if loinc:
            codes = [c for c, inst in instruments.INSTRUMENTS.items() if inst.loinc == loinc]
            if not codes:
                return outcome(400, "invalid", f"Unknown score code {loinc!r}.", "code")
            qs = qs.filter(instrument__in=codes)
        return qs

    return _search_for_patient(request, "fhir.Observation", narrow, observation)


@require_GET
@fhir_view
def organization_read(request: HttpRequest, code: str) -> HttpResponse:
    org = Organization.objects.filter(code=code, pk=request.user.staff_organization_id).first()
    if org is None:
        raise Http404
    return _response(organization(org))


@require_GET
@fhir_view
def location_read(request: HttpRequest, code: str) -> HttpResponse:
    site = Site.objects.select_related("organization").filter(
        code=code, organization_id=request.user.staff_organization_id).first()
    if site is None:
        raise Http404
    return _response(location(site))


@require_GET
@fhir_view
def practitioner_read(request: HttpRequest, code: str) -> HttpResponse:
    user = User.objects.select_related("staff_profile").filter(
        code=code, staff_profile__organization_id=request.user.staff_organization_id).first()
    if user is None:
        raise Http404
    return _response(practitioner(user))


@require_GET
@fhir_view
def healthcare_service_read(request: HttpRequest, code: str) -> HttpResponse:
    program = Program.objects.select_related("organization", "site").filter(
        code=code, organization_id=request.user.staff_organization_id).first()
    if program is None:
        raise Http404
    return _response(healthcare_service(program, list(program.tracks.filter(is_active=True))))


def _missing_perm(request: HttpRequest, perm: Perm) -> HttpResponse | None:
    if has_perm(request.user, perm):
        return None
    return outcome(403, "forbidden", "Your role may not read this kind of record.")


def _bad_param(exc: SearchError, expression: str) -> HttpResponse:
    return outcome(400, "invalid", str(exc), expression)


# --- Appointment (scheduling.Booking + Session) -----------------------------------------

def _bookings_visible(user: User) -> Any:
    from openiop.scheduling.models import Booking

    return Booking.objects.filter(
        participant__organization_id=user.staff_organization_id,
        session__program__organization_id=user.staff_organization_id,
    ).select_related("participant__organization", "session__site", "session__room",
                     "session__facilitator", "attendance")


@require_GET
@fhir_view
def appointment_read(request: HttpRequest, code: str) -> HttpResponse:
    if refused := _missing_perm(request, Perm.SCHEDULE_VIEW):
        return refused
    booking = _bookings_visible(request.user).filter(code=code).first()
    return _read_record(request, booking, "fhir.Appointment", appointment)


@require_GET
@fhir_view
def appointment_search(request: HttpRequest) -> HttpResponse:
    """Appointment?patient=<id>[&date=ge2026-01-01&date=lt2026-02-01] (date = start)."""
    if refused := _missing_perm(request, Perm.SCHEDULE_VIEW):
        return refused

    def narrow(p: Participant) -> Any:
        qs = _bookings_visible(request.user).filter(participant=p)
        dates = request.GET.getlist("date")
        if dates:
            try:
                qs = qs.filter(date_filter(dates, "session__starts_at",
                                           zoneinfo.ZoneInfo(p.organization.time_zone)))
            except SearchError as exc:
                return _bad_param(exc, "date")
        return qs.order_by("session__starts_at", "pk")

    return _search_for_patient(request, "fhir.Appointment", narrow, appointment,
                               params=frozenset({"date"}))


# --- MedicationRequest (medications.MedicationOrder) ------------------------------------

def _orders_visible(user: User) -> Any:
    from openiop.medications.models import MedicationChange, MedicationOrder

    last_stop = MedicationChange.objects.filter(
        order=OuterRef("pk"), kind=MedicationChange.Kind.STOP,
    ).order_by("-effective_date", "-changed_at", "-pk").values("reason")[:1]
    return MedicationOrder.objects.filter(
        participant__organization_id=user.staff_organization_id
    ).select_related("participant__organization", "prescriber").annotate(
        stop_reason=Subquery(last_stop))


def _medication_status_filter(value: str, today: date) -> Q:
    from openiop.medications.models import MedicationChange, MedicationOrder

    active, stopped = MedicationOrder.Status.ACTIVE, MedicationOrder.Status.STOPPED
    ran_out = Q(status=active, stop_date__lt=today)
    completed = ran_out | (Q(status=stopped) & (
        Q(stop_reason__isnull=True) | Q(stop_reason=MedicationChange.Reason.COMPLETED)))
    if value == "active":
        return Q(status=active) & ~ran_out
    if value == "completed":
        return completed
    return Q(status=stopped) & ~completed


@require_GET
@fhir_view
def medication_request_read(request: HttpRequest, code: str) -> HttpResponse:
    if refused := _missing_perm(request, Perm.MEDICATION_VIEW):
        return refused
    order = _orders_visible(request.user).filter(code=code).first()
    return _read_record(request, order, "fhir.MedicationRequest", medication_request,
                        record_part2=is_moud)


@require_GET
@fhir_view
def medication_request_search(request: HttpRequest) -> HttpResponse:
    """MedicationRequest?patient=<id>[&status=active|stopped|completed]."""
    if refused := _missing_perm(request, Perm.MEDICATION_VIEW):
        return refused

    def narrow(p: Participant) -> Any:
        qs = _orders_visible(request.user).filter(participant=p)
        status = request.GET.get("status")
        if status:
            if status not in MEDICATION_STATUSES:
                return outcome(400, "invalid", "status must be one of "
                               f"{', '.join(MEDICATION_STATUSES)}.", "status")
            today = timezone.localdate(timezone=zoneinfo.ZoneInfo(p.organization.time_zone))
            qs = qs.filter(_medication_status_filter(status, today))
        return qs.order_by("-start_date", "name", "pk")

    return _search_for_patient(request, "fhir.MedicationRequest", narrow, medication_request,
                               params=frozenset({"status"}), record_part2=is_moud)


# --- Consent (participants.Consent) -----------------------------------------------------

def _consents_visible(user: User) -> Any:
    return Consent.objects.filter(
        participant__organization_id=user.staff_organization_id
    ).select_related("participant__organization")


@require_GET
@fhir_view
def consent_read(request: HttpRequest, code: str) -> HttpResponse:
    c = _consents_visible(request.user).filter(code=code).first()
    return _read_record(request, c, "fhir.Consent", consent)


@require_GET
@fhir_view
def consent_search(request: HttpRequest) -> HttpResponse:
    """Consent?patient=<id>[&status=active|inactive]."""

    def narrow(p: Participant) -> Any:
        qs = _consents_visible(request.user).filter(participant=p)
        status = request.GET.get("status")
        if status:
            if status not in ("active", "inactive"):
                return outcome(400, "invalid", "status must be active or inactive.", "status")
            now = timezone.now()
            active = (Q(granted_at__lte=now)
                      & (Q(revoked_at__isnull=True) | Q(revoked_at__gt=now))
                      & (Q(expires_at__isnull=True) | Q(expires_at__gt=now)))
            qs = qs.filter(active) if status == "active" else qs.exclude(active)
        return qs.order_by("-granted_at", "pk")

    return _search_for_patient(request, "fhir.Consent", narrow, consent,
                               params=frozenset({"status"}))


def unknown_resource(request: HttpRequest, rest: str = "") -> HttpResponse:
    return outcome(404, "not-supported", "This server does not support that resource or "
                   "interaction; see /fhir/R4/metadata.")
