"""Search semantics: totals, links, empty bundles, unsupported parameters, tokens with a
system, _lastUpdated, _include/_revinclude, bounds; and the error contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.db import connection
from django.test import Client
from fhir.resources.R4B.bundle import Bundle

from openiop.intake.models import MeasureResponse
from tests import factories as f

FIXED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def get(client, path, **headers):
    response = client.get(f"/fhir/R4/{path}", headers=headers)
    assert response["Content-Type"] == "application/fhir+json", path
    return response


def links(bundle: dict) -> dict[str, dict]:
    return {link["relation"]: parse_qs(urlparse(link["url"]).query) for link in bundle["link"]}


def score(participant, when, instrument="phq9", total=5):
    return MeasureResponse.objects.create(participant=participant, instrument=instrument,
                                          answers={"q1": 1}, total=total, band="mild",
                                          completed_at=when)


def test_total_counts_every_match_and_links_page_both_ways(mh, world, as_clinician):
    for i in range(5):
        score(world.participant, FIXED - timedelta(days=i))
    first = get(as_clinician, f"Observation?patient={world.participant.code}&_count=2").json()
    assert first["total"] == 5 and len(first["entry"]) == 2
    nav = links(first)
    assert "previous" not in nav and nav["next"]["_offset"] == ["2"]
    assert nav["self"]["patient"] == [str(world.participant.code)]
    following = urlparse(next(x["url"] for x in first["link"] if x["relation"] == "next"))
    second = as_clinician.get(f"{following.path}?{following.query}").json()
    assert [e["resource"]["id"] for e in second["entry"]] != [
        e["resource"]["id"] for e in first["entry"]]
    assert "_offset" not in links(second)["previous"] and "next" in links(second)
    last = second
    assert Bundle.model_validate(last).total == 5


def test_total_none_and_count_zero(mh, world, as_clinician):
    score(world.participant, FIXED)
    score(world.participant, FIXED - timedelta(days=1))
    no_total = get(as_clinician, "Observation?_total=none").json()
    assert "total" not in no_total and len(no_total["entry"]) == 2
    assert links(no_total)["self"]["_total"] == ["none"]
    only_total = get(as_clinician, "Observation?_count=0").json()
    assert only_total["total"] == 2 and "entry" not in only_total


def test_an_empty_result_has_no_entry_array(mh, world, as_clinician):
    bundle = get(as_clinician, f"Observation?patient={world.participant.code}").json()
    assert bundle["total"] == 0 and "entry" not in bundle
    Bundle.model_validate(bundle)


def test_a_date_in_the_future_matches_nothing(mh, world, as_clinician):
    score(world.participant, FIXED)
    assert get(as_clinician, "Observation?date=ge2099").json()["total"] == 0
    assert get(as_clinician, "Observation?date=ge2026-03-01").json()["total"] == 1


def test_unsupported_parameters_are_refused_unless_lenient(mh, world, as_clinician):
    refused = get(as_clinician, "Observation?value-quantity=gt5")
    assert refused.status_code == 400
    issue = refused.json()["issue"][0]
    assert issue["code"] == "not-supported" and "value-quantity" in issue["diagnostics"]
    score(world.participant, FIXED)
    lenient = get(as_clinician, "Observation?value-quantity=gt5&status=final",
                  Prefer="handling=lenient")
    assert lenient.status_code == 200 and lenient.json()["total"] == 1
    self_link = links(lenient.json())["self"]
    assert "value-quantity" not in self_link and self_link["status"] == ["final"]


def test_token_search_honours_the_system(mh, world, as_clinician):
    score(world.participant, FIXED)
    assert get(as_clinician, "Observation?code=http://loinc.org|44261-6").json()["total"] == 1
    assert get(as_clinician, "Observation?code=44261-6").json()["total"] == 1
    assert get(as_clinician, "Observation?code=http://snomed.info/sct|44261-6"
               ).json()["total"] == 0
    mrn = world.participant.mrn
    system = f"urn:openiop:organization:{world.org.code}:mrn"
    assert get(as_clinician, f"Patient?identifier={system}|{mrn}").json()["total"] == 1
    assert get(as_clinician, f"Patient?identifier=urn:other|{mrn}").json()["total"] == 0


def test_last_updated_search_and_meta(mh, world, as_clinician):
    with time_machine.travel(FIXED - timedelta(days=10), tick=False):
        old = score(world.participant, FIXED - timedelta(days=10))
    with time_machine.travel(FIXED, tick=False):
        new = score(world.participant, FIXED)
    found = get(as_clinician, "Observation?_lastUpdated=ge2026-03-01").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(new.code)]
    found = get(as_clinician, "Observation?_lastUpdated=lt2026-03-01").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(old.code)]
    meta = found["entry"][0]["resource"]["meta"]
    assert datetime.fromisoformat(meta["lastUpdated"]) == FIXED - timedelta(days=10)
    assert meta["versionId"]


def test_include_and_revinclude(mh, world, as_clinician):
    score(world.participant, FIXED)
    score(world.participant, FIXED - timedelta(days=1))
    other = f.participant(world.org)
    bundle = get(as_clinician, "Observation?_include=Observation:patient").json()
    modes = [(e["search"]["mode"], e["resource"]["resourceType"]) for e in bundle["entry"]]
    assert modes.count(("match", "Observation")) == 2
    assert modes.count(("include", "Patient")) == 1  # once, though two scores name it
    assert bundle["total"] == 2
    rev = get(as_clinician, f"Patient?_id={world.participant.code},{other.code}"
                            "&_revinclude=Observation:patient").json()
    kinds = sorted((e["search"]["mode"], e["resource"]["resourceType"]) for e in rev["entry"])
    assert kinds == [("include", "Observation")] * 2 + [("match", "Patient")] * 2
    assert get(as_clinician, "Observation?_include=Observation:performer").status_code == 400


@pytest.mark.parametrize("query", ["_count=1001", "_count=-1", "_offset=9223372036854775808",
                                   "_total=maybe", "_format=xml", "_id=not-a-uuid",
                                   "date=ne2026", "status=pending"])
def test_bad_values_get_400_naming_the_parameter(mh, world, as_clinician, query):
    response = get(as_clinician, f"Observation?{query}")
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [query.split("=")[0]]


def test_search_on_directory_resources(world, as_clinician):
    f.site(world.org, name="Harbor Annex", city="Salem")
    assert get(as_clinician, "Location?name=harb").json()["total"] == 1
    assert get(as_clinician, "Location?address-city=salem").json()["total"] == 1
    assert get(as_clinician, "Practitioner?family=" + world.clinician.last_name
               ).json()["total"] >= 1
    assert get(as_clinician, "Organization?name=Riverbend").json()["total"] == 1
    assert get(as_clinician, "Organization?name=Elsewhere").json()["total"] == 0
    services = get(as_clinician, f"HealthcareService?organization={world.org.code}").json()
    assert [e["resource"]["id"] for e in services["entry"]] == [str(world.program.code)]


def test_conditional_reads(mh, world, as_clinician):
    m = score(world.participant, FIXED)
    first = get(as_clinician, f"Observation/{m.code}")
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag == f'W/"{first.json()["meta"]["versionId"]}"'
    assert as_clinician.get(f"/fhir/R4/Observation/{m.code}",
                            headers={"If-None-Match": etag}).status_code == 304
    assert as_clinician.get(f"/fhir/R4/Observation/{m.code}",
                            headers={"If-Modified-Since": modified}).status_code == 304
    assert get(as_clinician, f"Observation/{m.code}",
               **{"If-None-Match": 'W/"1"'}).status_code == 200
    MeasureResponse.objects.filter(pk=m.pk).update(created_at=FIXED + timedelta(hours=1))
    changed = get(as_clinician, f"Observation/{m.code}", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_errors_are_operation_outcomes(world, as_clinician):
    anonymous = get(Client(), "Patient")
    assert anonymous.status_code == 401 and 'realm="openiop-fhir"' in anonymous["WWW-Authenticate"]
    assert anonymous.json()["resourceType"] == "OperationOutcome"
    for method in ("post", "put", "patch", "delete"):
        response = getattr(as_clinician, method)("/fhir/R4/Patient", data="{}",
                                                 content_type="application/fhir+json")
        assert response.status_code == 405, method
        assert response["Content-Type"] == "application/fhir+json"
        assert response.json()["issue"][0]["code"] == "not-supported"
    missing = get(as_clinician, "Patient/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"
    assert get(as_clinician, "Claim").status_code == 404


def test_missing_second_factor_is_a_401_operation_outcome(world, as_clinician, settings):
    settings.OPENIOP_REQUIRE_MFA = True
    response = get(as_clinician, "Patient")
    assert response.status_code == 401 and response["WWW-Authenticate"]
    assert "Two-factor" in response.json()["issue"][0]["diagnostics"]


@pytest.mark.parametrize("rtype", ["Patient", "EpisodeOfCare", "Observation", "Appointment",
                                   "Encounter", "MedicationRequest", "Consent", "Practitioner",
                                   "Location", "HealthcareService"])
def test_search_query_count_does_not_grow_with_matches(mh, world, as_clinician, rtype):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add_rows() -> None:
        booking = f.booking(f.session(world.program, facilitator=world.colleague),
                            world.participant)
        f.attendance(booking, "present")
        score(world.participant, FIXED)
        from openiop.participants.models import Consent

        Consent.objects.create(participant=world.participant, kind="release", recipient="PCP")
        from decimal import Decimal

        from openiop.medications.models import MedicationOrder

        MedicationOrder.objects.create(
            participant=world.participant, name="Sertraline", catalog_key="sertraline",
            dose=Decimal("50"), unit="mg", route="oral", frequency="daily",
            prescriber=world.clinician, start_date=FIXED.date())
        f.site(world.org)
        f.staff(world.org, "clinician")
        program = f.program(world.org, world.site, focus="mh")
        f.track(program)
        f.episode(world.participant, program, status="discharged")

    query = (f"_id={world.participant.code}" if rtype == "Patient" else
             f"patient={world.participant.code}" if rtype not in (
                 "Practitioner", "Location", "HealthcareService") else "")
    add_rows()
    with CaptureQueriesContext(connection) as few:
        first = get(as_clinician, f"{rtype}?{query}").json()
    for _ in range(3):
        add_rows()
    with CaptureQueriesContext(connection) as more:
        second = get(as_clinician, f"{rtype}?{query}").json()
    if rtype != "Patient":
        assert second["total"] > first["total"], rtype
    assert len(more) == len(few), rtype


def test_a_page_of_patients_costs_the_same_queries_however_many_it_holds(world, as_clinician):
    # Each patient shown is audited (a `view` event) and its Part 2 status decided: the
    # status comes with the page's own select and the events are written together
    # (audit.services.audit_records), so ten more patients on the page cost no query more.
    # tests/fhir/test_query_counts.py pins every type's count.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        f.participant(world.org)
    with CaptureQueriesContext(connection) as few:
        small = get(as_clinician, "Patient?_count=100").json()
    for _ in range(10):
        f.participant(world.org)
    with CaptureQueriesContext(connection) as more:
        large = get(as_clinician, "Patient?_count=100").json()
    added = len(large["entry"]) - len(small["entry"])
    assert added == 10
    assert len(more) == len(few), (len(few), len(more))


@pytest.mark.django_db
@pytest.mark.parametrize("rtype", ["Appointment", "Encounter"])
def test_booking_searches_read_in_the_querys_join_order(populated, world, as_director, rtype):
    """Issue #16: the Appointment and Encounter querysets restrict both the participant's and
    the session program's organization to one constant; PostgreSQL may join those two
    tables as a cross product (every participant with every session: 3-8 s a page at 1,000
    participants). The search's count, page and withheld count of these types run planned
    in the query's written order (fhir.sqlplan.in_written_order, join_collapse_limit 1),
    and the setting is back to the connection's own afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        (default,) = cursor.fetchone()
    assert default != "1"
    seen: list[tuple[str, str]] = []
    looking = False

    def record(execute, sql, params, many, context):
        nonlocal looking
        if not looking and sql.startswith("SELECT") and '"scheduling_booking"' in sql:
            looking = True
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT current_setting('join_collapse_limit')")
                    seen.append((sql, cursor.fetchone()[0]))
            finally:
                looking = False
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        bundle = as_director.get(f"/fhir/R4/{rtype}?_count=5&_total=accurate").json()
    assert bundle["total"] > 0 and bundle["entry"]
    assert len(seen) >= 2  # the count and the page
    assert all(order == "1" for _, order in seen), [s[:120] for s, o in seen if o != "1"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        assert cursor.fetchone()[0] == default
