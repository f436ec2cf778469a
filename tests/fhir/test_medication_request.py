"""FHIR MedicationRequest (medication orders): mapping, status, RxNorm, the 42 CFR Part 2
gate for MOUD orders, organization scoping, audit, query counts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationrequest import MedicationRequest

from openiop.accounts.models import Role
from openiop.audit.models import AccessEvent
from openiop.medications.models import MedicationChange, MedicationOrder
from openiop.participants.disclosure import NOTICE_FULL
from tests import factories as f
from tests.conftest import login

from .conftest import part2_consent

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@pytest.fixture
def prescriber(world):
    return f.staff(world.org, Role.PRESCRIBER, credentials=["MD"], username="doc")


def order(participant, prescriber, key="sertraline", name="Sertraline", rxnorm="36437",
          **kw) -> MedicationOrder:
    defaults = {"dose": Decimal("50"), "unit": "mg", "route": "oral", "frequency": "daily",
                "start_date": timezone.localdate() - timedelta(days=10),
                "indication": "Synthetic indication", "quantity": 30, "refills": 2}
    return MedicationOrder.objects.create(participant=participant, catalog_key=key, name=name,
                                          rxnorm=rxnorm, prescriber=prescriber,
                                          created_by=prescriber, **(defaults | kw))


def bupe(participant, prescriber, **kw) -> MedicationOrder:
    return order(participant, prescriber, key="buprenorphine", name="Buprenorphine",
                 rxnorm="1819", dose=Decimal("8"), route="sublingual", **kw)


def read(client, o):
    return client.get(f"/fhir/R4/MedicationRequest/{o.code}")


def search(client, participant, query=""):
    return client.get(f"/fhir/R4/MedicationRequest?patient=Patient/{participant.code}{query}")


def matches(response) -> list:
    bundle = Bundle.model_validate(response.json())
    return [e for e in bundle.entry or [] if e.search.mode == "match"]


def test_read_maps_medication_dose_prescriber_and_reason(mh, world, prescriber, as_clinician):
    o = order(world.participant, prescriber)
    response = read(as_clinician, o)
    assert response.status_code == 200
    mr = MedicationRequest.model_validate(response.json())
    assert mr.status == "active" and mr.intent == "order"
    assert mr.subject.reference == f"Patient/{world.participant.code}"
    coding = mr.medicationCodeableConcept.coding[0]
    assert (coding.system, coding.code) == (RXNORM, "36437")
    assert mr.medicationCodeableConcept.text == "Sertraline"
    dosage = mr.dosageInstruction[0]
    assert dosage.text == "50 mg oral once daily"
    dose = dosage.doseAndRate[0].doseQuantity
    assert (dose.value, dose.code, dose.system) == (50, "mg", "http://unitsofmeasure.org")
    assert dosage.timing.repeat.frequency == 1 and dosage.timing.repeat.periodUnit == "d"
    assert mr.requester.reference == f"Practitioner/{prescriber.code}"
    assert mr.reasonCode[0].text == "Synthetic indication"
    assert mr.authoredOn is not None
    assert mr.dispenseRequest.numberOfRepeatsAllowed == 2
    assert "security" not in response.json()["meta"] and "X-Redisclosure-Notice" not in response


def test_unverified_catalog_code_is_sent_as_text_only(mh, world, prescriber, as_clinician):
    """buprenorphine_naloxone's RXCUI is marked unverified in the catalog."""
    world.org.is_part2_program = False
    world.org.save()
    o = order(world.participant, prescriber, key="buprenorphine_naloxone",
              name="Buprenorphine / naloxone", rxnorm="352364", unit="mg", dose=Decimal("8"))
    mr = MedicationRequest.model_validate(read(as_clinician, o).json())
    assert mr.medicationCodeableConcept.coding is None
    assert mr.medicationCodeableConcept.text == "Buprenorphine / naloxone"


def test_a_code_verified_against_a_public_table_is_sent_as_an_rxnorm_coding(
        mh, world, prescriber, as_clinician):
    """Lorazepam's RXCUI is confirmed by PharmGKB's RxNorm cross-reference (not by CPIC)."""
    o = order(world.participant, prescriber, key="lorazepam", name="Lorazepam", rxnorm="6470",
              dose=Decimal("1"), frequency="prn")
    mr = MedicationRequest.model_validate(read(as_clinician, o).json())
    coding = mr.medicationCodeableConcept.coding[0]
    assert (coding.system, coding.code) == (RXNORM, "6470")


def test_outside_prescription_is_reported_with_the_prescriber_named(mh, world, as_clinician):
    o = order(world.participant, None, key="", name="Lisinopril", rxnorm="",
              source="outside", outside_prescriber="Dr. Synthetic, Elm Family Practice",
              unit="tablet", frequency="prn")
    mr = MedicationRequest.model_validate(read(as_clinician, o).json())
    assert mr.reportedBoolean is True
    assert mr.requester.display == "Dr. Synthetic, Elm Family Practice"
    assert mr.medicationCodeableConcept.coding is None
    assert mr.dosageInstruction[0].asNeededBoolean is True
    assert mr.dosageInstruction[0].doseAndRate[0].doseQuantity.code is None


def _stop(o, reason):
    MedicationOrder.objects.filter(pk=o.pk).update(status="stopped",
                                                   stop_date=timezone.localdate())
    MedicationChange.objects.create(order=o, kind="stop", reason=reason,
                                    effective_date=timezone.localdate(), dose=o.dose,
                                    unit=o.unit, frequency=o.frequency)


@pytest.mark.parametrize("setup, expected", [
    ("active", "active"),
    ("active_past_stop_date", "completed"),
    ("stopped_completed", "completed"),
    ("stopped_side_effect", "stopped"),
    ("stopped_no_longer_taking", "stopped"),
    ("recorded_stopped", "completed"),
])
def test_status_follows_the_order(mh, world, prescriber, as_clinician, setup, expected):
    today = timezone.localdate()
    o = order(world.participant, prescriber, start_date=today - timedelta(days=60))
    if setup == "active_past_stop_date":
        MedicationOrder.objects.filter(pk=o.pk).update(stop_date=today - timedelta(days=1))
    elif setup.startswith("stopped_"):
        _stop(o, setup.removeprefix("stopped_"))
    elif setup == "recorded_stopped":  # entered with a stop date already past
        MedicationOrder.objects.filter(pk=o.pk).update(status="stopped",
                                                       stop_date=today - timedelta(days=5))
    mr = MedicationRequest.model_validate(read(as_clinician, o).json())
    assert mr.status == expected
    found = search(as_clinician, world.participant, f"&status={expected}")
    assert [e.resource.id for e in matches(found)] == [str(o.code)]
    others = [s for s in ("active", "stopped", "completed") if s != expected]
    for other in others:
        assert matches(search(as_clinician, world.participant, f"&status={other}")) == []


def test_moud_order_in_a_part2_program_is_refused_without_consent(mh, world, prescriber,
                                                                  as_hie, hie):
    """The participant's program is mental health only; the MOUD order alone is Part 2."""
    sertraline = order(world.participant, prescriber)
    moud = bupe(world.participant, prescriber)
    response = read(as_hie, moud)
    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"
    denied = AccessEvent.objects.get(object_type="fhir.MedicationRequest")
    assert denied.action == "denied" and denied.recipient.endswith(hie.name)
    assert read(as_hie, sertraline).status_code == 200  # not a Part 2 record

    found = search(as_hie, world.participant)
    assert found.status_code == 200 and "X-Redisclosure-Notice" not in found
    assert [e.resource.id for e in matches(found)] == [str(sertraline.code)]
    assert not [e for e in Bundle.model_validate(found.json()).entry
                if e.search.mode == "outcome"]  # nothing hints at a withheld record
    assert str(moud.code) not in found.content.decode()
    assert "Buprenorphine" not in found.content.decode()


@pytest.mark.parametrize("key, name", [
    ("methadone", "Methadone (via an opioid treatment program)"),
    ("naltrexone", "Naltrexone (oral)"),
    ("naltrexone_xr", "Naltrexone extended-release injectable suspension"),
    ("", "Buprenorphine 8 mg SL (outside catalog)"),
])
def test_every_moud_medication_is_gated(mh, world, prescriber, as_hie, key, name):
    o = order(world.participant, prescriber, key=key, name=name, rxnorm="")
    assert read(as_hie, o).status_code == 404


def test_moud_order_under_consent_is_labelled_with_the_notice(mh, world, prescriber,
                                                              as_hie, hie):
    sertraline = order(world.participant, prescriber)
    moud = bupe(world.participant, prescriber)
    consent = part2_consent(world.participant, world.clinician, app=hie)
    response = read(as_hie, moud)
    assert response.status_code == 200
    mr = MedicationRequest.model_validate(response.json())
    assert {"R", "42CFRPart2", "ETH", "NORDSCLCD"} <= {s.code for s in mr.meta.security}
    assert mr.medicationCodeableConcept.coding[0].code == "1819"
    assert response["X-Redisclosure-Notice"] == NOTICE_FULL

    found = search(as_hie, world.participant)
    assert found["X-Redisclosure-Notice"] == NOTICE_FULL
    by_id = {e.resource.id: e.resource for e in matches(found)}
    assert set(by_id) == {str(sertraline.code), str(moud.code)}
    assert by_id[str(moud.code)].meta.security
    assert by_id[str(sertraline.code)].meta.security is None  # only the Part 2 record is labelled
    events = AccessEvent.objects.filter(object_type="fhir.MedicationRequest")
    assert [e.action for e in events] == ["disclose", "disclose"]
    assert all(str(consent.code) in e.reason for e in events)


def test_moud_outside_a_part2_program_is_an_ordinary_record(mh, world, prescriber,
                                                            as_clinician):
    world.org.is_part2_program = False
    world.org.save()
    response = read(as_clinician, bupe(world.participant, prescriber))
    assert response.status_code == 200 and "security" not in response.json()["meta"]


def test_part2_participant_needs_consent_for_every_order(world, prescriber, as_hie, hie):
    """The world's co-occurring program: all the participant's records are Part 2."""
    o = order(world.participant, prescriber)
    assert read(as_hie, o).status_code == 404
    assert matches(search(as_hie, world.participant)) == []
    part2_consent(world.participant, world.clinician, app=hie)
    response = read(as_hie, o)
    assert response.status_code == 200 and response.json()["meta"]["security"]


def test_search_is_audited_once(mh, world, prescriber, as_clinician):
    order(world.participant, prescriber)
    order(world.participant, prescriber, key="fluoxetine", name="Fluoxetine", rxnorm="4493")
    assert len(matches(search(as_clinician, world.participant))) == 2
    event = AccessEvent.objects.get(object_type="fhir.MedicationRequest")
    assert event.action == "view" and event.participant == world.participant


def test_another_organization_gets_not_found(mh, world, prescriber, as_outsider):
    o = order(world.participant, prescriber)
    assert read(as_outsider, o).status_code == 404
    assert search(as_outsider, world.participant).status_code == 404


def test_a_role_without_medication_access_is_refused(mh, world, prescriber):
    desk = login(f.staff(world.org, Role.FRONT_DESK))
    o = order(world.participant, prescriber)
    response = read(desk, o)
    assert response.status_code == 403 and response.json()["resourceType"] == "OperationOutcome"
    assert search(desk, world.participant).status_code == 403


def test_bad_input_gets_operation_outcomes(mh, world, as_clinician):
    for path, status in [("MedicationRequest/123", 404), ("MedicationRequest?intent=plan", 400),
                         ("MedicationRequest?patient=xyz", 400),
                         (f"MedicationRequest?patient={world.participant.code}&status=on-hold",
                          400),
                         (f"MedicationRequest?patient={world.participant.code}&code=1819", 400)]:
        response = as_clinician.get(f"/fhir/R4/{path}")
        assert response.status_code == status, path
        assert response.json()["resourceType"] == "OperationOutcome", path


def test_search_query_count_does_not_grow_with_orders(mh, world, prescriber, as_clinician):
    first = order(world.participant, prescriber)
    _stop(first, "completed")
    with CaptureQueriesContext(connection) as one:
        assert len(matches(search(as_clinician, world.participant))) == 1
    for name in ("Fluoxetine", "Escitalopram", "Bupropion", "Trazodone"):
        o = order(world.participant, prescriber, key="", name=name, rxnorm="")
        _stop(o, "side_effect")
    with CaptureQueriesContext(connection) as five:
        assert len(matches(search(as_clinician, world.participant))) == 5
    assert len(five) == len(one)


def test_every_frequency_validates(mh, world, prescriber, as_clinician):
    for freq in ("once", "daily", "bid", "tid", "qid", "qhs", "weekly", "q4w", "prn"):
        o = order(world.participant, prescriber, key="", name=f"Med {freq}", rxnorm="",
                  frequency=freq, start_date=date(2026, 1, 5), stop_date=date(2026, 3, 1))
        response = read(as_clinician, o)
        assert response.status_code == 200, freq
        MedicationRequest.model_validate(response.json())
