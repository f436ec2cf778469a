"""The participant's cost estimate in the portal and the finder's general cost line."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client
from django.urls import reverse

from openiop.accounts.models import Role, User
from openiop.audit.models import AccessEvent
from openiop.billing import fees
from openiop.billing.models import SlidingFeeSchedule

from .. import factories as f
from ..conftest import login
from .conftest import coverage


def participant_user(participant):
    user = User.objects.create(username="me", password=f.password_hash(), role=Role.PARTICIPANT)
    participant.user = user
    participant.save()
    return user


def test_the_participant_sees_their_estimate_and_only_their_own(clinic):
    w = clinic.world
    coverage(w.participant, clinic.commercial, copay_per_day=Decimal("35.00"))
    client = login(participant_user(w.participant))
    response = client.get(reverse("billing:my_costs"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "$35.00" in html and "Acme Health" in html
    assert AccessEvent.objects.filter(object_type="my_costs", participant=w.participant).exists()
    assert reverse("billing:my_costs") in client.get(reverse("portal:home"), follow=True
                                                     ).content.decode()
    assert login(clinic.billing).get(reverse("billing:my_costs")).status_code == 404


def test_the_finder_detail_states_payers_and_the_sliding_fee_range_in_general_terms(clinic):
    from openiop.finder.services import listing_publish_program

    w = clinic.world
    SlidingFeeSchedule.objects.create(program=w.program, guideline_year=2025,
                                      full_fee_per_day=Decimal("250"), tiers=fees.DEFAULT_TIERS)
    w.program.is_published = True
    w.program.save()
    listing = listing_publish_program(program=w.program)
    html = Client().get(reverse("finder:detail", kwargs={"code": listing.code})).content.decode()
    assert "self-pay on a sliding fee from $10 to $250 a day" in html
    assert "Accepts Medicare, Medicaid plan, commercial insurance" in html
