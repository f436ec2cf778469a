"""The audit log page: staff names, filters (staff member, participant name, action, date
range, channel), and a formula-safe CSV export that is itself audited."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from openiop.audit.models import AccessEvent
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from tests import factories as f
from tests.conftest import login

DAY1 = datetime(2026, 4, 6, 15, 0, tzinfo=UTC)
DAY2 = datetime(2026, 4, 9, 15, 0, tzinfo=UTC)


@pytest.fixture
def events(world):
    other = f.participant(world.org, legal_first_name="Quinn", legal_last_name="Dawson")
    rf = RequestFactory()

    def rec(when, actor, action, path, participant, reason=""):
        with time_machine.travel(when, tick=False):
            return audit_record(actor=actor, action=action, object_type=ObjectType.PARTICIPANT,
                                participant=participant, reason=reason,
                                request=rf.get(path) if path else None)

    return {
        "page": rec(DAY1, world.clinician, Action.VIEW, f"/participants/{world.participant.code}/",
                    world.participant),
        "api": rec(DAY1, world.colleague, Action.VIEW, "/api/v1/participants/x", other),
        "fhir": rec(DAY2, world.clinician, Action.VIEW, "/fhir/R4/Patient/1", other),
        "export": rec(DAY2, world.clinician, Action.EXPORT, "/notes/x/pdf/", world.participant,
                      reason="=HYPERLINK(\"http://evil.example\",\"click\")"),
        "system": rec(DAY2, world.colleague, Action.CHANGE, "", world.participant),
    }


def _seqs(response):
    return {e.seq for e in response.context["page"].object_list
            if e.object_type == "participant"}


def test_the_log_shows_staff_names_not_usernames(world, events):
    body = login(world.director).get("/audit/").content.decode()
    assert world.clinician.get_full_name() in body
    assert f"<td>{world.clinician.username}</td>" not in body
    assert "Dawson" in body  # participants by name too, with their MRN


@pytest.mark.parametrize(("query", "expected"), [
    ({"channel": "page"}, {"page"}),
    ({"channel": "api"}, {"api"}),
    ({"channel": "fhir"}, {"fhir"}),
    ({"channel": "export"}, {"export"}),
    ({"channel": "system"}, {"system"}),
    ({"action": "export"}, {"export"}),
    ({"participant": "quinn dawson"}, {"api", "fhir"}),
    ({"since": "2026-04-08", "until": "2026-04-09"}, {"fhir", "export", "system"}),
    ({"until": "2026-04-06"}, {"page", "api"}),
])
def test_each_filter_narrows_the_log(world, events, query, expected):
    response = login(world.director).get("/audit/", query)
    assert response.status_code == 200
    assert _seqs(response) == {events[k].seq for k in expected}


def test_the_staff_filter_lists_staff_by_name(world, events):
    client = login(world.director)
    page = client.get("/audit/").content.decode()
    assert f'<option value="{world.colleague.pk}">{world.colleague.get_full_name()}</option>' \
        in page
    response = client.get("/audit/", {"staff": world.colleague.pk})
    assert _seqs(response) == {events["api"].seq, events["system"].seq}


def test_a_backwards_date_range_is_a_field_message(world, events):
    response = login(world.director).get("/audit/", {"since": "2026-04-09",
                                                     "until": "2026-04-01"})
    assert response.status_code == 400
    assert b"The end date must be on or after the start date." in response.content


def test_the_csv_export_is_filtered_formula_safe_and_audited(world, events):
    client = login(world.director)
    response = client.get("/audit/export.csv", {"participant": world.participant.mrn})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    seqs = {int(r["seq"]) for r in rows}
    assert seqs == {events[k].seq for k in ("page", "export", "system")}
    exported = next(r for r in rows if int(r["seq"]) == events["export"].seq)
    assert exported["reason"].startswith("'=HYPERLINK")  # not a live formula
    assert exported["channel"] == "Exports and prints"
    assert exported["staff_member"] == world.clinician.get_full_name()
    audit = AccessEvent.objects.filter(object_type="access_log", action="export",
                                       actor=world.director).get()
    assert world.participant.mrn in audit.reason and audit.path == "/audit/export.csv"


def test_only_auditors_see_or_export_the_log(world, events):
    client = login(world.clinician)
    assert client.get("/audit/").status_code in (403, 404)
    assert client.get("/audit/export.csv").status_code in (403, 404)
    assert not AccessEvent.objects.filter(object_type="access_log").exists()


def test_the_log_page_pins_its_query_count(world, events):
    client = login(world.director)
    client.get("/audit/")
    with CaptureQueriesContext(connection) as small:
        client.get("/audit/")
    for n in range(10):
        audit_record(actor=world.colleague, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                     participant=f.participant(world.org), reason=str(n))
    with CaptureQueriesContext(connection) as big:
        client.get("/audit/")
    assert len(big) == len(small), [q["sql"][:90] for q in big]
