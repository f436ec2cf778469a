"""Versions: vread and _history for Patient, Observation, MedicationRequest, Consent,
Condition and Coverage, rebuilt from the history the system keeps; the newest version is
the current read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.billing.models import Coverage, Payer
from openiop.billing.services import coverage_add, coverage_end, diagnosis_add, diagnosis_resolve
from openiop.intake.measures import measure_mark_entered_in_error, measure_record
from openiop.medications.models import MedicationChange, MedicationOrder
from openiop.participants.models import Consent
from openiop.participants.services import participant_create, participant_update
from tests import factories as f
from tests.conftest import login

T0 = datetime(2026, 2, 2, 15, 0, tzinfo=UTC)


def history(client, rtype, code) -> dict:
    response = client.get(f"/fhir/R4/{rtype}/{code}/_history")
    assert response.status_code == 200, response.content
    bundle = response.json()
    assert bundle["type"] == "history" and bundle["total"] == len(bundle["entry"])
    return bundle


def check_versions(client, rtype, code, bundle) -> list[dict]:
    """Newest first; each vread answers that version; the newest equals the read."""
    resources = [e["resource"] for e in bundle["entry"]]
    ids = [r["meta"]["versionId"] for r in resources]
    assert len(set(ids)) == len(ids)
    stamps = [datetime.fromisoformat(r["meta"]["lastUpdated"]) for r in resources]
    assert stamps == sorted(stamps, reverse=True)
    for resource in resources:
        vid = resource["meta"]["versionId"]
        one = client.get(f"/fhir/R4/{rtype}/{code}/_history/{vid}")
        assert one.status_code == 200 and one.json() == resource
        assert one["ETag"] == f'W/"{vid}"'
    assert client.get(f"/fhir/R4/{rtype}/{code}").json() == resources[0]
    assert bundle["entry"][-1]["request"]["method"] == "POST"
    return resources


def test_patient_history_from_revisions(mh, world, as_director):
    data = {"mrn": "H-1", "legal_first_name": "Robin", "legal_last_name": "Ames",
            "date_of_birth": date(1985, 3, 4), "preferred_name": "Rob"}
    with time_machine.travel(T0, tick=False):
        p = participant_create(actor=world.director, organization=world.org, data=data)
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        participant_update(actor=world.director, participant=p, version=p.version,
                           data={"preferred_name": "Robbie", "administrative_sex": "female"})
    old_etag = as_director.get(f"/fhir/R4/Patient/{p.code}")["ETag"]
    resources = check_versions(as_director, "Patient", p.code,
                               history(as_director, "Patient", p.code))
    assert [r["name"][1]["given"] for r in resources] == [["Robbie"], ["Rob"]]
    assert [r["gender"] for r in resources] == ["female", "unknown"]
    assert datetime.fromisoformat(resources[1]["meta"]["lastUpdated"]) == T0
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        participant_update(actor=world.director, participant=p, version=p.version,
                           data={"preferred_name": "R"})
    changed = as_director.get(f"/fhir/R4/Patient/{p.code}", headers={"If-None-Match": old_etag})
    assert changed.status_code == 200 and changed["ETag"] != old_etag


def test_observation_marked_entered_in_error_has_two_versions(mh, world, as_clinician):
    with time_machine.travel(T0, tick=False):
        m = measure_record(actor=world.clinician, participant=world.participant,
                           instrument="phq9", answers=[1, 1, 1, 1, 1, 1, 1, 1, 0],
                           context="weekly")
    etag = as_clinician.get(f"/fhir/R4/Observation/{m.code}")["ETag"]
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        measure_mark_entered_in_error(actor=world.clinician, response=m, reason="Wrong person")
    resources = check_versions(as_clinician, "Observation", m.code,
                               history(as_clinician, "Observation", m.code))
    assert [r["status"] for r in resources] == ["entered-in-error", "final"]
    stale = as_clinician.get(f"/fhir/R4/Observation/{m.code}", headers={"If-None-Match": etag})
    assert stale.status_code == 200  # a cached copy of the final score is not current
    # `_lastUpdated` finds it by the mark, not by its creation (history.entered_in_error_at)
    with time_machine.travel(T0, tick=False):
        kept = measure_record(actor=world.clinician, participant=world.participant,
                              instrument="phq9", answers=[0] * 9, context="weekly")
    since = (T0 + timedelta(hours=1)).isoformat()
    found = as_clinician.get("/fhir/R4/Observation", {"_lastUpdated": f"gt{since}"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(m.code)]
    before = as_clinician.get("/fhir/R4/Observation", {"_lastUpdated": f"lt{since}"}).json()
    assert [e["resource"]["id"] for e in before["entry"]] == [str(kept.code)]


def test_medication_request_history_from_changes(mh, world, as_clinician):
    with time_machine.travel(T0, tick=False):
        order = MedicationOrder.objects.create(
            participant=world.participant, name="Sertraline", catalog_key="sertraline",
            dose=Decimal("50"), unit="mg", route="oral", frequency="daily",
            prescriber=world.clinician, start_date=T0.date())
        MedicationChange.objects.create(order=order, kind="start", reason="new",
                                        effective_date=T0.date(), dose=Decimal("50"),
                                        unit="mg", frequency="daily")
    with time_machine.travel(T0 + timedelta(days=7), tick=False):
        MedicationChange.objects.create(order=order, kind="adjust", reason="dose_titration",
                                        effective_date=T0.date() + timedelta(days=7),
                                        dose=Decimal("100"), unit="mg", frequency="daily",
                                        previous_dose=Decimal("50"))
        MedicationOrder.objects.filter(pk=order.pk).update(dose=Decimal("100"))
    with time_machine.travel(T0 + timedelta(days=14), tick=False):
        MedicationChange.objects.create(order=order, kind="stop", reason="side_effect",
                                        effective_date=T0.date() + timedelta(days=14),
                                        dose=Decimal("100"), unit="mg", frequency="daily")
        MedicationOrder.objects.filter(pk=order.pk).update(
            status="stopped", stop_date=T0.date() + timedelta(days=14))
    with time_machine.travel(T0 + timedelta(days=15), tick=False):
        resources = check_versions(as_clinician, "MedicationRequest", order.code,
                                   history(as_clinician, "MedicationRequest", order.code))
    doses = [r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"]
             for r in resources]
    assert doses == [100, 100, 50]
    assert [r["status"] for r in resources] == ["stopped", "active", "active"]


def test_revoked_consent_has_two_versions(mh, world, as_clinician):
    with time_machine.travel(T0, tick=False):
        c = Consent.objects.create(participant=world.participant, kind=Consent.Kind.RELEASE,
                                   recipient="PCP", granted_at=T0)
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        Consent.objects.filter(pk=c.pk).update(revoked_at=T0 + timedelta(days=3))
        resources = check_versions(as_clinician, "Consent", c.code,
                                   history(as_clinician, "Consent", c.code))
    assert [r["status"] for r in resources] == ["inactive", "active"]


def test_unknown_versions_and_unsupported_history(mh, world, as_clinician):
    c = Consent.objects.create(participant=world.participant, kind=Consent.Kind.RELEASE,
                               recipient="PCP")
    missing = as_clinician.get(f"/fhir/R4/Consent/{c.code}/_history/12345")
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"
    unsupported = as_clinician.get(f"/fhir/R4/EpisodeOfCare/{world.episode.code}/_history")
    assert unsupported.status_code == 404
    assert unsupported.json()["issue"][0]["code"] == "not-supported"


def test_history_of_a_part2_record_needs_consent(world, as_hie):
    """The world's co-occurring program makes the participant a Part 2 record."""
    c = Consent.objects.create(participant=world.participant, kind=Consent.Kind.RELEASE,
                               recipient="PCP")
    assert as_hie.get(f"/fhir/R4/Consent/{c.code}/_history").status_code == 404


def test_a_resolved_condition_has_two_versions_with_etags(mh, world):
    with time_machine.travel(T0, tick=False):
        dx = diagnosis_add(actor=world.clinician, participant=world.participant,
                           icd_code="F33.1", onset_on=date(2026, 1, 5))
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        first = login(world.clinician).get(f"/fhir/R4/Condition/{dx.code}")
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        diagnosis_resolve(actor=world.clinician, diagnosis=dx, version=dx.version,
                          resolved_on=date(2026, 2, 3))
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        as_clinician = login(world.clinician)  # signed in at the moved clock
        resources = check_versions(as_clinician, "Condition", dx.code,
                                   history(as_clinician, "Condition", dx.code))
        stale = as_clinician.get(f"/fhir/R4/Condition/{dx.code}",
                                 headers={"If-None-Match": first["ETag"]})
        current = as_clinician.get(f"/fhir/R4/Condition/{dx.code}",
                                   headers={"If-None-Match": stale["ETag"]})
    assert [r["clinicalStatus"]["coding"][0]["code"] for r in resources] == [
        "resolved", "active"]
    assert resources[0]["abatementDateTime"] == "2026-02-03"
    assert "abatementDateTime" not in resources[1]
    assert resources[1] == first.json()  # the earlier version is what was read then
    assert [datetime.fromisoformat(r["meta"]["lastUpdated"]) for r in resources] == [
        T0 + timedelta(days=2), T0]
    assert stale.status_code == 200 and current.status_code == 304
    assert current["ETag"] == f'W/"{resources[0]["meta"]["versionId"]}"'


def test_a_coverage_ended_twice_has_three_versions(mh, world):
    billing = f.staff(world.org, Role.BILLING, username="biller")
    payer = Payer.objects.create(organization=world.org, name="Acme Health", kind="commercial",
                                 payer_id="60054", rule_set="per_diem", per_diem_code="S9480")
    with time_machine.travel(T0, tick=False):
        cov = coverage_add(actor=billing, participant=world.participant, data={
            "payer": payer, "member_id": "M-1", "effective_on": date(2026, 1, 1),
            "ends_on": date(2026, 6, 30)})
        first = login(billing).get(f"/fhir/R4/Coverage/{cov.code}")
    for day, ends in ((1, date(2026, 3, 31)), (2, date(2026, 2, 28))):
        with time_machine.travel(T0 + timedelta(days=day), tick=False):
            cov.refresh_from_db()
            coverage_end(actor=billing, coverage=cov, ends_on=ends, version=cov.version)
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        client = login(billing)  # signed in at the moved clock (sessions end when idle)
        resources = check_versions(client, "Coverage", cov.code,
                                   history(client, "Coverage", cov.code))
        since = client.get(f"/fhir/R4/Coverage/{cov.code}",
                           headers={"If-Modified-Since": "Thu, 05 Feb 2026 00:00:00 GMT"})
        older = client.get(f"/fhir/R4/Coverage/{cov.code}",
                           headers={"If-Modified-Since": "Tue, 03 Feb 2026 00:00:00 GMT"})
    assert [r["period"]["end"] for r in resources] == ["2026-02-28", "2026-03-31", "2026-06-30"]
    assert resources[-1] == first.json()
    assert since.status_code == 304 and older.status_code == 200


def test_a_coverage_change_without_its_earlier_end_date_keeps_only_the_current_version(
        mh, world):
    billing = f.staff(world.org, Role.BILLING, username="biller")
    payer = Payer.objects.create(organization=world.org, name="Acme Health", kind="self_pay",
                                 rule_set="per_diem", per_diem_code="S9480")
    with time_machine.travel(T0, tick=False):
        cov = coverage_add(actor=billing, participant=world.participant, data={
            "payer": payer, "effective_on": date(2026, 1, 1)})
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        # a change recorded before the audit event named the earlier end date
        Coverage.objects.filter(pk=cov.pk).update(ends_on=date(2026, 2, 1),
                                                  changed_at=timezone.now())
        audit_record(actor=billing, action=Action.CHANGE, object_type=ObjectType.COVERAGE,
                     object_id=cov.code, participant=world.participant, reason="ended")
        bundle = history(login(billing), "Coverage", cov.code)
    assert [e["resource"]["period"].get("end") for e in bundle["entry"]] == ["2026-02-01"]


def test_condition_and_coverage_history_follow_the_read_permission(mh, world):
    dx = diagnosis_add(actor=world.clinician, participant=world.participant, icd_code="F33.1")
    billing = f.staff(world.org, Role.BILLING, username="biller")
    payer = Payer.objects.create(organization=world.org, name="Acme Health", kind="self_pay",
                                 rule_set="per_diem", per_diem_code="S9480")
    cov = coverage_add(actor=billing, participant=world.participant, data={
        "payer": payer, "effective_on": date(2026, 1, 1)})
    desk = login(f.staff(world.org, Role.FRONT_DESK, username="desk"))
    clinician = login(world.clinician)
    assert desk.get(f"/fhir/R4/Condition/{dx.code}/_history").status_code == 403
    assert clinician.get(f"/fhir/R4/Coverage/{cov.code}/_history").status_code == 403
    vid = login(billing).get(f"/fhir/R4/Coverage/{cov.code}").json()["meta"]["versionId"]
    assert clinician.get(f"/fhir/R4/Coverage/{cov.code}/_history/{vid}").status_code == 403
