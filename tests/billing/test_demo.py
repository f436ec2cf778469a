"""The billing part of the demo clinic: every page has something real to show. Runs on
SQLite and on PostgreSQL (the `db` fixture keeps it in the PostgreSQL half of the suite)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Sum

from openiop.billing.models import (
    Adjustment,
    Authorization,
    Charge,
    Claim,
    ClaimBatch,
    ClaimPayment,
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


def test_the_demo_has_payers_coverage_authorizations_charges_claims_in_every_state_and_an_835(db):
    # 150 participants: claims are built for everyone at this size, and a claim is ready
    # only when every note of its month is signed, so a smaller clinic may have too few
    # ready claims to send, pay, partly pay and deny (the demo's data differs a little
    # between SQLite and PostgreSQL).
    assert build_demo(seed=7, participants=150, today=TODAY, out=io.StringIO()) is True
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
    # Every state a claim can be in. Before a claim there are open charges (asserted above):
    # claims are born scrubbed, held or ready, so there is no separate draft state.
    states = set(Claim.objects.values_list("status", flat=True))
    assert {"held", "ready", "sent", "paid", "partial", "denied", "void"} <= states, states
    assert all(c.holds for c in Claim.objects.filter(status="held"))  # each says why
    assert set(ClaimBatch.objects.values_list("claim_type", flat=True)) == {"I", "P"}
    assert not Claim.objects.filter(status__in=("sent", "paid", "partial", "denied"),
                                    batch__isnull=True).exists()
    assert Claim.objects.filter(condition_codes=["92"]).exists()
    # One 835 posted, whose payments decided the paid, partly paid and denied claims.
    [remittance] = Remittance.objects.all()
    payments = ClaimPayment.objects.filter(remittance=remittance)
    assert payments.exists() and not payments.filter(claim__isnull=True).exists()
    assert remittance.total_paid == payments.aggregate(t=Sum("paid_amount"))["t"]
    decided = Claim.objects.filter(payments__remittance=remittance)
    assert set(decided.values_list("status", flat=True)) == {"paid", "partial", "denied"}
    # Only claims the 835 answered are paid, partly paid or denied.
    assert set(Claim.objects.filter(status__in=("paid", "partial", "denied"))
               .values_list("pk", flat=True)) == set(decided.values_list("pk", flat=True))
    assert Adjustment.objects.filter(payment__remittance=remittance, group_code="CO").exists()
    assert Adjustment.objects.filter(payment__remittance=remittance, group_code="PR").exists()
    paid = decided.filter(status="paid").first()
    assert paid is not None and paid.paid_amount > 0
