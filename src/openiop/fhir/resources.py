"""The resource types this server exposes, as data: where each comes from, who may read it,
how it is searched, what it references.

Permissions: each type names the staff page that shows the same records and reads that
page's permission from the navigation (`openiop.core.navigation.CHART_TABS` /
`STAFF_NAV`), so a FHIR read is allowed exactly when the page is (the pages use
`staff_required(perm)` + `get_participant_for_user(..., perm=perm)`, organization-scoped).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, has_perm
from openiop.core.navigation import CHART_TABS, STAFF_NAV
from openiop.participants.selectors import participants_visible_to

from .search import SearchError, date_filter, reference_id, split_or, token


@dataclass
class Ctx:
    """What a search parameter needs: the user, the organization's time zone, the
    participant named by `patient=` (for the audit trail), and the one participant a
    patient-level token is limited to."""

    user: User
    tz: tzinfo
    patient: Any = None
    only_patient: Any = None


@dataclass(frozen=True)
class Param:
    type: str  # FHIR search parameter type: token, date, reference, string
    apply: Callable[[str, Ctx], Q]  # one occurrence `name=value` -> a filter
    doc: str = ""


@dataclass(frozen=True)
class Link:
    """A reference the resource emits: `path` from the row to the target row."""

    target: str
    path: str


@dataclass(frozen=True)
class Spec:
    name: str
    page: str  # URL name of the staff page showing the same records (permission source)
    queryset: Callable[[User], QuerySet]  # the user's organization's rows
    mapper: Callable[[Any], dict[str, Any]]
    order: tuple[str, ...]
    updated: Any  # expression: when the row (or what its resource shows) last changed
    participant: str | None = None  # path to the participant ("" = the row is one)
    sud_record: Q | None = None  # rows that are Part 2 records on their own
    params: dict[str, Param] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)  # search param -> reference
    profile: str = ""
    # Its searches are planned in the query's written order (sqlplan.in_written_order): its
    # queryset restricts two joined tables to the same constant, which PostgreSQL may
    # otherwise join as a cross product (Appointment, Encounter).
    plan_in_written_order: bool = False

    @property
    def perm(self) -> Perm | tuple[Perm, ...]:
        """The page's permission: one, or several of which any one suffices."""
        for item in (*CHART_TABS, *STAFF_NAV):
            if item.url_name == self.page and item.perm is not None:
                return item.perm
        raise LookupError(f"No navigation entry for {self.page}")

    def permitted(self, user: User) -> bool:
        perm = self.perm
        return any(has_perm(user, p) for p in (perm if isinstance(perm, tuple) else (perm,)))

    @property
    def participant_prefix(self) -> str:
        return f"{self.participant}__" if self.participant else ""


# --- parameter builders -------------------------------------------------------------------

def uuids(value: str) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(v) for v in split_or(value)]
    except ValueError as exc:
        raise SearchError(f"{value!r}: ids on this server are UUIDs.") from exc


def id_param(path: str = "code") -> Param:
    return Param("token", lambda v, ctx: Q(**{f"{path}__in": uuids(v)}), "Logical id")


def last_updated() -> Param:
    return Param("date", lambda v, ctx: date_filter([v], "fhir_updated", ctx.tz),
                 "When the resource last changed (meta.lastUpdated)")


def choice(path: str, values: dict[str, Q] | tuple[str, ...], system: str | None = None,
           doc: str = "") -> Param:
    """A token over fixed codes: `values` maps each code to a filter (or names the codes of
    a field). `system|code` matches only when `system` is this parameter's code system
    (empty for codes without one); an unknown code is a 400 rather than an empty page."""
    table = values if isinstance(values, dict) else {v: Q(**{path: v}) for v in values}

    def apply(value: str, ctx: Ctx) -> Q:
        query = Q(pk__in=[])
        for item in split_or(value):
            sys, code = token(item)
            if sys is not None and sys != (system or ""):
                continue  # a code of another system matches nothing here
            if code not in table:
                raise SearchError(f"{code!r} is not one of {', '.join(table)}.")
            query |= table[code]
        return query

    return Param("token", apply, doc or f"One of {', '.join(table)}")


def text(*paths: str) -> dict[str, Param]:
    """`name` (starts with, any case), `name:contains`, `name:exact` over several fields."""

    def build(lookup: str) -> Callable[[str, Ctx], Q]:
        def apply(value: str, ctx: Ctx) -> Q:
            query = Q(pk__in=[])
            for item in split_or(value):
                for path in paths:
                    query |= Q(**{f"{path}__{lookup}": item})
            return query
        return apply

    return {"": Param("string", build("istartswith")),
            ":contains": Param("string", build("icontains")),
            ":exact": Param("string", build("exact"))}


def named(name: str, params: dict[str, Param]) -> dict[str, Param]:
    return {name + suffix: p for suffix, p in params.items()}


def patient_ref(path: str) -> Param:
    """`patient=Patient/<id>`: one participant the user may see (else 404); under a
    patient-level token, only the launch context's participant."""

    def apply(value: str, ctx: Ctx) -> Q:
        codes = []
        for item in split_or(value):
            try:
                codes.append(uuid.UUID(reference_id(item, "Patient")))
            except ValueError as exc:
                raise SearchError("patient must be a Patient id (Patient/<uuid>).") from exc
        people = participants_visible_to(ctx.user)
        if ctx.only_patient is not None:
            people = people.filter(pk=ctx.only_patient.pk)
        found = list(people.select_related("organization").filter(code__in=codes))
        if len(found) != len(set(codes)):
            raise Http404
        if len(found) == 1:
            ctx.patient = found[0]
        return Q(**{f"{path}__in": [p.pk for p in found]})

    return Param("reference", apply, "The participant (Patient/<id>)")


def ref_param(target: str, path: str) -> Param:
    def apply(value: str, ctx: Ctx) -> Q:
        try:
            codes = [uuid.UUID(reference_id(v, target)) for v in split_or(value)]
        except ValueError as exc:
            raise SearchError(f"expected a {target} reference ({target}/<uuid>).") from exc
        return Q(**{f"{path}__code__in": codes})

    return Param("reference", apply, f"The {target} referenced")


def common(**more: Param) -> dict[str, Param]:
    return {"_id": id_param(), "_lastUpdated": last_updated(), **more}


def latest(*expressions: Any) -> Any:
    """The latest non-null of several timestamps."""
    present = [Coalesce(e, expressions[0]) for e in expressions]
    return Greatest(*present) if len(present) > 1 else present[0]


__all__ = ["Ctx", "Link", "Param", "Spec", "choice", "common", "id_param", "latest",
           "named", "patient_ref", "ref_param", "text"]
