"""How PostgreSQL plans the FHIR layer's largest reads (a whole type for `$export`, a search
page and its count of a type that asks for it, `Spec.plan_in_written_order`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

# How PostgreSQL plans one type's reads (set_config(..., is_local: true), undone with the
# transaction). join_collapse_limit = 1: join in the query's own order, the type's table
# first and then its to-one relations, work linear in the clinic's size. The querysets of
# Appointment and Encounter restrict both the participant's and the session program's
# organization to the same constant, and the planner considers joining relations restricted
# by one constant with no join clause between them (equivclass.c,
# have_relevant_eclass_joinclause); at 1,000 participants it joined every participant to
# every session (6.3 million rows) before finding the 41,000 bookings, with or without
# statistics. jit = off: the large cost estimates of a whole type's query call
# for JIT compilation, which took 2-3 s a query that then ran in 0.5 s; JIT pays only for
# long CPU-bound queries (https://www.postgresql.org/docs/current/jit-decision.html).
_PLANNER = {"join_collapse_limit": "1", "jit": "off"}


@contextmanager
def in_written_order() -> Iterator[None]:
    """A type's reads (a whole type for the export; a search page, its count and its withheld
    count). On PostgreSQL in a transaction (or savepoint) of their own, planned
    as _PLANNER says; the settings the connection had are back afterwards even when the
    job runs inside a request's transaction. SQLite plans these joins well and would take
    its write lock for the transaction (transaction_mode IMMEDIATE): no transaction there."""
    if connection.vendor != "postgresql":
        yield
        return
    names = list(_PLANNER)
    with transaction.atomic(), connection.cursor() as cursor:
        # One round trip: PostgreSQL evaluates a select list left to right, so the settings
        # are read before they are set.
        cursor.execute(
            "SELECT " + ", ".join(["current_setting(%s)"] * len(names)
                                  + ["set_config(%s, %s, true)"] * len(names)),
            [*names, *[v for name in names for v in (name, _PLANNER[name])]])
        before = cursor.fetchone()[:len(names)]
        yield
        cursor.execute(
            "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(names)),
            [v for name, value in zip(names, before, strict=True) for v in (name, value)])
