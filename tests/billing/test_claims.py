"""Claims: building from charges, the scrubber's holds in plain words, 837 batches
validated by pyx12 (an independent X12 validator with the 5010 837 maps)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from openiop.billing import services
from openiop.billing.models import Authorization, Charge, Claim, ClaimLine, Diagnosis
from openiop.core.exceptions import InvalidTransition

from .conftest import TODAY, attended, certify, coverage, principal


def validate_x12(text: str, *, ack: bool = True) -> tuple[bool, str]:
    """pyx12's validation: True when the document conforms; the 999 (or, for an 835, whose
    ST has no implementation reference for a 999, the HTML report) says why not."""
    import pyx12.params
    import pyx12.x12n_document

    out = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=io.StringIO(text),
        fd_997=out if ack else None, fd_html=None if ack else out)
    return ok, out.getvalue()


def authorize(cov, start, end, units=30, **kw):
    return Authorization.objects.create(coverage=cov, units_approved=units, starts_on=start,
                                        ends_on=end, reference_number="AUTH-1", **kw)


def medicare_month(clinic, *, authorize_it=True, diagnosis=True, days=(7, 8), certified=True):
    w = clinic.world
    cov = coverage(w.participant, clinic.medicare)
    start = TODAY - timedelta(days=30)
    if certified:
        certify(w, start, TODAY + timedelta(days=30))
    if authorize_it:
        authorize(cov, start, TODAY)
    if diagnosis:
        principal(w.participant, w.clinician)
    for back in days:
        day = TODAY - timedelta(days=back)
        for hour, kind in ((9, "group"), (10, "psychoeducation"), (11, "skills")):
            attended(w, w.participant, day, kind=kind, hour=hour)
    services.capture_charges(actor=clinic.billing, organization=w.org, start=start,
                             end=TODAY - timedelta(days=1))
    return cov, build(clinic, start)


def build(clinic, start):
    return services.build_claims(actor=clinic.billing, organization=clinic.world.org,
                                 period_start=start, period_end=TODAY - timedelta(days=1))


def test_a_clean_medicare_claim_is_ready_with_condition_code_92_and_the_principal_first(clinic):
    w = clinic.world
    Diagnosis.objects.create(participant=w.participant, icd_code="F41.1", description="x",
                             code_set_version="x", billable=True, recorded_by=w.clinician)
    _, claims = medicare_month(clinic)
    assert len(claims) == 1
    claim = claims[0]
    assert claim.status == "ready", claim.holds
    assert claim.holds == []
    assert claim.condition_codes == ["92"]
    assert claim.diagnosis_codes == ["F33.1", "F41.1"]
    assert claim.lines.count() == 6
    assert str(claim.total_charge) == str(2 * (120 + 80 + 120)) + ".00"
    assert set(Charge.objects.values_list("status", flat=True)) == {"claimed"}


def holds_of(claim):
    return {h["code"]: h["message"] for h in claim.holds}


def test_no_authorization_and_no_diagnosis_hold_the_claim_and_say_why(clinic):
    _, claims = medicare_month(clinic, authorize_it=False, diagnosis=False)
    holds = holds_of(claims[0])
    assert claims[0].status == "held"
    assert holds["no_authorization"].startswith("No active authorization covers")
    assert holds["diagnosis"] == "No principal diagnosis is recorded on the chart."


def test_a_heading_code_as_principal_is_held_as_not_billable(clinic):
    w = clinic.world
    principal(w.participant, w.clinician, code="F33", billable=False)
    _, claims = medicare_month(clinic, diagnosis=False)
    assert "F33 is a heading, not a billable code" in holds_of(claims[0])["diagnosis"]


def test_an_attended_session_with_an_unsigned_note_holds_the_day(clinic):
    w = clinic.world
    day = TODAY - timedelta(days=7)
    attended(w, w.participant, day, kind="yoga", hour=15, note="draft")
    _, claims = medicare_month(clinic)
    message = holds_of(claims[0])["unsigned_note"]
    assert f"{day:%b} {day.day}" in message and "no signed note" in message


def test_fewer_than_three_medicare_services_in_a_day_is_below_minimum(clinic):
    w = clinic.world
    cov = coverage(w.participant, clinic.medicare)
    authorize(cov, TODAY - timedelta(days=30), TODAY)
    principal(w.participant, w.clinician)
    day = TODAY - timedelta(days=7)
    attended(w, w.participant, day, kind="group", hour=9)
    attended(w, w.participant, day, kind="group", hour=10)
    services.capture_charges(actor=clinic.billing, organization=w.org, start=day, end=day)
    claims = build(clinic, day)
    assert "Fewer than 3 IOP services" in holds_of(claims[0])["below_minimum"]


def test_a_program_below_nine_weekly_hours_fails_the_medicare_plan_of_care_rule(clinic):
    w = clinic.world
    w.program.weekly_hour_minimum = 6
    w.program.save()
    _, claims = medicare_month(clinic)
    assert "9 hours a week" in holds_of(claims[0])["below_minimum"]


def test_a_php_episode_in_the_same_dates_holds_an_iop_claim(clinic):
    from tests import factories as f

    w = clinic.world
    other_program = f.program(w.org, w.site, name="PHP", level_of_care="PHP")
    f.episode(w.participant, other_program, level_of_care="PHP",
              admitted_on=TODAY - timedelta(days=8), discharged_on=TODAY - timedelta(days=7),
              status="finished")
    _, claims = medicare_month(clinic)
    assert "partial hospitalization" in holds_of(claims[0])["php_overlap"]


def test_coverage_that_ended_holds_the_days_after_it(clinic):
    cov, claims = medicare_month(clinic)
    cov.ends_on = TODAY - timedelta(days=8)
    cov.save()
    claim = services.rescrub(actor=clinic.billing, claim=Claim.objects.get(pk=claims[0].pk))
    day = TODAY - timedelta(days=7)
    assert claim.status == "held"
    assert f"was not active on {day:%b} {day.day}" in holds_of(claim)["coverage_ended"]


def test_a_missing_address_or_member_id_is_named_in_the_hold(clinic):
    w = clinic.world
    w.participant.address1 = ""
    w.participant.save()
    cov, claims = medicare_month(clinic)
    assert holds_of(claims[0])["demographics"] == "The claim needs the participant's street address."
    cov.member_id = ""
    cov.save()
    claim = services.rescrub(actor=clinic.billing, claim=Claim.objects.get(pk=claims[0].pk))
    assert holds_of(claim)["demographics"].endswith("street address, member id.")


def test_a_line_already_on_another_claim_is_a_duplicate(clinic):
    _, claims = medicare_month(clinic)
    first = claims[0]
    line = first.lines.first()
    twin = Claim.objects.create(organization=first.organization, participant=first.participant,
                                coverage=first.coverage, claim_type="I", control_number="DUP1",
                                period_start=line.service_date, period_end=line.service_date)
    charge = Charge.objects.create(
        organization=first.organization, participant=first.participant,
        coverage=first.coverage, session=line.charge.session, service_date=line.service_date,
        claim_type="I", revenue_code="0905", hcpcs=line.hcpcs, dedupe_key="dup", status="claimed")
    ClaimLine.objects.create(claim=twin, charge=charge, line_number=1,
                             service_date=line.service_date, hcpcs=line.hcpcs)
    claim = services.rescrub(actor=clinic.billing, claim=first)
    assert "already on another claim" in holds_of(claim)["duplicate"]


def test_authorization_units_used_up_holds_the_claim(clinic):
    w = clinic.world
    cov = coverage(w.participant, clinic.medicare)
    authorize(cov, TODAY - timedelta(days=30), TODAY, units=1)
    _, claims = medicare_month(clinic, authorize_it=False)
    assert "approved 1 days; 2 have been used" in holds_of(claims[0])["authorization_exhausted"]


def test_837i_batch_is_valid_x12_and_marks_claims_sent(clinic):
    _, claims = medicare_month(clinic)
    batch = services.batch_create(actor=clinic.billing, organization=clinic.world.org,
                                  claim_type="I")
    ok, ack = validate_x12(batch.content)
    assert ok, ack
    assert "IK5*A" in ack
    assert "CLM*" + claims[0].control_number in batch.content
    assert "HI*BG:92~" in batch.content and "HI*ABK:F331~" in batch.content
    assert "SV2*0905*HC:G0410*120*UN*1~" in batch.content
    assert Claim.objects.get(pk=claims[0].pk).status == "sent"
    with pytest.raises(InvalidTransition):
        services.batch_create(actor=clinic.billing, organization=clinic.world.org, claim_type="I")


def test_837p_batch_with_a_dependent_subscriber_is_valid_x12(clinic):
    w = clinic.world
    cov = coverage(w.participant, clinic.pro_payer, relationship="19",
                   subscriber_first_name="Pat", subscriber_last_name="Rivera",
                   subscriber_date_of_birth=TODAY - timedelta(days=365 * 45))
    principal(w.participant, w.clinician)
    day = TODAY - timedelta(days=5)
    attended(w, w.participant, day, kind="individual", hour=9, minutes=55)
    attended(w, w.participant, day, kind="family", hour=11, minutes=50)
    services.capture_charges(actor=clinic.billing, organization=w.org, start=day, end=day)
    claims = build(clinic, day)
    assert [c.status for c in claims] == ["ready"]
    batch = services.batch_create(actor=clinic.billing, organization=w.org, claim_type="P")
    ok, ack = validate_x12(batch.content)
    assert ok, ack
    assert "PAT*19~" in batch.content and "SBR*P**" in batch.content
    assert "SV1*HC:90837*190*UN*1***1~" in batch.content
    assert cov.member_id in batch.content


def test_the_validator_rejects_a_broken_837(clinic):
    medicare_month(clinic)
    batch = services.batch_create(actor=clinic.billing, organization=clinic.world.org,
                                  claim_type="I")
    broken = batch.content.replace("CL1***01~\n", "")
    ok, ack = validate_x12(broken)
    assert not ok and "IK5*R" in ack


def test_void_reopens_the_charges_and_sent_claims_cannot_be_voided(clinic):
    _, claims = medicare_month(clinic, diagnosis=False)
    claim = services.claim_void(actor=clinic.billing, claim=claims[0])
    assert claim.status == "void"
    assert set(Charge.objects.values_list("status", flat=True)) == {"open"}
    with pytest.raises(InvalidTransition):
        services.claim_void(actor=clinic.billing, claim=claim)


def test_build_claims_rejects_a_backwards_period(clinic):
    with pytest.raises(ValidationError) as exc:
        services.build_claims(actor=clinic.billing, organization=clinic.world.org,
                              period_start=TODAY, period_end=TODAY - timedelta(days=1))
    assert "period_end" in exc.value.message_dict


def _medicare_people(clinic, n: int, start) -> list:
    """n participants with everything a Medicare IOP claim checks: coverage, authorization,
    certification, principal diagnosis, an episode, and one attended program day."""
    from openiop.billing.models import IopCertification
    from tests import factories as f

    w = clinic.world
    doc = f.staff(w.org, "prescriber", credentials=["MD"], username=f"doc{n}")
    people = []
    for i in range(n):
        p = f.participant(w.org, legal_first_name=f"Batch{n}x{i}", address1="2 Elm St",
                          city="Columbus", state="OH", zip_code="43215")
        ep = f.episode(p, w.program, therapist=w.clinician, admitted_on=start)
        cov = coverage(p, clinic.medicare)
        authorize(cov, start, TODAY)
        IopCertification.objects.create(participant=p, episode=ep, kind="initial",
                                        certified_by=doc, certified_on=start, covers_from=start,
                                        next_due_on=TODAY + timedelta(days=30))
        principal(p, w.clinician)
        day = TODAY - timedelta(days=7)
        for hour, kind in ((9, "group"), (10, "psychoeducation"), (11, "skills")):
            attended(w, p, day, kind=kind, hour=hour)
        people.append(p)
    return people


def test_building_a_batch_runs_the_same_number_of_queries_for_3_or_12_claims(clinic):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    start = TODAY - timedelta(days=30)
    few, many = _medicare_people(clinic, 3, start), _medicare_people(clinic, 12, start)
    services.capture_charges(actor=clinic.billing, organization=clinic.world.org, start=start,
                             end=TODAY - timedelta(days=1))
    counts = []
    for group in (few, many):
        with CaptureQueriesContext(connection) as ctx:
            claims = services.build_claims(
                actor=clinic.billing, organization=clinic.world.org, period_start=start,
                period_end=TODAY - timedelta(days=1), participant_ids=[p.pk for p in group])
        assert len(claims) == len(group)
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts
    assert all(c.status == "ready" for c in Claim.objects.all()), [
        c.holds for c in Claim.objects.all()]
    assert ClaimLine.objects.count() == 3 * 15
