"""A 42 CFR Part 2 participant's clinical records reach only the care team (or a
break-the-glass grant), on the pages, the JSON API and FHIR alike; a participant who is
not a Part 2 record keeps the organization rule."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from openiop.access.services import break_glass_grant
from openiop.intake.models import MeasureResponse
from openiop.medications.models import MedicationOrder
from tests.conftest import login
from tests.fhir.conftest import part2_consent

# record kind -> its chart page under /<prefix>/participants/<code>/...
PAGES = {
    "skills": "/skills/participants/{code}/",
    "measures": "/outcomes/participants/{code}/",
    "messages": "/portal/participants/{code}/messages/",
    "medications": "/medications/participants/{code}/",
    "problems": "/billing/participants/{code}/diagnoses/",
}
# Pages that answer with the break-the-glass form instead of a 404.
GATES = {
    "notes": "/notes/participants/{code}/",
    "plans": "/notes/participants/{code}/plan/",
}
API = {
    "notes": "/api/clinical/participants/{code}/notes",
    "medications": "/api/medications/participants/{code}/orders",
    "medications (allergies)": "/api/medications/participants/{code}/allergies",
}


@pytest.mark.parametrize("kind", sorted(PAGES))
def test_pages_follow_the_care_team_rule_for_part2(clinic, kind):
    part2, plain = clinic.w.participant, clinic.plain
    off = login(clinic.personas["clinician_off_team"])
    url = PAGES[kind]
    assert off.get(url.format(code=part2.code)).status_code == 404
    assert off.get(url.format(code=plain.code)).status_code == 200
    assert login(clinic.w.clinician).get(url.format(code=part2.code)).status_code == 200
    assert login(clinic.w.director).get(url.format(code=part2.code)).status_code == 200
    assert login(clinic.personas["admin"]).get(url.format(code=part2.code)).status_code == 404
    break_glass_grant(actor=clinic.personas["clinician_off_team"], participant=part2,
                      reason="Crisis call")
    assert off.get(url.format(code=part2.code)).status_code == 200


def test_drug_screens_are_written_only_by_the_care_team_for_part2(clinic):
    off = login(clinic.personas["clinician_off_team"])
    assert off.post(f"/medications/participants/{clinic.w.participant.code}/screens/new/",
                    {}).status_code == 404
    assert off.post(f"/medications/participants/{clinic.plain.code}/screens/new/",
                    {}).status_code != 404


@pytest.mark.parametrize("kind", sorted(GATES))
def test_notes_and_plans_pages_ask_to_break_the_glass(clinic, kind):
    part2 = clinic.w.participant
    url = GATES[kind].format(code=part2.code)
    for who in ("clinician_off_team", "nurse", "prescriber", "admin"):
        page = login(clinic.personas[who]).get(url)
        assert page.status_code == 200 and b"Break the glass" in page.content, who
    for who in ("clinician_on_team", "director"):
        page = login(clinic.personas[who]).get(url)
        assert page.status_code == 200 and b"Break the glass" not in page.content, who
    client = login(clinic.personas["admin"])
    client.post(f"/notes/participants/{part2.code}/break-glass/", {"reason": "Complaint review"})
    assert b"Break the glass" not in client.get(url).content


@pytest.mark.parametrize("name", sorted(API))
def test_the_json_api_follows_the_care_team_rule(clinic, name):
    part2, plain = clinic.w.participant, clinic.plain
    who = clinic.personas["clinician_off_team"]
    off = login(who)
    url = API[name]
    refused = off.get(url.format(code=part2.code))
    assert refused.status_code == 403 and "care team" in refused.json()["detail"]
    assert login(clinic.w.clinician).get(url.format(code=part2.code)).status_code == 200
    if name != "notes":  # notes are the care team's for everyone
        assert off.get(url.format(code=plain.code)).status_code == 200
    assert login(clinic.w.outsider).get(url.format(code=part2.code)).status_code == 404
    break_glass_grant(actor=who, participant=part2, reason="Crisis call")
    assert off.get(url.format(code=part2.code)).status_code == 200


def _records(clinic):
    rows = {}
    for person in (clinic.w.participant, clinic.plain):
        part2_consent(person, clinic.w.clinician)
        rows[person.pk] = {
            "Observation": MeasureResponse.objects.create(
                participant=person, instrument="phq9", answers={"q1": 1}, total=5,
                band="mild", completed_at=timezone.now()),
            "MedicationRequest": MedicationOrder.objects.create(
                participant=person, name="Sertraline", catalog_key="sertraline",
                dose=Decimal("50"), unit="mg", route="oral", frequency="daily",
                prescriber=clinic.w.clinician,
                start_date=timezone.localdate() - timedelta(days=3)),
        }
    return rows


@pytest.mark.parametrize("rtype", ["Observation", "MedicationRequest"])
def test_fhir_follows_the_care_team_rule(clinic, rtype):
    rows = _records(clinic)
    part2, plain = clinic.w.participant, clinic.plain
    mine, theirs = rows[part2.pk][rtype], rows[plain.pk][rtype]
    who = clinic.personas["nurse"]
    client = login(who)

    def ids(response):
        return {e["resource"].get("id") for e in response.json().get("entry", [])}

    assert client.get(f"/fhir/R4/{rtype}/{mine.code}").status_code == 404
    assert client.get(f"/fhir/R4/{rtype}/{theirs.code}").status_code == 200
    found = client.get(f"/fhir/R4/{rtype}")
    assert str(mine.code) not in ids(found) and str(theirs.code) in ids(found)
    team = login(clinic.w.clinician)
    assert team.get(f"/fhir/R4/{rtype}/{mine.code}").status_code == 200
    break_glass_grant(actor=who, participant=part2, reason="Overdose response")
    assert client.get(f"/fhir/R4/{rtype}/{mine.code}").status_code == 200
    assert str(mine.code) in ids(client.get(f"/fhir/R4/{rtype}"))
