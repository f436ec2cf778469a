"""The clinical API: drafts carry a version, signed notes answer 409 and stay unchanged."""

from __future__ import annotations

import json

from openiop.clinical.models import Note
from tests.conftest import login

from .helpers import DAP, signed_group_note


def _put(client, url, body):
    return client.put(url, json.dumps(body), content_type="application/json")


def test_a_draft_is_started_updated_and_signed_through_the_api(clinic):
    client = login(clinic.supervisor)
    created = client.post("/api/clinical/notes", json.dumps(
        {"session": str(clinic.individual.code)}), content_type="application/json")
    assert created.status_code == 201
    code = created.json()["code"]
    updated = _put(client, f"/api/clinical/notes/{code}/draft", {"version": 1, "sections": DAP})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = _put(client, f"/api/clinical/notes/{code}/draft",
                 {"version": 1, "sections": DAP | {"data": "older"}})
    assert stale.status_code == 409
    assert stale.json()["current"]["sections"]["data"] == DAP["data"]
    assert stale.json()["yours"]["sections"]["data"] == "older"
    signed = client.post(f"/api/clinical/notes/{code}/sign", "{}",
                         content_type="application/json")
    assert signed.status_code == 200 and signed.json()["status"] == "signed"


def test_editing_a_signed_note_through_the_api_is_409_and_changes_nothing(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    client = login(clinic.supervisor)
    response = _put(client, f"/api/clinical/notes/{note.code}/draft",
                    {"version": note.version, "sections": {"topic": "rewritten"}})
    assert response.status_code == 409 and "addendum" in response.json()["detail"]
    again = client.post(f"/api/clinical/notes/{note.code}/sign", "{}",
                        content_type="application/json")
    assert again.status_code == 409
    assert Note.objects.get(pk=note.pk).sections["topic"] != "rewritten"


def test_bad_input_is_a_4xx_naming_the_field(clinic):
    client = login(clinic.supervisor)
    code = client.post("/api/clinical/notes", json.dumps(
        {"session": str(clinic.individual.code)}), content_type="application/json").json()["code"]
    response = _put(client, f"/api/clinical/notes/{code}/draft",
                    {"version": 1, "sections": {"data": "x" * 20_001}})
    assert response.status_code == 422 and "sections.data" in response.json()["detail"]
    sign = client.post(f"/api/clinical/notes/{code}/sign", "{}", content_type="application/json")
    assert sign.status_code == 422 and "sections.data" in sign.json()["detail"]


def test_notes_are_hidden_from_other_organizations_and_off_team_staff(clinic):
    note = signed_group_note(clinic.supervisor, clinic.group)
    outsider = login(clinic.world.outsider)
    assert outsider.get(f"/api/clinical/notes/{note.code}").status_code == 404
    colleague = login(clinic.world.colleague)
    assert colleague.get(f"/api/clinical/notes/{note.code}").status_code == 404
    listing = login(clinic.supervisor).get(
        f"/api/clinical/participants/{clinic.world.participant.code}/notes")
    assert listing.status_code == 200 and listing.json()[0]["code"] == str(note.code)
