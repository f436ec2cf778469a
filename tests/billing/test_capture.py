"""Charge capture from attendance and signed notes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from openiop.audit.models import AccessEvent
from openiop.billing import services
from openiop.billing.models import Authorization, Charge, FinancialProfile, SlidingFeeSchedule
from openiop.core.exceptions import NotPermitted

from .conftest import TODAY, attended, coverage, money


def capture(clinic, start, end):
    return services.capture_charges(actor=clinic.billing, organization=clinic.world.org,
                                    start=start, end=end)


def test_attended_sessions_with_signed_notes_become_medicare_lines(clinic):
    w = clinic.world
    coverage(w.participant, clinic.medicare)
    day = TODAY - timedelta(days=7)
    attended(w, w.participant, day, kind="group", hour=9)
    attended(w, w.participant, day, kind="psychoeducation", hour=10)
    attended(w, w.participant, day, kind="individual", hour=11, minutes=60, attended_minutes=40)
    result = capture(clinic, day, day)
    lines = sorted(Charge.objects.values_list("hcpcs", "revenue_code", "claim_type", "minutes"))
    assert lines == [("90834", "0905", "I", 40), ("G0177", "0905", "I", 60),
                     ("G0410", "0905", "I", 60)]
    assert result.created == 3
    assert result.tiers[(w.participant.pk, day)].startswith("3 services")
    assert AccessEvent.objects.filter(object_type="charge_capture").count() == 1


def test_unsigned_draft_and_awaiting_cosignature_notes_make_no_charge(clinic):
    w = clinic.world
    coverage(w.participant, clinic.pro_payer)
    day = TODAY - timedelta(days=3)
    attended(w, w.participant, day, kind="individual", hour=9, note="draft")
    attended(w, w.participant, day, kind="individual", hour=11, note="signed-needs-cosign")
    attended(w, w.participant, day, kind="individual", hour=13, note="")
    attended(w, w.participant, day, kind="individual", hour=15, note="cosigned", minutes=45)
    result = capture(clinic, day, day)
    assert list(Charge.objects.values_list("hcpcs", flat=True)) == ["90834"]
    assert sum("no signed note" in why for _, _, why in result.skipped) == 3


def test_a_group_note_charges_only_attendees_with_an_entry(clinic):
    w = clinic.world
    coverage(w.participant, clinic.pro_payer)
    day = TODAY - timedelta(days=2)
    session = attended(w, w.participant, day, kind="group")
    from tests import factories as f

    other = f.participant(w.org)
    coverage(other, clinic.pro_payer)
    f.attendance(f.booking(session, other))
    capture(clinic, day, day)
    assert list(Charge.objects.values_list("participant_id", flat=True)) == [w.participant.pk]


def test_capture_is_idempotent_and_picks_up_a_note_signed_later(clinic):
    w = clinic.world
    coverage(w.participant, clinic.pro_payer)
    day = TODAY - timedelta(days=4)
    attended(w, w.participant, day, kind="individual", hour=9, minutes=45)
    first = capture(clinic, day, day)
    again = capture(clinic, day, day)
    assert (first.created, again.created, again.already) == (1, 0, 1)
    attended(w, w.participant, day, kind="medication", hour=14, minutes=30)
    third = capture(clinic, day, day)
    # The same clinician's E/M that day turns the psychotherapy into the add-on code.
    assert (third.created, third.voided) == (2, 1)
    assert sorted(Charge.objects.filter(status="open").values_list("hcpcs", flat=True)) == [
        "90836", "99214"]
    assert list(Charge.objects.filter(status="void").values_list("hcpcs", flat=True)) == ["90834"]


def test_per_diem_payer_gets_one_day_line_when_minutes_reach_the_minimum(clinic):
    w = clinic.world
    coverage(w.participant, clinic.commercial)
    full_day = TODAY - timedelta(days=6)
    short_day = TODAY - timedelta(days=5)
    attended(w, w.participant, full_day, kind="group", hour=9, minutes=90)
    attended(w, w.participant, full_day, kind="skills", hour=11, minutes=90)
    attended(w, w.participant, short_day, kind="group", hour=9, minutes=180, attended_minutes=150,
             status="left_early")
    result = capture(clinic, full_day, short_day)
    rows = list(Charge.objects.values_list("service_date", "hcpcs", "units", "amount"))
    assert rows == [(full_day, "S9480", 1, money("450.00"))]
    assert any("150 min is below" in why for _, _, why in result.skipped)


def test_self_pay_days_are_charged_at_the_participants_sliding_fee(clinic):
    w = clinic.world
    coverage(w.participant, clinic.self_pay, member_id="")
    SlidingFeeSchedule.objects.create(program=w.program, guideline_year=2025,
                                      full_fee_per_day=money("300.00"),
                                      tiers=[{"up_to_percent": 100, "fee_per_day": "10.00"},
                                             {"up_to_percent": 200, "fee_per_day": "60.00"},
                                             {"up_to_percent": None, "fee_per_day": None}])
    # Household of 3 at $40,000: 40,000 / 26,650 = 150 % of the 2025 guideline.
    FinancialProfile.objects.create(participant=w.participant, household_size=3,
                                    annual_income=money("40000"))
    day = TODAY - timedelta(days=7)
    attended(w, w.participant, day, kind="group", hour=9, minutes=180)
    capture(clinic, day, day)
    assert list(Charge.objects.values_list("amount", "claim_type")) == [(money("60.00"), "P")]


def test_days_without_coverage_are_reported_not_charged(clinic):
    w = clinic.world
    day = TODAY - timedelta(days=7)
    attended(w, w.participant, day)
    result = capture(clinic, day, day)
    assert Charge.objects.count() == 0
    assert result.skipped == [(w.participant.pk, day, "no coverage on this day")]


def test_capture_refuses_future_dates_long_ranges_and_other_roles(clinic):
    w = clinic.world
    with pytest.raises(ValidationError) as exc:
        capture(clinic, TODAY, TODAY + timedelta(days=1))
    assert "end" in exc.value.message_dict
    with pytest.raises(ValidationError):
        capture(clinic, TODAY - timedelta(days=90), TODAY - timedelta(days=1))
    with pytest.raises(NotPermitted):
        services.capture_charges(actor=w.clinician, organization=w.org, start=TODAY, end=TODAY)
    with pytest.raises(NotPermitted):
        services.capture_charges(actor=clinic.billing, organization=w.outsider_org, start=TODAY,
                                 end=TODAY)
    assert not Authorization.objects.exists() and Charge.objects.count() == 0


def test_of_two_coverages_with_the_same_order_the_first_recorded_is_billed(clinic):
    """The charges' coverage must not depend on the order the database returns rows in:
    CI once billed the other of two overlapping primary coverages on PostgreSQL, so the
    first coverage's authorization was not seen as used up."""
    from openiop.billing.services.charges import primary_coverage_on

    w = clinic.world
    first = coverage(w.participant, clinic.medicare)
    second = coverage(w.participant, clinic.medicare)
    day = TODAY - timedelta(days=7)
    assert primary_coverage_on([second, first], day) == first
    assert primary_coverage_on([first, second], day) == first
    attended(w, w.participant, day)
    services.capture_charges(actor=clinic.billing, organization=w.org, start=day, end=day)
    assert set(Charge.objects.values_list("coverage_id", flat=True)) == {first.pk}
