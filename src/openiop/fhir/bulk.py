"""FHIR Bulk Data `$export` (Bulk Data Access IG 2.0, https://hl7.org/fhir/uv/bulkdata/STU2/).

Kick-off (`$export` at system, `Group/<program code>` or `Patient` level) answers 202 with
the status URL in `Content-Location`; a background job (openiop.jobs) writes one NDJSON
file per resource type; the status URL answers 202 with `X-Progress` while it runs, then
the manifest; DELETE on it cancels the export and removes its files; files are removed
OPENIOP_EXPORT_HOURS after the export finished (periodic job in tasks.py).

Access is the FHIR search's, type by type: the page's permission and the token's scopes
(engine.require_perm), the user's organization (Spec.queryset) and the disclosure rule of
`participants.disclosure` (engine.gated). An export is a disclosure to whoever takes the
files: the registered app of the token that started it, with its declared purpose; an
export started from a staff session names no recipient, so no consent can match and Part 2
records stay out of it. Each export is one audit event (`export`, resource types and
counts, with the recipient and purpose), plus a `disclose` event for each participant whose
Part 2 records left under a consent and a `denied` event when Part 2 records were withheld.
When Part 2 records are in the files, the completion manifest carries the 42 CFR 2.32
notice and each consent's scope (`Part2Statement`, under the manifest's `extension`).
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.http.request import RawPostDataException
from django.utils import timezone

from openiop.accounts.models import User
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.models import Program
from openiop.core.exceptions import DomainError
from openiop.jobs.models import Job
from openiop.jobs.services import start_job
from openiop.participants import disclosure as dis
from openiop.participants.models import Participant

from . import engine
from .http import FHIR_JSON, FhirError, fhir_view, respond
from .mapping.common import unchecked
from .registry import SPECS
from .resources import Spec
from .sqlplan import in_written_order

if TYPE_CHECKING:
    from uuid import UUID

KIND = "fhir_export"
NDJSON = "application/fhir+ndjson"
# _outputFormat values the IG asks servers to accept for NDJSON (section "Query Parameters").
OUTPUT_FORMATS = frozenset({NDJSON, "application/ndjson", "ndjson"})
PARAMS = frozenset({"_outputFormat", "_type", "_since"})
CANCELLED = "Cancelled by the requester; its files were deleted."
CHUNK = 500  # rows read at a time
_dumps = json.JSONEncoder(separators=(",", ":")).encode


def export_dir(job_code: UUID) -> Path:
    return Path(settings.OPENIOP_EXPORT_DIR) / str(job_code)


def expires_at(job: Job) -> datetime | None:
    return job.finished_at + timedelta(hours=settings.OPENIOP_EXPORT_HOURS) \
        if job.finished_at else None


# --- kick-off ---------------------------------------------------------------------------

def _since(value: str) -> datetime:
    try:  # an unencoded "+" of the offset arrives as a space in a query string
        when = datetime.fromisoformat(value.replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or "T" not in value:
        raise FhirError(400, "invalid", f"_since must be a FHIR instant with a time zone, "
                        f"e.g. 2026-01-05T00:00:00Z (got {value!r}).", "_since")
    if when > timezone.now():
        raise FhirError(400, "invalid", "_since is in the future.", "_since")
    return when


def _types(request: HttpRequest, level: str) -> list[str]:
    """The requested (or, without _type, every permitted) types; a type the user may not
    read is a 403, as its search would be."""
    compartment = [s for s in SPECS.values() if level == "system" or s.participant is not None]
    raw = ",".join(request.GET.getlist("_type"))
    if not raw:
        allowed = []
        for spec in compartment:
            try:
                engine.require_perm(request.user, spec, request, "s")
            except FhirError:
                continue
            allowed.append(spec.name)
        return allowed
    names = [n.strip() for n in raw.split(",") if n.strip()]
    known = {s.name for s in compartment}
    wrong = [n for n in names if n not in known]
    if wrong:
        raise FhirError(400, "not-supported", f"_type: {', '.join(wrong)} cannot be exported "
                        f"at this level; supported: {', '.join(sorted(known))}.", "_type")
    for name in names:
        engine.require_perm(request.user, SPECS[name], request, "s")
    return list(dict.fromkeys(names))


def _post_parameters(request: HttpRequest) -> None:
    """A POST kick-off: the parameters as a FHIR Parameters resource in the body (Bulk Data
    2.0, "Bulk Data Kick-off Request": servers MAY take POST with a Parameters resource),
    or with an empty body in the URL, as some clients send them. They are then read as a
    GET's are. Only with a bearer token: a browser session kicks off with GET."""
    if request.smart_scopes is None:  # type: ignore[attr-defined]
        raise FhirError(405, "not-supported", "A POST kick-off needs a bearer token; from a "
                        "browser session use GET.")
    try:
        raw = request.body
    except RawPostDataException:  # a form body, already parsed by a middleware
        raw = b"" if not request.POST else b"form"
    if request.POST:
        raise FhirError(400, "invalid", "Give the kick-off parameters in a Parameters "
                        "resource (application/fhir+json), not as a form.")
    if not raw.strip():
        return
    if request.GET:
        raise FhirError(400, "invalid", "Give the kick-off parameters either in the URL or "
                        "in a Parameters body, not both.")
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise FhirError(400, "invalid", "The POST body must be a FHIR Parameters resource "
                        "in JSON.") from exc
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters" or not \
            isinstance(body.get("parameter", []), list):
        raise FhirError(400, "invalid", "The POST body must be a FHIR Parameters resource.")
    query = QueryDict(mutable=True)
    for item in body.get("parameter", []):
        name = item.get("name") if isinstance(item, dict) else None
        values = [v for k, v in (item.items() if isinstance(item, dict) else [])
                  if k.startswith("value") and isinstance(v, str)]
        if not isinstance(name, str) or len(values) != 1:
            raise FhirError(400, "invalid", "Each Parameters.parameter needs a name and one "
                            "string, instant or code value.", "parameter")
        query.appendlist(name, values[0])
    request.GET = query  # type: ignore[assignment]


def _kickoff(request: HttpRequest, level: str, group: str = "") -> HttpResponse:
    if request.method == "POST":
        _post_parameters(request)
    accept = request.headers.get("Accept", "")
    if FHIR_JSON not in accept:
        raise FhirError(400, "invalid", "The kick-off request needs 'Accept: "
                        "application/fhir+json'.", "Accept")
    prefer = [p.strip() for p in request.headers.get("Prefer", "").split(",")]
    if "respond-async" not in prefer:
        raise FhirError(400, "invalid", "The kick-off request needs 'Prefer: respond-async' "
                        "(exports run in the background).", "Prefer")
    unknown = sorted(set(request.GET) - PARAMS)
    if unknown:
        raise FhirError(400, "not-supported", f"Unsupported $export parameter(s): "
                        f"{', '.join(unknown)}. Supported: _outputFormat, _type, _since.")
    fmt = request.GET.get("_outputFormat", NDJSON)
    if fmt not in OUTPUT_FORMATS:
        raise FhirError(400, "not-supported", "_outputFormat must be application/fhir+ndjson "
                        "(the only format this server writes).", "_outputFormat")
    since = request.GET.get("_since")
    since_at = _since(since) if since else None
    user = cast(User, request.user)  # the FHIR views require a signed-in staff user
    org = user.staff_profile.organization
    program = None
    if group:
        program = Program.objects.filter(organization=org, code=group).first()
        if program is None:
            raise FhirError(404, "not-found", f"No Group with id {group} (a Group is a "
                            "program of your organization).")
    types = _types(request, level)
    if not types:
        raise FhirError(403, "forbidden", "Your role may not read any resource type that "
                        "this export would contain.")
    scopes = getattr(request, "smart_scopes", None)
    patient = getattr(request, "smart_patient", None)
    client = getattr(request, "oauth_client", None)
    job = start_job(
        actor=user, kind=KIND, label=f"FHIR bulk export ({level}): {', '.join(types)}",
        handler="openiop.fhir.bulk.run_export", organization=org, request=request,
        params={"user_id": user.pk, "types": types, "level": level,
                "program_id": program.pk if program else None,
                "since": since_at.isoformat() if since_at else None,
                "scopes": sorted(scopes) if scopes is not None else None,
                "patient_id": patient.pk if patient is not None else None,
                "system": getattr(request, "smart_system", False),
                "client_id": client.pk if client is not None else None,
                "request_url": request.build_absolute_uri()})
    status_url = request.build_absolute_uri(f"/fhir/R4/$export-status/{job.code}")
    return respond({"resourceType": "OperationOutcome", "issue": [{
        "severity": "information", "code": "informational",
        "diagnostics": f"Export started; poll {status_url}"}]}, 202,
        headers={"Content-Location": status_url})


KICKOFF_METHODS = ("GET", "HEAD", "POST")


def _system_export(request: HttpRequest) -> HttpResponse:
    return _kickoff(request, "system")


def _patient_export(request: HttpRequest) -> HttpResponse:
    return _kickoff(request, "patient")


def _group_export(request: HttpRequest, group: str) -> HttpResponse:
    return _kickoff(request, "group", group)


system_export = fhir_view(_system_export, methods=KICKOFF_METHODS)
patient_export = fhir_view(_patient_export, methods=KICKOFF_METHODS)
group_export = fhir_view(_group_export, methods=KICKOFF_METHODS)


# --- the job ----------------------------------------------------------------------------

def export_party(user: User, client_id: int | None) -> engine.Party:
    """Who takes the files: the token's app, or no named recipient (a staff session)."""
    from oauth2_provider.models import Application

    app = Application.objects.filter(pk=client_id).first() if client_id else None
    if app is not None:
        return dis.Recipient.app(app), dis.app_purpose(app)
    return dis.Recipient(dis.UNNAMED, f"bulk export by {user.username}"), ""


def _rows(spec: Spec, user: User, *, since: datetime | None, program: Program | None,
          who: engine.Party, token: Any = None) -> tuple[QuerySet, QuerySet | None]:
    qs = engine.rows_for(token, spec, "s", user)
    if program is not None:
        members = Participant.objects.filter(episodes__program=program).values("pk")
        qs = qs.filter(**{f"{spec.participant_prefix}pk__in": members})
    visible, held = engine.gated(spec, qs, who)
    if since is not None:
        visible = visible.filter(fhir_updated__gt=since)
        held = held.filter(fhir_updated__gt=since) if held is not None else None
    return visible.order_by(*spec.order), held


def _cancelled(job: Job) -> bool:
    return Job.objects.filter(pk=job.pk, error=CANCELLED).exists()


def run_export(*, user_id: int, types: list[str], level: str, program_id: int | None,
               since: str | None, scopes: list[str] | None, request_url: str,
               job: Job, progress: Any, patient_id: int | None = None,
               system: bool = False, client_id: int | None = None) -> dict[str, Any]:
    """Write `<Type>.ndjson` for each type; return the manifest's parts (job.result)."""
    user = User.objects.select_related("staff_profile__organization").get(pk=user_id)
    org = user.staff_profile.organization
    program = Program.objects.get(pk=program_id) if program_id else None
    since_at = datetime.fromisoformat(since) if since else None
    transaction_time = timezone.now()
    folder = export_dir(job.code)
    shutil.rmtree(folder, ignore_errors=True)  # a retried run starts clean
    folder.mkdir(parents=True)
    patient = Participant.objects.get(pk=patient_id) if patient_id else None
    token = _TokenScopes(set(scopes) if scopes is not None else None, patient, system)
    who = export_party(user, client_id)
    recipient, purpose = who
    output: list[dict[str, Any]] = []
    withheld = 0
    # participant pk -> resource type -> Part 2 resources written: counts only, never the
    # records (an export may hold a whole clinic's Part 2 records).
    disclosed: dict[int, Counter[str]] = defaultdict(Counter)
    for number, name in enumerate(types):
        if _cancelled(job):
            raise DomainError(CANCELLED)
        spec = SPECS[name]
        engine.require_perm(user, spec, token, "s")  # type: ignore[arg-type]  # role may change
        progress(phase=f"Writing {name}", percent=100 * number // len(types), force=True)
        visible, held = _rows(spec, user, since=since_at, program=program, who=who,
                              token=token)
        count = 0
        # One query a type, read CHUNK rows at a time (a server-side cursor on PostgreSQL,
        # planned as sqlplan.in_written_order says),
        # each resource written as it is made: memory holds one chunk whatever the clinic's
        # size (and a count a participant whose Part 2 records left under a consent). The
        # resources are the search's, written without rebuilding the fhir.resources models
        # (mapping.common.unchecked).
        with (folder / f"{name}.ndjson").open("w", encoding="utf-8") as out, unchecked(), \
                in_written_order():
            for row in visible.iterator(chunk_size=CHUNK):
                out.write(_dumps(engine.render(spec, row)) + "\n")
                count += 1
                if row.fhir_part2:
                    disclosed[engine.participant_of(spec, row).pk][name] += 1
            withheld += held.count() if held is not None else 0
        if count:
            output.append({"type": name, "count": count, "file": f"{name}.ndjson"})
        else:
            (folder / f"{name}.ndjson").unlink()
    summary = ", ".join(f"{o['type']} {o['count']}" for o in output) or "no resources"
    audit_record(actor=user, action=Action.EXPORT, object_type=ObjectType.FHIR_EXPORT, object_id=job.code,
                 organization=org, recipient=recipient.label, purpose=purpose,
                 reason=f"FHIR bulk export ({level}"
                 f"{', program ' + str(program.code) if program else ''}"
                 f"{', since ' + since if since else ''}): {summary}"[:500])
    part2 = Part2Statement()
    for person in Participant.objects.filter(pk__in=list(disclosed)).select_related(
            "organization").order_by("pk"):
        # The SQL gate let these through under a matching consent; the decision (and its
        # `disclose` event, naming the consent) is the one every channel makes.
        records = [record for name, count in sorted(disclosed[person.pk].items())
                   for record in [dis.Record(name, sud_record=True)] * count]
        decision = dis.disclosure(user, person, records, channel=dis.Channel.BULK,
                                  recipient=recipient, purpose=purpose,
                                  object_type=ObjectType.FHIR_EXPORT, object_id=person.code)
        part2.add(decision, len(records))
    if withheld:
        dis.audit_refusal(actor=user, participant=None, organization=org,
                          channel=dis.Channel.BULK, recipient=recipient, purpose=purpose,
                          withheld=withheld, object_type=ObjectType.FHIR_EXPORT, object_id=job.code)
    result = {"transactionTime": transaction_time.isoformat(), "request": request_url,
              "output": output, "withheld": withheld}
    if part2.notice:
        result["part2"] = part2.as_json()
    return result


# The manifest's `extension` name for the 42 CFR Part 2 statement: the code of the security
# label every Part 2 resource in the files carries (meta.security, v3-ActCode 42CFRPart2).
PART2_EXTENSION = "42CFRPart2"


class Part2Statement:
    """What the manifest tells a bulk client about the Part 2 records in the files.

    42 CFR 2.32 (as amended by the final rule of 16 February 2024, 89 FR 12472): "(a) Each
    disclosure made with the patient's written consent must be accompanied by" the written
    statement of 2.32(a)(1) or (a)(2), and "(b) Each disclosure made with the patient's
    written consent must be accompanied by a copy of the consent or a clear explanation of
    the scope of the consent provided." A bulk client reads the files through the manifest,
    so the manifest carries both: the notice the program chose and, for each consent that
    records went out under, its scope (`participants.disclosure.consent_scope`, the text of
    the API's and FHIR's `X-Part2-Consent-Scope` header) with how many participants and
    resources it covered. Only consent ids and counts are kept while the export runs.
    """

    def __init__(self) -> None:
        self.notice = ""
        self.consents: dict[str, dict[str, Any]] = {}

    def add(self, decision: dis.Decision, resources: int) -> None:
        if not decision.part2_released:
            return
        self.notice = self.notice or decision.notice
        if decision.consent is None or not decision.consent_scope:
            return
        entry = self.consents.setdefault(str(decision.consent.code), {
            "consent": f"Consent/{decision.consent.code}", "scope": decision.consent_scope,
            "participants": 0, "resources": 0})
        entry["participants"] += 1
        entry["resources"] += resources

    def as_json(self) -> dict[str, Any]:
        return {"notice": self.notice,
                "consents": [self.consents[code] for code in sorted(self.consents)]}


class _TokenScopes:
    """What engine.require_perm and engine.rows_for read from a request: the token's scopes
    (None: a browser session), its launch context's participant, whether it is a backend
    service's."""

    def __init__(self, scopes: set[str] | None, patient: Any = None, system: bool = False,
                 ) -> None:
        self.smart_scopes = scopes
        self.smart_patient = patient
        self.smart_system = system


# --- status, files, cancel ---------------------------------------------------------------

def _job(request: HttpRequest, code: str) -> Job:
    """The requester's own export (anyone else's is not found), unless cancelled/expired."""
    try:
        uuid.UUID(code)
    except ValueError as exc:
        raise FhirError(404, "not-found", "No such export.") from exc
    job = Job.objects.filter(code=code, kind=KIND, started_by=request.user).first()
    if job is None or job.error == CANCELLED:
        raise FhirError(404, "not-found", "No such export (or it was cancelled).")
    expiry = expires_at(job)
    if expiry is not None and expiry <= timezone.now():
        raise FhirError(404, "not-found", "This export has expired and its files were "
                        "removed; start a new one.")
    return job


def _status(request: HttpRequest, code: str) -> HttpResponse:
    job = _job(request, code)
    if request.method == "DELETE":
        Job.objects.filter(pk=job.pk).update(error=CANCELLED, **(
            {"state": Job.State.FAILED, "finished_at": timezone.now()}
            if not job.is_finished else {}))
        shutil.rmtree(export_dir(job.code), ignore_errors=True)
        audit_record(actor=request.user, action=Action.CHANGE, object_type=ObjectType.FHIR_EXPORT,
                     object_id=job.code, organization=job.organization, request=request,
                     reason="Bulk export cancelled and its files deleted")
        return HttpResponse(status=202)
    if job.state == Job.State.FAILED:
        raise FhirError(500, "exception", f"The export failed: {job.error}")
    if job.state != Job.State.SUCCEEDED:
        return HttpResponse(status=202, headers={
            "X-Progress": f"{job.percent}% {job.phase or 'waiting for a worker'}"[:100],
            "Retry-After": "5"})
    result = job.result
    base = request.build_absolute_uri(f"/fhir/R4/$export-file/{job.code}/")
    manifest = {
        "transactionTime": result["transactionTime"], "request": result["request"],
        "requiresAccessToken": True,
        "output": [{"type": o["type"], "url": base + o["file"], "count": o["count"]}
                   for o in result["output"]],
        "error": [],
    }
    if result.get("part2"):
        # Bulk Data Access IG 2.0, "Response - Complete Status" (https://hl7.org/fhir/uv/
        # bulkdata/STU2/export.html#response---complete-status): the manifest's optional
        # `extension` is a JSON object the IG reserves for servers' own information, its
        # properties the extension names. Only when a Part 2 record is in the files.
        manifest["extension"] = {PART2_EXTENSION: result["part2"]}
    expiry = expires_at(job)
    return HttpResponse(json.dumps(manifest), content_type="application/json",
                        headers={"Expires": expiry.strftime("%a, %d %b %Y %H:%M:%S GMT")}
                        if expiry else {})


export_status = fhir_view(_status, methods=("GET", "HEAD", "DELETE"))


@fhir_view
def export_file(request: HttpRequest, code: str, name: str) -> HttpResponse:
    job = _job(request, code)
    files = {o["file"] for o in (job.result or {}).get("output", [])}
    path = export_dir(job.code) / name
    if job.state != Job.State.SUCCEEDED or name not in files or not path.is_file():
        raise FhirError(404, "not-found", "No such export file.")
    # streamed, not read into memory (FileResponse is a streaming response)
    return FileResponse(path.open("rb"), content_type=NDJSON)  # type: ignore[return-value]


def remove_expired_exports(*, now: datetime | None = None) -> int:
    """Delete the folders of exports that expired, were cancelled or whose job is gone;
    return how many. Running exports are left alone."""
    now = now or timezone.now()
    root = Path(settings.OPENIOP_EXPORT_DIR)
    if not root.is_dir():
        return 0
    cutoff = now - timedelta(hours=settings.OPENIOP_EXPORT_HOURS)
    removed = 0
    for folder in root.iterdir():
        job = Job.objects.filter(code=folder.name, kind=KIND).first() \
            if _is_uuid(folder.name) else None
        if job is not None and not (job.is_finished and (
                job.error == CANCELLED or (job.finished_at and job.finished_at <= cutoff))):
            continue
        if job is None and not _is_uuid(folder.name):
            continue  # not ours
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
