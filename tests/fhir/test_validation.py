"""Every resource the server emits validates against two independent definitions of R4:
HL7's FHIR R4 JSON schema (jsonschema_rs) and fhir.resources' models."""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

import jsonschema_rs
import pytest
from fhir.resources.R4B import get_fhir_model_class

from openiop.fhir.registry import SPECS
from openiop.participants.models import Participant

SCHEMA = Path(__file__).parent / "data" / "fhir.schema.json.gz"


@cache
def definitions() -> dict:
    with gzip.open(SCHEMA, "rt", encoding="utf-8") as fh:
        defs = json.load(fh)["definitions"]
    # The schema is R4 4.0.0; its list of FHIR versions predates the 4.0.1 technical
    # correction this server implements (https://hl7.org/fhir/R4/history.html).
    defs["CapabilityStatement"]["properties"]["fhirVersion"]["enum"].append("4.0.1")
    return defs


def no_empty_values(value: object, path: str = "") -> list[str]:
    """FHIR JSON has no empty arrays, objects or strings and no nulls
    (https://hl7.org/fhir/R4/json.html); the schema cannot say so."""
    if value in ([], {}, "", None):
        return [path or "/"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in no_empty_values(v, f"{path}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in no_empty_values(v, f"{path}/{i}")]
    return []


@cache
def validator(rtype: str) -> jsonschema_rs.Draft6Validator:
    return jsonschema_rs.Draft6Validator({"$ref": f"#/definitions/{rtype}",
                                          "definitions": definitions()})


def assert_valid(resource: dict) -> None:
    rtype = resource["resourceType"]
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
              for e in validator(rtype).iter_errors(resource)]
    assert not errors, (rtype, errors[:5])
    assert not no_empty_values(resource), (rtype, no_empty_values(resource))
    get_fhir_model_class(rtype).model_validate(resource)


def test_the_schema_rejects_what_r4_forbids():
    """The validator is real: an unknown element, a bad code and a wrong type fail."""
    for broken in ({"resourceType": "Patient", "sex": "female"},
                   {"resourceType": "Patient", "gender": "F"},
                   {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
                    "valueQuantity": {"value": "five"}},
                   {"resourceType": "Patient", "name": [{"family": "X"}], "birthDate": 1990}):
        assert not validator(broken["resourceType"]).is_valid(broken), broken
    assert no_empty_values({"resourceType": "Bundle", "entry": []}) == ["/entry"]


def test_every_search_result_is_valid_r4(populated, world, as_director, subtests):
    Participant.objects.filter(pk=world.participant.pk).update(
        sex_at_birth="ASKU", gender_identity="33791000087105", administrative_sex="other")
    for rtype in SPECS:  # one populated clinic for every type, each type its own subtest
        with subtests.test(rtype=rtype):
            bundle = as_director.get(f"/fhir/R4/{rtype}?_count=1000").json()
            assert_valid(bundle)
            entries = [e["resource"] for e in bundle["entry"]]
            assert any(r["resourceType"] == rtype for r in entries)
            for resource in entries:
                assert_valid(resource)
                if resource["resourceType"] == rtype and SPECS[rtype].profile:
                    assert resource["meta"]["profile"] == [SPECS[rtype].profile]


def test_metadata_history_and_outcomes_are_valid_r4(mh, world, as_clinician, client):
    assert_valid(client.get("/fhir/R4/metadata").json())
    assert_valid(as_clinician.get(f"/fhir/R4/Patient/{world.participant.code}/_history").json())
    assert_valid(as_clinician.get("/fhir/R4/Patient?foo=1").json())
    assert_valid(client.get("/fhir/R4/Patient").json())


@pytest.mark.parametrize(("first", "last"), [("", ""), ("Sam", ""), ("", "Rivera")])
def test_a_practitioner_without_a_name_part_is_still_valid_us_core(first, last):
    """US Core 6.1 Practitioner: name.family 1..1, and FHIR forbids empty strings. A staff
    account made outside the staff form may lack a first or last name: the family name is
    then marked absent (data-absent-reason), and an absent given name is left out."""
    from openiop.accounts.models import User
    from openiop.fhir.mapping.practitioner import practitioner

    user = User(username="no-name", first_name=first, last_name=last, role="clinician")
    resource = practitioner(user)
    assert_valid(resource)
    (name,) = resource["name"]
    if last:
        assert name["family"] == last
    else:
        assert "family" not in name
        assert name["_family"]["extension"][0]["valueCode"] == "unknown"
    assert ("given" in name) == bool(first)
    assert name["text"]
