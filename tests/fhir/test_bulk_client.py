"""Bulk Data export driven by a real client written by others: Medplum's
`MedplumClient.bulkExport` (Node.js, tools/fhir-validate/bulk-export.mjs) against a live
server, with a SMART bearer token: POST kick-off, 202 and Content-Location, polling,
the manifest, then every NDJSON file downloaded with the token. The files hold exactly
what the same token's searches return, and each resource passes Medplum's validator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.intake.models import MeasureResponse

from .conftest import issue_token, registered_app
from .test_validation_medplum import validate

pytestmark = pytest.mark.skipif(shutil.which("node") is None,
                                reason="Node.js is not installed (Medplum's client runs in "
                                       "Node.js; CI has it)")


@pytest.fixture
def live(transactional_db, world, live_server, settings, tmp_path):
    world.program.focus = "mh"  # not a Part 2 record: the consent rules have their own tests
    world.program.save()
    settings.OPENIOP_EXPORT_DIR = tmp_path / "exports"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return live_server


def run_client(tool, base: str, token: str, **env: str) -> dict:
    done = subprocess.run(
        ["node", "bulk-export.mjs"], cwd=tool, capture_output=True, text=True, timeout=300,
        check=False, env=os.environ | {"FHIR_BASE": base, "FHIR_TOKEN": token} | env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_medplum_bulk_client_exports_what_the_searches_return(live, world, medplum):
    MeasureResponse.objects.create(participant=world.participant, instrument="phq9",
                                   answers={"q1": 1}, total=9, band="mild",
                                   completed_at=timezone.now())
    app = registered_app(world.director, name="Synthetic Bulk Client")
    token = issue_token(world.clinician, app, scope="user/*.rs")
    result = run_client(medplum, live.url, token, EXPORT_TYPES="Patient,Observation")
    manifest, files = result["manifest"], result["files"]
    assert manifest["requiresAccessToken"] is True
    assert {o["type"] for o in manifest["output"]} == {"Patient", "Observation"}
    from django.test import Client

    api = Client(headers={"Authorization": f"Bearer {token}"})
    for rtype, resources in files.items():
        searched = api.get(f"/fhir/R4/{rtype}", {"_count": 1000}).json()
        assert sorted(r["id"] for r in resources) == sorted(
            e["resource"]["id"] for e in searched.get("entry", [])), rtype
    assert [o["valueQuantity"]["value"] for o in files["Observation"]] == [9]
    assert str(world.participant.code) in {p["id"] for p in files["Patient"]}
    failures = [r for r in validate(medplum, [*files["Patient"], *files["Observation"]])
                if r["issues"]]
    assert not failures, failures[:3]
    export = AccessEvent.objects.get(object_type="fhir.$export", action="export")
    assert export.actor == world.clinician and "Synthetic Bulk Client" in export.recipient


def test_medplum_bulk_client_patient_level_with_since(live, world, medplum):
    app = registered_app(world.director, name="Synthetic Bulk Client")
    token = issue_token(world.clinician, app, scope="user/*.rs")
    later = (timezone.now() + timezone.timedelta(seconds=-1)).isoformat()
    MeasureResponse.objects.create(participant=world.participant, instrument="phq9",
                                   answers={"q1": 1}, total=4, band="minimal",
                                   completed_at=timezone.now())
    result = run_client(medplum, live.url, token, EXPORT_LEVEL="Patient",
                        EXPORT_TYPES="Observation", EXPORT_SINCE=later)
    assert [o["valueQuantity"]["value"] for o in result["files"].get("Observation", [])] == [4], result["manifest"]
    assert "Patient/$export" in result["manifest"]["request"]
