"""Every FHIR search and read takes a fixed number of database queries: the same for a page
of 10 and of 100 and for a clinic twice as large, for the program's staff (a signed-in
session) and for an outside app (a SMART bearer token, to which Part 2 records go only under
consent), with `_include`, `_revinclude` and `_total=accurate` too. The number per type is
pinned exactly, so that a query added per row, per participant, per consent or per audit
event fails here rather than in production.

Each persona is one test over one clinic (built at 110 and grown to 220 of everything, see
tests/fhir/scale.py), each resource type a subtest."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from openiop.core import sessions
from openiop.fhir.history import SUPPORTED
from openiop.fhir.registry import SPECS
from tests.conftest import login

from .conftest import issue_token, registered_app
from .scale import grow

SIZE = 130  # more matches than the larger page, for every type but Organization (one)
DIRECTORY = ("Practitioner", "Organization", "Location", "HealthcareService")

# On PostgreSQL each batch of audit events takes one more query (the advisory lock that
# serializes appends to the organization's chain). A search or read of participants' records
# writes one batch, a bearer token's use included (fhir.http.take_audit); the directory types
# write none of their own, so there a token's use is the batch.
PG = connection.vendor == "postgresql"
# On PostgreSQL a search of a type planned in its query's written order
# (fhir.sqlplan.in_written_order: Appointment, Encounter) takes four more: the savepoint,
# reading and setting the planner's settings, putting them back, the release.
PLANNED = 4 * PG


def includes(rtype: str) -> list[str]:
    return [f"_include={rtype}:{param}" for param in SPECS[rtype].links]


def revincludes(rtype: str) -> list[str]:
    return [f"_revinclude={source.name}:{param}" for source in SPECS.values()
            for param, link in source.links.items() if link.target == rtype]


def searches(rtype: str) -> dict[str, str]:
    out = {"_count=10": "_count=10", "_count=100": "_count=100",
           "_total=accurate": "_count=100&_total=accurate"}
    if includes(rtype):
        out["_include"] = "&".join(["_count=100", *includes(rtype)])
    if revincludes(rtype):
        out["_revinclude"] = "&".join(["_count=100", *revincludes(rtype)])
    return out


# The exact count of every search at _count=100 (and so at _count=10, and at both clinic
# sizes) on SQLite: the session, the user and staff profile, the organization, the total,
# the page, and one batch of audit events (savepoint, next sequence number, the chain's
# head, the insert, release); an `_include` or `_revinclude` adds its own select (per parameter), an app its
# token, its purpose and the consents (its token's use is written in the same batch). Directory
# types have no participant and no audit of their own.
SEARCHES = {
    "director": {
        "Patient": {"_include": 12, "_revinclude": 24},
        "EpisodeOfCare": {"_include": 14},
        "Observation": {"_include": 13},
        "Appointment": {"_include": 14},
        "Encounter": {"_include": 15},
        "MedicationRequest": {"_include": 14},
        "Consent": {"_include": 13},
        "Condition": {"_include": 14},
        "Coverage": {"_include": 13},
        "Practitioner": {"_count=100": 6, "_revinclude": 16},
        "Organization": {"_count=100": 6, "_revinclude": 17},
        "Location": {"_count=100": 6, "_include": 7, "_revinclude": 15},
        "HealthcareService": {"_count=100": 7, "_include": 9},
    },
    "app": {
        "Patient": {"_include": 15, "_revinclude": 35},
        "EpisodeOfCare": {"_include": 18},
        "Observation": {"_include": 17},
        "Appointment": {"_include": 18},
        "Encounter": {"_include": 19},
        "MedicationRequest": {"_include": 18},
        "Consent": {"_include": 17},
        "Condition": {"_include": 18},
        "Coverage": {"_include": 17},
        "Practitioner": {"_count=100": 12, "_revinclude": 22},
        "Organization": {"_count=100": 12, "_revinclude": 21},
        "Location": {"_count=100": 12, "_include": 13, "_revinclude": 18},
        "HealthcareService": {"_count=100": 13, "_include": 15},
    },
}
PAGE = {"director": 11, "app": 14}  # a page of participants' records, no include
# A read, and a vread of the types with versions (one more query: the history rows of
# Patient and MedicationRequest); the read is of the first match of a search. The director's
# first MedicationRequest and Consent are Part 2 records: their notice names the program's
# chosen statement (one more query, the organization).
READS = {
    "director": {"Patient": (9, 10), "EpisodeOfCare": 9, "Observation": (9, 9),
                 "Appointment": 9, "Encounter": 9, "MedicationRequest": (10, 11),
                 "Consent": (10, 10), "Condition": (9, 9), "Coverage": (9, 9),
                 "Practitioner": 4, "Organization": 4, "Location": 4, "HealthcareService": 5},
    "app": {"Patient": (12, 13), "EpisodeOfCare": 12, "Observation": (12, 12),
            "Appointment": 12, "Encounter": 12, "MedicationRequest": (12, 13),
            "Consent": (12, 12), "Condition": (12, 12), "Coverage": (12, 12),
            "Practitioner": 11, "Organization": 11, "Location": 11, "HealthcareService": 12},
}


def expected_reads(persona: str, rtype: str) -> dict[str, int]:
    pinned = READS[persona][rtype]
    read, vread = pinned if isinstance(pinned, tuple) else (pinned, None)
    extra = PG * int(rtype not in DIRECTORY or persona == "app")
    return {"read": read + extra} | ({"vread": vread + extra} if vread is not None else {})


def expected_search(persona: str, rtype: str, case: str) -> int:
    pinned = SEARCHES[persona][rtype]
    if case in pinned:
        count = pinned[case]
    elif case in ("_count=10", "_total=accurate") and "_count=100" in pinned:
        count = pinned["_count=100"]
    else:
        count = PAGE[persona]
    audited = rtype not in DIRECTORY or case == "_revinclude"
    return count + PG * int(audited or persona == "app") + PLANNED * SPECS[rtype].plan_in_written_order


def count(client: Client, url: str) -> tuple[int, dict]:
    connection.queries_log.clear()  # a full log (9,000 queries) would count nothing new
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(ctx.captured_queries), response.json()


def measure(client: Client) -> dict[tuple[str, str], int]:
    out = {}
    for rtype in SPECS:
        for case, query in searches(rtype).items():
            out[rtype, case], bundle = count(client, f"/fhir/R4/{rtype}?{query}")
            if case == "_count=100" and rtype != "Organization":
                assert len([e for e in bundle["entry"] if e["search"]["mode"] == "match"]) \
                    == 100, rtype  # a full page
            if case == "_count=10":
                first = bundle["entry"][0]["resource"]
                out[rtype, "read"], _ = count(client, f"/fhir/R4/{rtype}/{first['id']}")
                if rtype in SUPPORTED:
                    out[rtype, "vread"], _ = count(
                        client,
                        f"/fhir/R4/{rtype}/{first['id']}/_history/{first['meta']['versionId']}")
    return out


def persona_client(persona: str, world, app) -> Client:
    if persona == "director":
        client = login(world.director)
        client.get("/fhir/R4/metadata")  # the session's first write (core/sessions.py)
        return client
    return Client(headers={"Authorization": f"Bearer {issue_token(world.director, app)}"})


@pytest.mark.parametrize("persona", ["director", "app"])
def test_every_search_and_read_takes_the_same_queries_at_any_page_and_clinic_size(
        world, persona, subtests, monkeypatch):
    # A signed-in session is written again when its last write is a minute old: this test
    # can take longer, and the write is no part of a search's cost.
    monkeypatch.setattr(sessions, "write_slack", lambda age: 24 * 3600)
    app = registered_app(world.director)
    client = persona_client(persona, world, app)
    grow(world, app, SIZE)
    small = measure(client)
    grow(world, app, SIZE)
    big = measure(client)
    for rtype in SPECS:
        with subtests.test(rtype=rtype):
            for case in searches(rtype):
                assert (small[rtype, case], big[rtype, case]) == (
                    (expected_search(persona, rtype, case),) * 2), case
            for case, expected in expected_reads(persona, rtype).items():
                assert (small[rtype, case], big[rtype, case]) == (expected, expected), case
