"""Billing fixtures: a clinic with payers, a billing user, sessions, attendance and notes.

Everything is dated relative to a fixed instant (FROZEN) so no test depends on today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from openiop.accounts.models import Role
from openiop.billing.models import BillingProfile, Coverage, Diagnosis, Payer
from openiop.clinical.models import GroupNoteEntry, Note

from .. import factories as f

TZ = ZoneInfo("America/New_York")
FROZEN = datetime(2026, 3, 16, 12, 0, tzinfo=TZ)  # a Monday
TODAY = FROZEN.date()


@pytest.fixture(autouse=True)
def _frozen_clock(settings):
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(FROZEN, tick=False):
        yield


@dataclass
class Clinic:
    world: Any
    billing: Any
    frontdesk: Any
    medicare: Payer
    commercial: Payer
    pro_payer: Payer
    self_pay: Payer
    profile: BillingProfile


@pytest.fixture
def clinic(world) -> Clinic:
    org = world.org
    billing = f.staff(org, Role.BILLING, username="biller")
    frontdesk = f.staff(org, Role.FRONT_DESK, username="desk")
    world.participant.address1 = "2 Elm St"
    world.participant.city = "Columbus"
    world.participant.state = "OH"
    world.participant.zip_code = "43215"
    world.participant.save()
    world.clinician.staff_profile.npi = "1245319599"
    world.clinician.staff_profile.save()
    medicare = Payer.objects.create(organization=org, name="Medicare JE", kind="medicare",
                                    payer_id="12502", rule_set="medicare_iop")
    commercial = Payer.objects.create(organization=org, name="Acme Health", kind="commercial",
                                      payer_id="60054", rule_set="per_diem",
                                      per_diem_code="S9480", min_minutes_per_day=180)
    pro_payer = Payer.objects.create(organization=org, name="Buckeye Medicaid", kind="medicaid",
                                     payer_id="MCD01", rule_set="professional",
                                     requires_authorization=False)
    self_pay = Payer.objects.create(organization=org, name="Self-pay", kind="self_pay",
                                    rule_set="self_pay", requires_authorization=False)
    profile = BillingProfile.objects.create(
        organization=org, legal_name="Riverbend Test Clinic", npi="1234567893", tax_id="123456789",
        address1="1 Test Way", city="Columbus", state="OH", zip_code="432151234",
        submitter_id="RIVERBEND01", contact_phone="6145550100", attending=world.clinician)
    return Clinic(world, billing, frontdesk, medicare, commercial, pro_payer, self_pay, profile)


def coverage(participant: Any, payer: Payer, **kw: Any) -> Coverage:
    defaults = {"order": 1, "member_id": "1EG4TE5MK73", "effective_on": TODAY - timedelta(days=90)}
    return Coverage.objects.create(participant=participant, payer=payer, **(defaults | kw))


def principal(participant: Any, user: Any, code: str = "F33.1", billable: bool = True) -> Diagnosis:
    return Diagnosis.objects.create(participant=participant, icd_code=code, description="test",
                                    code_set_version="test", billable=billable, rank="principal",
                                    recorded_by=user)


def attended(world: Any, participant: Any, day: date, *, kind: str = "group", minutes: int = 60,
             hour: int = 9, attended_minutes: int | None = None, note: str = "signed",
             status: str = "present", facilitator: Any = None) -> Any:
    """A session on `day`, booked and attended, with a note in `note` state ('' for none)."""
    start = datetime(day.year, day.month, day.day, hour, 0, tzinfo=TZ)
    session = f.session(world.program, starts_at=start, minutes=minutes, kind=kind,
                        facilitator=facilitator or world.clinician)
    booking = f.booking(session, participant)
    f.attendance(booking, status=status, minutes=attended_minutes)
    if note:
        # Written as a draft, then signed: on PostgreSQL a trigger refuses new entries on a
        # signed note, as it should.
        group = kind not in ("individual", "family", "medication")
        needs_cosign = note == "signed-needs-cosign"
        n = Note.objects.create(
            program=world.program, session=session, kind="group" if group else kind,
            note_format="DAP", participant=None if group else participant,
            author=world.clinician, status="draft")
        if group:
            GroupNoteEntry.objects.create(note=n, participant=participant,
                                          participation="secret group words")
        if note != "draft":
            Note.objects.filter(pk=n.pk).update(
                status="signed" if needs_cosign else note, needs_cosignature=needs_cosign,
                signed_at=FROZEN - timedelta(days=1))
    return session


def money(value: str) -> Decimal:
    return Decimal(value)


def physician(world: Any, username: str = "doc") -> Any:
    return f.staff(world.org, Role.PRESCRIBER, credentials=["MD"], username=username)


def certify(world: Any, covers_from: date, next_due_on: date, *, by: Any = None) -> Any:
    """A logged Medicare IOP certification of the world's episode (written directly)."""
    from openiop.billing.models import IopCertification

    return IopCertification.objects.create(
        participant=world.participant, episode=world.episode, kind="initial",
        certified_by=by or physician(world, username=f"doc{covers_from:%m%d}"),
        certified_on=covers_from, covers_from=covers_from, next_due_on=next_due_on)
