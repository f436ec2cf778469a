"""Intake API: referral list/create and scoring; bad input is a 4xx naming the field."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.accounts.models import Role
from openiop.intake.models import Referral
from tests import factories as f
from tests.conftest import login


@pytest.fixture
def client(world):
    return login(f.staff(world.org, Role.INTAKE, username="intake-api"))


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_create_and_list_referrals(world, client):
    r = post(client, "/api/intake/referrals", {
        "source": "employer", "name": "Chris API", "email": "chris@example.net",
        "reason": "EAP referral", "program": str(world.program.code)})
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "new" and r.json()["program"] == str(world.program.code)
    data = client.get("/api/intake/referrals?status=open").json()
    assert data["count"] == 1 and data["results"][0]["name"] == "Chris API"


def test_referral_list_query_count_is_flat(world, client):
    def add(n):
        for i in range(n):
            post(client, "/api/intake/referrals", {"source": "self", "name": f"P{i}",
                                                   "phone": "6145550100", "reason": "r",
                                                   "program": str(world.program.code)})

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            client.get("/api/intake/referrals?limit=50")
        return len(ctx.captured_queries)

    add(2)
    few = queries()
    add(10)
    assert queries() == few
    assert client.get("/api/intake/referrals?limit=50").json()["count"] == 12


@pytest.mark.parametrize(("body", "field"), [
    ({"source": "court", "name": "X", "reason": "r"}, "phone"),
    ({"source": "nowhere", "name": "X", "reason": "r", "phone": "6145550100"}, "source"),
    ({"source": "court", "name": "X", "reason": "r", "email": "bad"}, "email"),
    ({"source": "court", "name": "", "reason": "r", "phone": "6145550100"}, "name"),
    ({"source": "court", "name": "X", "reason": "r", "phone": "6145550100",
      "program": "11111111-1111-4111-8111-111111111111"}, "program"),
])
def test_bad_referrals_are_422_and_store_nothing(world, client, body, field):
    r = post(client, "/api/intake/referrals", body)
    assert r.status_code == 422
    assert field in r.json()["detail"]
    assert not Referral.objects.exists()


def test_a_bad_status_filter_is_422(world, client):
    assert client.get("/api/intake/referrals?status=lost").status_code == 422


def test_clinicians_without_intake_permission_get_403(world, as_clinician):
    assert as_clinician.get("/api/intake/referrals").status_code == 403


def test_scoring_returns_total_band_and_flags(world, client):
    r = post(client, "/api/intake/score", {"instrument": "phq9", "answers": [1] * 9})
    assert r.status_code == 200
    body = r.json()
    assert (body["total"], body["band"], body["safety"]) == (9, "mild", True)
    assert body["flags"][0]["code"] == "self_harm_thoughts"
    r = post(client, "/api/intake/score", {"instrument": "auditc", "answers": [1, 1, 1],
                                           "sex": "female"})
    assert r.json()["band"] == "positive"


@pytest.mark.parametrize(("body", "field"), [
    ({"instrument": "phq9", "answers": [1] * 8}, "answers.q9"),
    ({"instrument": "phq9", "answers": [1] * 8 + [7]}, "answers.q9"),
    ({"instrument": "nope", "answers": [1]}, "instrument"),
    ({"instrument": "auditc", "answers": [1, 1, 1], "sex": "x"}, "sex"),
    ({"instrument": "gad7", "answers": "lots"}, "answers"),
])
def test_scoring_bad_answers_is_422_naming_the_item(world, client, body, field):
    r = post(client, "/api/intake/score", body)
    assert r.status_code == 422
    assert field in r.json()["detail"]


def test_instrument_catalogue_lists_items(world, client):
    data = client.get("/api/intake/instruments").json()
    phq = next(i for i in data if i["code"] == "phq9")
    assert len(phq["items"]) == 9 and phq["items"][8]["options"][3] == [3, "Nearly every day"]
