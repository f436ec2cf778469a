"""Attended sessions as Encounters: minutes attended, the Appointment fulfilled, only
sessions attended."""

from __future__ import annotations

from datetime import UTC, datetime

from fhir.resources.R4B.encounter import Encounter

from tests import factories as f


def test_attended_session_is_an_encounter_with_minutes(mh, world, as_clinician):
    start = datetime(2026, 1, 14, 23, 0, tzinfo=UTC)
    attended = f.booking(f.session(world.program, starts_at=start,
                                   facilitator=world.clinician), world.participant)
    f.attendance(attended, "left_early", minutes=55)
    missed = f.booking(f.session(world.program, starts_at=start.replace(day=15)),
                       world.participant)
    f.attendance(missed, "absent", minutes=0)
    f.booking(f.session(world.program, starts_at=start.replace(day=16)), world.participant)
    response = as_clinician.get(f"/fhir/R4/Encounter/{attended.code}")
    assert response.status_code == 200
    enc = Encounter.model_validate(response.json())
    assert enc.status == "finished" and enc.class_fhir.code == "AMB"
    assert (enc.length.value, enc.length.code) == (55, "min")
    assert enc.appointment[0].reference == f"Appointment/{attended.code}"
    assert enc.participant[0].individual.reference == f"Practitioner/{world.clinician.code}"
    assert enc.period.start.isoformat().startswith("2026-01-14T18:00")
    bundle = as_clinician.get(f"/fhir/R4/Encounter?patient={world.participant.code}").json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(attended.code)]
    assert as_clinician.get(f"/fhir/R4/Encounter/{missed.code}").status_code == 404
