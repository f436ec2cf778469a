"""Read and search for every resource type in `registry.SPECS`.

One path for every type: the page's permission (resources.Spec.perm), the user's
organization (Spec.queryset), the 42 CFR Part 2 gate in SQL (so totals and pages count
only what may be disclosed), paging with `self`/`first`/`previous`/`next` links, `_include`
/ `_revinclude` over the references the resources emit, and one audit event per
participant whose records leave (`view`, or `disclose` under a Part 2 consent), plus one
`denied` event when Part 2 records were withheld.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from openiop.access.decisions import scope
from openiop.access.policy import FHIR_KINDS
from openiop.accounts.permissions import has_perm
from openiop.audit.services import audit_record

from . import part2
from .http import FhirError, respond
from .registry import SPECS
from .resources import Ctx, Spec
from .search import SearchError, int_value
from .smart import allows

DEFAULT_COUNT = 50
MAX_COUNT = 1000
MAX_OFFSET = 10**9
MAX_INCLUDED = 5000
CONTROL = frozenset({"_count", "_offset", "_total", "_include", "_revinclude", "_format"})
JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})


def spec_for(name: str) -> Spec:
    return SPECS[name]


def require_perm(user: Any, spec: Spec, request: HttpRequest | None = None,
                 action: str = "r") -> None:
    """The page's permission, then (for a bearer token) the token's SMART scopes, which
    only ever narrow it."""
    if not has_perm(user, spec.perm):
        raise FhirError(403, "forbidden", f"Your role may not read {spec.name} resources.")
    if request is not None and not allows(getattr(request, "smart_scopes", None),
                                          spec.name, action):
        raise FhirError(403, "forbidden", f"The token's scopes do not cover "
                        f"{'reading' if action == 'r' else 'searching'} {spec.name}.")


def context(user: Any) -> Ctx:
    return Ctx(user, zoneinfo.ZoneInfo(user.staff_profile.organization.time_zone))


def rows_for(spec: Spec, user: Any) -> QuerySet:
    """The user's organization's rows of this type, narrowed by the one access decision
    (`openiop.access.scope`): for a Part 2 participant, clinical records reach only the
    care team or a break-the-glass grant, exactly as on the pages."""
    if spec.participant is None:
        return spec.queryset(user)
    return scope(spec.queryset(user), user, FHIR_KINDS[spec.name],
                 participant_path=spec.participant)


def gated(spec: Spec, qs: QuerySet) -> tuple[QuerySet, QuerySet | None]:
    """(rows that may leave, rows withheld under Part 2 or None), with `fhir_part2` and
    `fhir_updated` on each row."""
    qs = qs.annotate(fhir_updated=spec.updated)
    if spec.participant is None:
        return qs.annotate(fhir_part2=Value(False, output_field=BooleanField())), None
    protected = part2.protected_q(spec.participant, spec.sud_record)
    qs = qs.annotate(fhir_part2=Case(When(protected, then=Value(True)), default=Value(False),
                                     output_field=BooleanField()))
    consented = part2.consented_q(spec.participant, timezone.now())
    return qs.filter(Q(fhir_part2=False) | consented), qs.filter(fhir_part2=True).exclude(
        consented)


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


def audit(request: HttpRequest, spec: Spec, rows: Iterable[Any]) -> None:
    """One event per participant whose records leave in this answer."""
    if spec.participant is None:
        return
    people: dict[int, tuple[Any, bool]] = {}
    for row in rows:
        person = participant_of(spec, row)
        seen = people.get(person.pk, (person, False))
        people[person.pk] = (person, seen[1] or row.fhir_part2)
    for person, protected in people.values():
        consent = part2.active_part2_consent(person) if protected else None
        audit_record(actor=request.user, action="disclose" if consent else "view",
                     object_type=f"fhir.{spec.name}", object_id=person.code,
                     participant=person, request=request,
                     reason=f"42 CFR Part 2 consent {consent.code}" if consent else "")


def denied(request: HttpRequest, spec: Spec, participant: Any, withheld: int) -> None:
    audit_record(actor=request.user, action="denied", object_type=f"fhir.{spec.name}",
                 object_id=participant.code if participant is not None else "search",
                 participant=participant, organization=request.user.staff_profile.organization,
                 request=request, reason=f"42 CFR Part 2: {withheld} record(s) withheld, "
                                         "no active consent")


def read_row(request: HttpRequest, spec: Spec, code: Any) -> Any:
    """The row behind `<Type>/<code>`, after the permission and Part 2 checks, audited."""
    require_perm(request.user, spec, request, "r")
    visible, withheld = gated(spec, rows_for(spec, request.user))
    row = visible.filter(code=code).first()
    if row is None:
        held = withheld.filter(code=code).first() if withheld is not None else None
        if held is None:
            raise FhirError(404, "not-found", f"No {spec.name} with id {code}.")
        denied(request, spec, participant_of(spec, held), 1)
        raise FhirError(403, "suppressed", "This record is protected by 42 CFR Part 2 and "
                        "there is no active consent that permits its disclosure.")
    audit(request, spec, [row])
    return row


def notice_headers(resources: Iterable[dict[str, Any]]) -> dict[str, str]:
    labelled = any(s.get("code") == "42CFRPart2" for r in resources
                   for s in r.get("meta", {}).get("security", []))
    return {"X-Redisclosure-Notice": part2.notice_text()} if labelled else {}


def lenient(request: HttpRequest) -> bool:
    prefer = [p.strip().replace(" ", "") for p in request.headers.get("Prefer", "").split(",")]
    return "handling=lenient" in prefer


def search(request: HttpRequest, spec: Spec) -> HttpResponse:
    user = request.user
    require_perm(user, spec, request, "s")
    ctx = context(user)
    qs = rows_for(spec, user).annotate(fhir_updated=spec.updated)
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
    visible, held = gated(spec, qs)
    count, offset = options["count"], options["offset"]
    total = visible.count() if options["total"] != "none" else None
    rows = list(visible.order_by(*spec.order)[offset:offset + count + 1]) if count else []
    has_next = len(rows) > count
    rows = rows[:count]
    withheld = held.count() if held is not None else 0
    included = _included(request, spec, rows, options)
    entries = [_entry(request, spec, row, "match") for row in rows]
    entries += [_entry(request, ispec, row, "include") for ispec, row in included]
    audit(request, spec, rows)
    for ispec in {s.name: s for s, _ in included}.values():
        audit(request, ispec, [row for s, row in included if s is ispec])
    if withheld:
        denied(request, spec, ctx.patient, withheld)
        entries.append({"resource": {"resourceType": "OperationOutcome", "issue": [{
            "severity": "information", "code": "suppressed",
            "diagnostics": f"{withheld} matching record(s) withheld under 42 CFR Part 2 "
                           "(no active consent)."}]}, "search": {"mode": "outcome"}})
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
    return respond(bundle, headers=notice_headers(e["resource"] for e in entries))


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
              ) -> list[tuple[Spec, Any]]:
    user = request.user
    out: list[tuple[Spec, Any]] = []
    if not rows:
        return out
    for value in options["_include"]:
        link = spec.links[value.partition(":")[2]]
        target = SPECS[link.target]
        require_perm(user, target, request, "s")
        ids = {follow(row, link.path).pk for row in rows if follow(row, link.path) is not None}
        visible, _ = gated(target, rows_for(target, user))
        out += [(target, r) for r in visible.filter(pk__in=ids).order_by(*target.order)]
    for value in options["_revinclude"]:
        source_name, _, param = value.partition(":")
        source = SPECS[source_name]
        require_perm(user, source, request, "s")
        visible, _ = gated(source, rows_for(source, user))
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
