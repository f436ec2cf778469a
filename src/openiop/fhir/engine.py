"""Read and search for every resource type in `registry.SPECS`.

One path for every type: the page's permission (resources.Spec.perm), the user's
organization (Spec.queryset), the disclosure rule of `participants.disclosure` in SQL (so
totals and pages count only what may go to this recipient), paging with `self`/`first`/
`previous`/`next` links, `_include` / `_revinclude` over the references the resources
emit, and the audit: a `view` event per participant for the program's own staff (a
signed-in session), a `disclose` event per participant for a registered app (a bearer
token), and a `denied` event when Part 2 records were withheld. A withheld record answers
exactly as a missing one (404, or absent from a search and its total), so that a refusal
does not reveal that the person has Part 2 records.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.db.models import BooleanField, Case, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from openiop.access.decisions import scope
from openiop.access.policy import FHIR_KINDS
from openiop.audit.services import audit_records
from openiop.audit.vocabulary import Action, ObjectType
from openiop.participants import disclosure as dis

from . import part2
from .http import FhirError, respond, take_audit
from .mapping.common import unchecked
from .registry import SPECS
from .resources import Ctx, Spec
from .search import SearchError, int_value
from .smart import PATIENT, coverage
from .sqlplan import in_written_order

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.participants.models import Participant

DEFAULT_COUNT = 50
MAX_COUNT = 1000
MAX_OFFSET = 10**9
MAX_INCLUDED = 5000
CONTROL = frozenset({"_count", "_offset", "_total", "_include", "_revinclude", "_format"})
JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})


def spec_for(name: str) -> Spec:
    return SPECS[name]


def reach(request: Any, spec: Spec, action: str) -> str | None:
    """How far the request's token reaches for `spec` (smart.coverage); a browser session
    reaches everything its role does. `request` is a request or anything with the same
    `smart_*` attributes (the bulk export job)."""
    return coverage(getattr(request, "smart_scopes", None), spec.name, action,
                    patient=getattr(request, "smart_patient", None) is not None,
                    system=getattr(request, "smart_system", False))


def require_perm(user: User, spec: Spec, request: Any = None, action: str = "r") -> None:
    """The page's permission, then (for a bearer token) the token's SMART scopes, which
    only ever narrow it."""
    if not spec.permitted(user):
        raise FhirError(403, "forbidden", f"Your role may not read {spec.name} resources.")
    if request is not None and reach(request, spec, action) is None:
        raise FhirError(403, "forbidden", f"The token's scopes do not cover "
                        f"{'reading' if action == 'r' else 'searching'} {spec.name}.")


def only_patient(request: Any, spec: Spec, action: str) -> Any:
    """The launch context's participant when the token reaches `spec` only through a
    patient-level scope, else None."""
    if request is None or reach(request, spec, action) != PATIENT:
        return None
    return request.smart_patient


def rows_for(request: Any, spec: Spec, action: str, user: User | None = None) -> QuerySet:
    """Spec.queryset (the user's organization), narrowed by the one access decision
    (`openiop.access.scope`: for a Part 2 participant, clinical records reach only the care
    team or a break-the-glass grant, exactly as on the pages), and limited to the launch
    context's participant for a patient-level token (types outside the patient compartment
    are not limited)."""
    user = user if user is not None else request.user
    qs = spec.queryset(user)
    if spec.participant is not None:
        qs = scope(qs, user, FHIR_KINDS[spec.name], participant_path=spec.participant)
    patient = only_patient(request, spec, action)
    if patient is not None and spec.participant is not None:
        qs = qs.filter(**{f"{spec.participant_prefix}pk": patient.pk})
    return qs


def context(user: User) -> Ctx:
    return Ctx(user, user.staff_profile.organization.zone)


Party = tuple[dis.Recipient, str]  # who receives the answer, and for what purpose


def party(request: Any) -> Party:
    return dis.request_party(request)


def gated(spec: Spec, qs: QuerySet, who: Party) -> tuple[QuerySet, QuerySet | None]:
    """(rows that may go to `who`, rows withheld under Part 2 or None), with `fhir_part2`
    and `fhir_updated` on each row."""
    qs = qs.annotate(fhir_updated=spec.updated)
    if spec.participant is None:
        return qs.annotate(fhir_part2=Value(False, output_field=BooleanField())), None
    protected = dis.protected_q(spec.participant, spec.sud_record)
    qs = qs.annotate(fhir_part2=Case(When(protected, then=Value(True)), default=Value(False),
                                     output_field=BooleanField()))
    recipient, purpose = who
    if recipient.internal:
        return qs, None
    released = dis.released_q(spec.participant, spec.sud_record, recipient, purpose,
                              timezone.now())
    return qs.filter(released), qs.exclude(released)


def participant_of(spec: Spec, row: Any) -> Any:
    obj = row
    for attr in filter(None, (spec.participant or "").split("__")):
        obj = getattr(obj, attr)
    return obj


def follow(row: Any, path: str) -> Any:
    for attr in path.split("__"):
        row = getattr(row, attr, None)
        if row is None:
            return None
    return row


def render(spec: Spec, row: Any) -> dict[str, Any]:
    from .versions import meta

    resource = spec.mapper(row)
    resource["meta"] = meta(spec, row) | resource.get("meta", {})
    return part2.label(resource) if row.fhir_part2 else resource


def fhir_object_type(spec: Spec) -> ObjectType:
    """The audit object type of a resource: "fhir.<resource type>" (ValueError for a type
    the audit vocabulary does not list)."""
    return ObjectType(f"fhir.{spec.name}")


def release(request: HttpRequest, spec: Spec, rows: list[Any], who: Party,
            channel: str = dis.Channel.FHIR, pending: list[dict[str, Any]] | None = None,
            ) -> list[Any]:
    """The rows that go, decided for the whole page at once by `participants.disclosure`
    (each row's Part 2 status is already known from the SQL, `fhir_part2`), with its audit:
    `disclose`/`denied` for an app, a `view` per participant for the program's staff. The
    events are written together, or added to `pending` for the caller to write with the
    rest of the answer's."""
    if spec.participant is None:
        return rows
    offers: dict[int, dis.Offer] = {}
    for row in rows:
        person = participant_of(spec, row)
        offers.setdefault(person.pk, dis.Offer(person, [], person.code)).records.append(
            dis.Record(spec.name, row, part2=row.fhir_part2))
    recipient, purpose = who
    events: list[dict[str, Any]] = [] if pending is None else pending
    decisions = dis.disclosures(
        request.user, list(offers.values()), channel=channel, recipient=recipient,
        purpose=purpose, request=request, object_type=fhir_object_type(spec), pending=events)
    kept: set[int] = set()
    for decision in decisions:
        kept |= {id(r) for r in decision.released}
        if decision.consent_scope:  # 42 CFR 2.32(b), sent beside the notice (notice_headers)
            scopes = getattr(request, "_openiop_consent_scopes", [])
            if decision.consent_scope not in scopes:
                scopes.append(decision.consent_scope)
            request._openiop_consent_scopes = scopes  # type: ignore[attr-defined]
    if recipient.internal:
        # The program's own staff: one `view` event per participant shown.
        events += [{"actor": request.user, "action": Action.VIEW, "participant": offer.participant,
                    "object_type": fhir_object_type(spec), "object_id": offer.participant.code,
                    "request": request} for offer in offers.values()]
    if pending is None:
        audit_records(take_audit(request) + events)  # with the token's use, if any
    return [r for r in rows if id(r) in kept]


def denied(request: HttpRequest, spec: Spec, participant: Participant | None, withheld: int,
           who: Party) -> dict[str, Any]:
    """The `denied` event of records withheld from a search, to write with the page's."""
    recipient, purpose = who
    return dis.refusal_entry(
        actor=request.user, participant=participant,
        organization=request.user.staff_profile.organization, channel=dis.Channel.FHIR,
        recipient=recipient, purpose=purpose, withheld=withheld, request=request,
        object_type=fhir_object_type(spec),
        object_id=participant.code if participant is not None else "search")


def read_row(request: HttpRequest, spec: Spec, code: str) -> Any:
    """The row behind `<Type>/<code>`, after the permission and Part 2 checks, audited."""
    require_perm(request.user, spec, request, "r")
    who = party(request)
    visible, withheld = gated(spec, rows_for(request, spec, "r"), who)
    row = visible.filter(code=code).first()
    released = release(request, spec, [row], who) if row is not None else []
    if not released:
        # A withheld record answers as a missing one: the refusal must not reveal that the
        # person has Part 2 records (42 CFR 2.13(c)).
        held = withheld.filter(code=code).first() if withheld is not None else None
        if held is not None:
            release(request, spec, [held], who)  # the same decision: withheld, audited
        raise FhirError(404, "not-found", f"No {spec.name} with id {code}.")
    return released[0]


def notice_headers(request: HttpRequest, resources: Iterable[dict[str, Any]],
                   ) -> dict[str, str]:
    """The 42 CFR 2.32 statement the program chose, with any answer holding a Part 2
    record (participants.disclosure.notice_for)."""
    labelled = any(s.get("code") == "42CFRPart2" for r in resources
                   for s in r.get("meta", {}).get("security", []))
    if not labelled:
        return {}
    headers = {"X-Redisclosure-Notice": dis.notice_for(request.user.staff_profile.organization)}
    scopes = getattr(request, "_openiop_consent_scopes", [])
    if scopes:
        headers["X-Part2-Consent-Scope"] = " | ".join(scopes)
    return headers


def lenient(request: HttpRequest) -> bool:
    prefer = [p.strip().replace(" ", "") for p in request.headers.get("Prefer", "").split(",")]
    return "handling=lenient" in prefer


def search(request: HttpRequest, spec: Spec) -> HttpResponse:
    user = request.user
    require_perm(user, spec, request, "s")
    ctx = context(user)
    ctx.only_patient = only_patient(request, spec, "s")
    qs = rows_for(request, spec, "s").annotate(fhir_updated=spec.updated)
    applied: list[tuple[str, str]] = []
    unknown: set[str] = set()
    options: dict[str, Any] = {"count": DEFAULT_COUNT, "offset": 0, "total": None,
                               "_include": [], "_revinclude": []}
    for key in request.GET:
        for value in request.GET.getlist(key):
            try:
                if key in CONTROL:
                    _control(spec, options, key, value)
                elif key in spec.params:
                    qs = qs.filter(spec.params[key].apply(value, ctx))
                    applied.append((key, value))
                else:
                    unknown.add(key)
            except SearchError as exc:
                raise FhirError(400, "invalid", str(exc), key) from exc
    if unknown and not lenient(request):
        raise FhirError(400, "not-supported", f"Unsupported search parameter(s) for "
                        f"{spec.name}: {', '.join(sorted(unknown))}. Supported: "
                        f"{', '.join(sorted(spec.params))} (see /fhir/R4/metadata); send "
                        "'Prefer: handling=lenient' to have unknown parameters ignored.")
    who = party(request)
    visible, held = gated(spec, qs, who)
    count, offset = options["count"], options["offset"]
    with in_written_order() if spec.plan_in_written_order else nullcontext():
        total = visible.count() if options["total"] != "none" else None
        rows = list(visible.order_by(*spec.order)[offset:offset + count + 1]) if count else []
        withheld = held.count() if held is not None else 0
    has_next = len(rows) > count
    events: list[dict[str, Any]] = []  # the answer's audit, written together below
    rows = release(request, spec, rows[:count], who, pending=events)
    included = _included(request, spec, rows, options, who)
    included = [(ispec, row) for ispec in {s.name: s for s, _ in included}.values()
                for row in release(request, ispec, [r for s, r in included if s is ispec], who,
                                   pending=events)]
    if withheld:
        # Audited, never shown: the answer is the same as if they did not exist.
        events.append(denied(request, spec, ctx.patient, withheld, who))
    audit_records(take_audit(request) + events)  # the token's use first, if any
    # Written as the export writes them (mapping.canonical: the JSON fhir.resources gives,
    # without building its models; anything it cannot write exactly is validated in full).
    with unchecked():
        entries = [_entry(request, spec, row, "match") for row in rows]
        entries += [_entry(request, ispec, row, "include") for ispec, row in included]
    kept = applied + [(k, v) for k in ("_include", "_revinclude") for v in options[k]]
    if options["total"]:
        kept.append(("_total", options["total"]))
    bundle: dict[str, Any] = {
        "resourceType": "Bundle", "type": "searchset",
        "meta": {"lastUpdated": timezone.now().isoformat()},
        "link": _links(request, kept, count, offset, has_next),
    }
    if total is not None:
        bundle["total"] = total
    if entries:
        bundle["entry"] = entries
    return respond(bundle, headers=notice_headers(request, (e["resource"] for e in entries)))


def _control(spec: Spec, options: dict[str, Any], key: str, value: str) -> None:
    if key == "_count":
        options["count"] = int_value(value, "_count", 0, MAX_COUNT)
    elif key == "_offset":
        options["offset"] = int_value(value, "_offset", 0, MAX_OFFSET)
    elif key == "_total":
        if value not in ("none", "estimate", "accurate"):
            raise SearchError("_total must be none, estimate or accurate.")
        options["total"] = value
    elif key == "_format":
        if value not in JSON_FORMATS:
            raise SearchError("This server answers in JSON only (_format=json).")
    else:
        source, _, param = value.partition(":")
        from_spec = spec if key == "_include" else SPECS.get(source)
        if from_spec is None or source != from_spec.name or param not in from_spec.links or (
                key == "_revinclude" and from_spec.links[param].target != spec.name):
            raise SearchError(f"{value!r} is not a supported {key} for {spec.name}; "
                              "see /fhir/R4/metadata.")
        options[key].append(value)


def _included(request: HttpRequest, spec: Spec, rows: list[Any], options: dict[str, Any],
              who: Party) -> list[tuple[Spec, Any]]:
    user = request.user
    out: list[tuple[Spec, Any]] = []
    if not rows:
        return out
    for value in options["_include"]:
        link = spec.links[value.partition(":")[2]]
        target = SPECS[link.target]
        require_perm(user, target, request, "s")
        ids = {follow(row, link.path).pk for row in rows if follow(row, link.path) is not None}
        visible, _ = gated(target, rows_for(request, target, "s"), who)
        out += [(target, r) for r in visible.filter(pk__in=ids).order_by(*target.order)]
    for value in options["_revinclude"]:
        source_name, _, param = value.partition(":")
        source = SPECS[source_name]
        require_perm(user, source, request, "s")
        visible, _ = gated(source, rows_for(request, source, "s"), who)
        found = list(visible.filter(**{f"{source.links[param].path}__in": [r.pk for r in rows]})
                     .order_by(*source.order)[:MAX_INCLUDED + 1])
        if len(found) > MAX_INCLUDED:
            raise FhirError(400, "too-costly", f"_revinclude={value} would add more than "
                            f"{MAX_INCLUDED} resources; ask for fewer matches with _count.")
        out += [(source, r) for r in found]
    seen: set[tuple[str, int]] = {(spec.name, r.pk) for r in rows}
    unique = []
    for s, r in out:
        if (s.name, r.pk) not in seen:
            seen.add((s.name, r.pk))
            unique.append((s, r))
    return unique


def _entry(request: HttpRequest, spec: Spec, row: Any, mode: str) -> dict[str, Any]:
    resource = render(spec, row)
    return {"fullUrl": request.build_absolute_uri(f"/fhir/R4/{spec.name}/{resource['id']}"),
            "resource": resource, "search": {"mode": mode}}


def _links(request: HttpRequest, kept: list[tuple[str, str]], count: int, offset: int,
           has_next: bool) -> list[dict[str, str]]:
    base = request.build_absolute_uri(request.path)

    def url(at: int) -> str:
        page = [("_count", str(count))] + ([("_offset", str(at))] if at else [])
        return f"{base}?{urlencode(kept + page)}"

    links = [{"relation": "self", "url": url(offset)}, {"relation": "first", "url": url(0)}]
    if offset and count:
        links.append({"relation": "previous", "url": url(max(offset - count, 0))})
    if has_next and count:
        links.append({"relation": "next", "url": url(offset + count)})
    return links
