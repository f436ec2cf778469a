"""FHIR R4 REST endpoints under /fhir/R4/ (read and search, JSON).

Every participant record read through FHIR is audited; 42 CFR Part 2 records are
returned only under an active consent, labelled, with the redisclosure notice in the
`X-Redisclosure-Notice` header (and recorded as a disclosure). Errors are
OperationOutcome resources with 4xx status codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_record
from openiop.care.models import EpisodeOfCare, Program
from openiop.organizations.models import Organization, Site
from openiop.participants.models import Participant
from openiop.participants.selectors import get_participant_for_user, participants_visible_to

from . import part2
from .mapping.capability import capability_statement
from .mapping.episode_of_care import episode_of_care
from .mapping.observation import observation
from .mapping.organization import healthcare_service, location, organization
from .mapping.patient import patient
from .mapping.practitioner import practitioner

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
                 ) -> tuple[bool, dict[str, str]]:
    """(allowed, extra headers). Writes the audit event either way."""
    if not part2.is_part2_record(participant):
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
                 mapper: Callable[[Any], dict[str, Any]]) -> HttpResponse:
    """Read one resource about a participant: 404, Part 2 gate, audit, labels."""
    if obj is None:
        raise Http404
    allowed, headers = _part2_check(request, obj.participant, object_type)
    if not allowed:
        return _part2_refused()
    resource = mapper(obj)
    return _response(part2.label(resource) if headers else resource, headers=headers)


def _search_for_patient(
    request: HttpRequest, object_type: str,
    narrow: Callable[[Participant], Any],
    mapper: Callable[[Any], dict[str, Any]],
) -> HttpResponse:
    """`<Resource>?patient=Patient/<id>&...`: one participant's records, gated and audited.

    `narrow(participant)` returns the queryset, or an OperationOutcome for a bad parameter.
    """
    count = _count(request)
    if isinstance(count, HttpResponse):
        return count
    patient_ref = request.GET.get("patient", "")
    if not patient_ref:
        return outcome(400, "required", f"Search {object_type.split('.')[-1]} by patient.",
                       "patient")
    p = get_participant_for_user(request.user, patient_ref.removeprefix("Patient/"),
                                 request=request, audit_action=None)
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


def unknown_resource(request: HttpRequest, rest: str = "") -> HttpResponse:
    return outcome(404, "not-supported", "This server does not support that resource or "
                   "interaction; see /fhir/R4/metadata.")
