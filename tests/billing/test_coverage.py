"""Coverage, authorizations with live usage and warnings, the sliding fee and estimates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from openiop.billing import fees, reports, selectors, services
from openiop.billing.models import Authorization, Coverage, SlidingFeeSchedule
from openiop.core.exceptions import InvalidTransition

from .. import factories as f
from .conftest import TODAY, attended, coverage


def add_coverage(clinic, **data):
    base = {"payer": clinic.commercial, "member_id": "ACM123", "effective_on": TODAY}
    return services.coverage_add(actor=clinic.billing, participant=clinic.world.participant,
                                 data=base | data)


def test_coverages_of_the_same_order_may_not_overlap(clinic):
    add_coverage(clinic, ends_on=TODAY + timedelta(days=30))
    with pytest.raises(ValidationError) as exc:
        add_coverage(clinic, effective_on=TODAY + timedelta(days=10))
    assert "order" in exc.value.message_dict
    second = add_coverage(clinic, order=2, payer=clinic.medicare)
    later = add_coverage(clinic, effective_on=TODAY + timedelta(days=31))
    assert second.order == 2 and later.effective_on == TODAY + timedelta(days=31)


def test_coverage_input_is_checked_field_by_field(clinic):
    cases = [({"member_id": ""}, "member_id"), ({"order": 7}, "order"),
             ({"relationship": "19"}, "subscriber_last_name"),
             ({"ends_on": TODAY - timedelta(days=1)}, "ends_on"),
             ({"effective_on": "not a date"}, "effective_on"),
             ({"payer": clinic.world.outsider_org}, "payer")]
    for data, field in cases:
        with pytest.raises(ValidationError) as exc:
            add_coverage(clinic, **data)
        assert field in exc.value.message_dict, data
    assert not Coverage.objects.exists()


def test_authorizations_are_checked_and_self_pay_takes_none(clinic):
    cov = add_coverage(clinic)
    data = {"units_approved": 20, "starts_on": TODAY, "ends_on": TODAY + timedelta(days=30),
            "reference_number": "REF1"}
    with pytest.raises(ValidationError) as exc:
        services.authorization_add(actor=clinic.billing, coverage=cov,
                                   data=data | {"review_on": TODAY + timedelta(days=40)})
    assert "review_on" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.authorization_add(actor=clinic.billing, coverage=cov,
                                   data=data | {"units_approved": 0})
    auth = services.authorization_add(actor=clinic.billing, coverage=cov, data=data)
    assert auth.units_approved == 20
    sp = coverage(f.participant(clinic.world.org), clinic.self_pay)
    with pytest.raises(InvalidTransition):
        services.authorization_add(actor=clinic.billing, coverage=sp, data=data)


def test_units_used_are_counted_live_from_attendance(clinic):
    w = clinic.world
    cov = coverage(w.participant, clinic.commercial)
    days = Authorization.objects.create(coverage=cov, units_approved=5, reference_number="D",
                                        starts_on=TODAY - timedelta(days=10), ends_on=TODAY)
    sessions = Authorization.objects.create(coverage=cov, unit="sessions", units_approved=5,
                                            reference_number="S",
                                            starts_on=TODAY - timedelta(days=10), ends_on=TODAY)
    day = TODAY - timedelta(days=3)
    attended(w, w.participant, day, hour=9)
    attended(w, w.participant, day, hour=11)
    attended(w, w.participant, day - timedelta(days=1), hour=9, status="absent", note="")
    attended(w, w.participant, TODAY - timedelta(days=20), hour=9)  # before the authorization
    assert selectors.authorization_usage(days).used == 1
    assert selectors.authorization_usage(sessions).used == 2
    attended(w, w.participant, day - timedelta(days=2), hour=9, status="late",
             attended_minutes=30)
    assert selectors.authorization_usage(days).used == 2


def test_warnings_for_review_due_80_percent_used_and_sessions_outside_authorization(clinic):
    w = clinic.world
    cov = coverage(w.participant, clinic.commercial)
    Authorization.objects.create(coverage=cov, units_approved=5, reference_number="A-80",
                                 starts_on=TODAY - timedelta(days=10),
                                 ends_on=TODAY + timedelta(days=3),
                                 review_on=TODAY + timedelta(days=2))
    for back in range(1, 5):
        attended(w, w.participant, TODAY - timedelta(days=back), hour=9)
    later = TODAY + timedelta(days=5)
    f.booking(f.session(w.program, starts_at=f.timezone.now() + timedelta(days=5)), w.participant)
    warnings = selectors.authorization_warnings(organization_id=w.org.pk)
    kinds = {x.kind: x.message for x in warnings}
    assert kinds["review_due"].startswith("Concurrent review for authorization A-80 is due")
    assert kinds["units_80"].startswith("4 of 5 days used (80 %)")
    assert f"from {later:%b} {later.day}" in kinds["outside_authorization"]
    flags = selectors.chart_flags(w.participant, w.episode)
    assert {fl.label for fl in flags} == {"Authorization review due", "Authorization 80 % used",
                                          "Sessions outside authorization"}


def test_warnings_take_a_fixed_number_of_queries(clinic, django_assert_max_num_queries):
    w = clinic.world
    for _ in range(6):
        p = f.participant(w.org)
        cov = coverage(p, clinic.commercial)
        Authorization.objects.create(coverage=cov, units_approved=1, reference_number="X",
                                     starts_on=TODAY - timedelta(days=5), ends_on=TODAY)
        attended(w, p, TODAY - timedelta(days=1))
    with django_assert_max_num_queries(4):
        warnings = selectors.authorization_warnings(organization_id=w.org.pk)
    assert sum(x.kind == "units_80" for x in warnings) == 6


def test_the_sliding_fee_uses_the_hhs_guideline_for_the_household():
    assert fees.poverty_line(2025, 1) == Decimal("15650")
    assert fees.poverty_line(2025, 4) == Decimal("32150")
    tiers = fees.DEFAULT_TIERS
    low = fees.sliding_fee(year=2025, household_size=4, annual_income=Decimal("30000"),
                           full_fee=Decimal("300"), tiers=tiers)
    mid = fees.sliding_fee(year=2025, household_size=1, annual_income=Decimal("31300"),
                           full_fee=Decimal("300"), tiers=tiers)
    high = fees.sliding_fee(year=2025, household_size=1, annual_income=Decimal("90000"),
                            full_fee=Decimal("300"), tiers=tiers)
    assert (low.percent_of_poverty, low.fee_per_day) == (93, Decimal("10.00"))
    assert (mid.percent_of_poverty, mid.fee_per_day) == (200, Decimal("80.00"))
    assert high.fee_per_day == Decimal("300")


def test_a_program_sets_its_schedule_and_bad_bands_are_explained(clinic):
    w = clinic.world
    with pytest.raises(ValidationError) as exc:
        services.sliding_fee_schedule_set(actor=w.director, program=w.program,
                                          full_fee_per_day="300",
                                          tiers=[{"up_to_percent": 150, "fee_per_day": "5"},
                                                 {"up_to_percent": 100, "fee_per_day": "9"},
                                                 {"up_to_percent": None}])
    assert "rising order" in exc.value.message_dict["tiers"][0]
    schedule = services.sliding_fee_schedule_set(actor=w.director, program=w.program,
                                                 full_fee_per_day="300", tiers=fees.DEFAULT_TIERS)
    assert schedule.guideline_year == 2025
    assert reports.program_cost_summary(w.program) == (
        "Accepts Medicare, Medicaid plan, commercial insurance; self-pay on a sliding fee from "
        "$10 to $300 a day by household income.")


def test_the_estimate_uses_copay_or_the_sliding_fee_and_says_its_basis(clinic):
    w = clinic.world
    SlidingFeeSchedule.objects.create(program=w.program, guideline_year=2025,
                                      full_fee_per_day=Decimal("300"), tiers=fees.DEFAULT_TIERS)
    none = reports.cost_estimate(w.participant, w.episode)
    assert none.per_day == Decimal("300") and "full self-pay fee" in none.basis
    services.financial_profile_set(actor=clinic.billing, participant=w.participant,
                                   household_size=2, annual_income="20000")
    sliding = reports.cost_estimate(w.participant, w.episode)
    assert sliding.per_day == Decimal("10.00")
    assert sliding.total == Decimal("10.00") * 3 * w.program.typical_length_weeks
    assert "95 % of the 2025 HHS poverty guideline" in sliding.basis
    coverage(w.participant, clinic.commercial, copay_per_day=Decimal("25"))
    insured = reports.cost_estimate(w.participant, w.episode)
    assert insured.per_day == Decimal("25") and "Acme Health" in insured.basis
