"""The bulk export writes each resource without rebuilding the fhir.resources models
(mapping/canonical.py): the text must be exactly what the validated rendering gives."""

from __future__ import annotations

import json

import pytest

from openiop.accounts.models import User
from openiop.fhir import engine
from openiop.fhir.mapping import canonical as canonical_module
from openiop.fhir.mapping.canonical import Unsupported, canonical
from openiop.fhir.mapping.common import unchecked, validated
from openiop.fhir.registry import SPECS
from openiop.participants import disclosure as dis
from openiop.participants.models import Participant


def rendered(spec, row) -> str:
    return json.dumps(engine.render(spec, row))


def test_every_resource_type_is_written_as_validation_writes_it(populated, world, hie, monkeypatch):
    """Every row of every type, as the program's staff and as an app holding a Part 2
    consent (labelled resources): the same text, key order included, and none of them
    needed the full validation to get there."""
    Participant.objects.filter(pk=world.participant.pk).update(
        sex_at_birth="ASKU",
        gender_identity="33791000087105",
        administrative_sex="other",
        address1="1 Main St",
        emergency_contact_name="Jo Doe",
        emergency_contact_phone="(614) 555-0100",
    )
    fell_back: list[str] = []
    real = canonical_module.canonical

    def counting(model, data):
        try:
            return real(model, data)
        except Unsupported:
            fell_back.append(model.__name__)
            raise

    monkeypatch.setattr("openiop.fhir.mapping.common.canonical", counting)
    director = User.objects.get(pk=world.director.pk)
    parties = [
        (dis.Recipient(dis.PROGRAM_STAFF, "staff"), ""),
        (dis.Recipient.app(hie), dis.app_purpose(hie)),
    ]
    seen: dict[str, int] = {}
    labelled = 0
    for who in parties:
        for name, spec in SPECS.items():
            visible, _ = engine.gated(spec, engine.rows_for(None, spec, "s", director), who)
            for row in visible.order_by(*spec.order):
                checked = rendered(spec, row)
                with unchecked():
                    fast = rendered(spec, row)
                assert fast == checked, (name, row.pk)
                seen[name] = seen.get(name, 0) + 1
                labelled += "42CFRPart2" in checked
    assert set(seen) == set(SPECS), set(SPECS) - set(seen)
    assert labelled, "no Part 2 resource was compared"
    assert fell_back == []


def test_what_it_cannot_write_exactly_is_validated_in_full():
    """A primitive's extension sibling, a null in a list, a value of the wrong type: the
    writer says so, and `validated` then checks the data as outside the export (the
    check's errors still stop a wrong resource)."""
    from fhir.resources.R4B.patient import Patient
    from pydantic import ValidationError

    with_extension = {
        "resourceType": "Patient",
        "gender": "female",
        "_gender": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]},
    }
    for data in (
        with_extension,
        {"resourceType": "Patient", "name": [None]},
        {"resourceType": "Patient", "active": "yes"},
        {"resourceType": "Patient", "unknown": 1},
    ):
        with pytest.raises(Unsupported):
            canonical(Patient, data)
    checked = validated(Patient, with_extension)
    assert checked["_gender"]["extension"][0]["valueString"] == "y"
    with unchecked():
        assert json.dumps(validated(Patient, with_extension)) == json.dumps(checked)
        with pytest.raises(ValidationError):
            validated(Patient, {"resourceType": "Patient", "unknown": 1})


def test_dates_and_decimals_take_the_library_form():
    """Instants in UTC end in Z, dates stay dates, whole decimals are integers."""
    from fhir.resources.R4B.observation import Observation

    data = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "effectiveDateTime": "2026-01-05T23:00:00+00:00",
        "issued": "2026-01-05T18:00:00.250000-05:00",
        "valueQuantity": {"value": 5.0, "unit": "{score}"},
        "component": [{"code": {"text": "y"}, "valueQuantity": {"value": 7}}],
    }
    out = canonical(Observation, data)
    assert out == Observation.model_validate(data).model_dump(mode="json", exclude_none=True)
    assert json.dumps(out) == json.dumps(
        Observation.model_validate(data).model_dump(mode="json", exclude_none=True)
    )
    assert out["effectiveDateTime"] == "2026-01-05T23:00:00Z"


def test_a_coverage_without_member_id_is_written_as_validation_writes_it(world):
    """A self-pay coverage has no member id: subscriberId carries a data-absent-reason
    (US Core 6.1 us-core-15), a primitive's `_` sibling the writer leaves to the full
    validation; the export's text is still exactly the validated one."""
    from datetime import date

    from openiop.billing.models import Coverage, Payer

    payer = Payer.objects.create(organization=world.org, name="Self-pay", kind="self_pay",
                                 rule_set="per_diem", per_diem_code="S9480")
    row = Coverage.objects.create(participant=world.participant, payer=payer, member_id="",
                                  relationship="18", effective_on=date(2026, 1, 5))
    spec = SPECS["Coverage"]
    rows = engine.rows_for(None, spec, "s", User.objects.get(pk=world.director.pk))
    visible, _ = engine.gated(spec, rows, (dis.Recipient(dis.PROGRAM_STAFF, "staff"), ""))
    row = visible.get(pk=row.pk)
    checked = rendered(spec, row)
    with unchecked():
        assert rendered(spec, row) == checked
    assert json.loads(checked)["_subscriberId"]["extension"][0]["valueCode"] == "unknown"
    assert "subscriberId" not in json.loads(checked)
