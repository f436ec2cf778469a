"""The billing part of the demo clinic: every page has something real to show."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from openiop.billing.models import (
    Authorization,
    Charge,
    Claim,
    ClaimBatch,
    Coverage,
    Diagnosis,
    IopCertification,
    Payer,
    Remittance,
)
from openiop.demo.generator import build_demo
from openiop.participants.models import Participant

TODAY = date(2026, 11, 18)


@pytest.fixture(autouse=True)
def _frozen_clock(settings):
    """The demo is built around TODAY, so the clock stands at TODAY too."""
    settings.TIME_ZONE = "America/New_York"
    noon = datetime(2026, 11, 18, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    with time_machine.travel(noon, tick=False):
        yield


def test_the_demo_has_payers_coverage_authorizations_charges_and_claims_in_every_state(db):
    assert build_demo(seed=7, participants=60, today=TODAY, out=io.StringIO()) is True
    assert set(Payer.objects.values_list("kind", flat=True)) == {
        "medicare", "medicaid", "commercial", "self_pay"}
    assert Coverage.objects.count() == Participant.objects.count()
    assert Diagnosis.objects.filter(rank="principal", billable=True).count() >= 30
    assert Authorization.objects.filter(ends_on__lte=TODAY + timedelta(days=6),
                                        ends_on__gte=TODAY).exists()
    charge_days = set(Charge.objects.values_list("service_date", flat=True))
    assert min(charge_days) >= TODAY - timedelta(days=30) and max(charge_days) < TODAY
    assert Charge.objects.filter(status="open").exists()
    certs = IopCertification.objects.select_related("certified_by__staff_profile")
    assert certs.exists()
    assert all({"MD", "DO"} & set(c.certified_by.staff_profile.credentials) for c in certs)
    assert all(c.next_due_on >= c.covers_from for c in certs)
    states = set(Claim.objects.values_list("status", flat=True))
    assert {"held", "ready", "sent", "paid", "partial", "denied", "void"} <= states, states
    assert set(ClaimBatch.objects.values_list("claim_type", flat=True)) == {"I", "P"}
    assert Remittance.objects.count() == 1
    assert Claim.objects.filter(condition_codes=["92"]).exists()
