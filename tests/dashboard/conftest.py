"""A small clinic where every role has something on My work, at a fixed instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine

from openiop.accounts.models import Role, StaffProfile, User
from openiop.billing.models import Authorization, Coverage, Payer
from openiop.clinical.models import Note, TreatmentPlan
from openiop.intake.models import Referral
from openiop.intake.safety import safety_task_open
from openiop.medications.models import DrugScreen, DrugScreenResult, MedicationOrder, UseDisorder
from tests import factories as f
from tests.conftest import World
from tests.intake.safety_helpers import phq9_item9

# Wednesday 4 March 2026, 10:00 New York.
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 4)


@dataclass
class Work:
    world: World
    prescriber: User
    nurse: User
    intake: User
    front_desk: User
    associate: User
    billing: User


def add_caseload_person(w: World, prescriber: User, n: int) -> Any:
    """One more participant of the clinician with one item of every kind."""
    p = f.participant(w.org, legal_first_name=f"Casey{n}", legal_last_name=f"Worklist{n}")
    ep = f.episode(p, w.program, therapist=w.clinician, admitted_on=TODAY - timedelta(days=40))
    ep.prescriber = prescriber
    ep.save()
    f.enrollment(ep, w.track)
    safety_task_open(organization=w.org, result=phq9_item9(), participant=p, program=w.program,
                     assigned_to=w.clinician)
    # Monday's group, attended, no note yet (24 h limit: overdue).
    group = f.session(w.program, facilitator=w.clinician, title=f"Process group {n}",
                      starts_at=datetime(2026, 3, 2, 15 + n % 3, 0, tzinfo=UTC))
    f.attendance(f.booking(group, p), "present")
    Note.objects.create(program=w.program, kind="individual", note_format="DAP", participant=p,
                        author=w.clinician, status="draft")
    TreatmentPlan.objects.create(participant=p, episode=ep, program=w.program,
                                 started_on=TODAY - timedelta(days=40),
                                 next_review_due=TODAY - timedelta(days=2), created_by=w.clinician)
    screen = DrugScreen.objects.create(participant=p, collected_on=TODAY - timedelta(days=2),
                                       has_unexpected=True)
    DrugScreenResult.objects.create(screen=screen, substance="fentanyl", positive=True,
                                    interpretation="unexpected_positive")
    for key in ("buprenorphine", "lorazepam"):
        MedicationOrder.objects.create(participant=p, catalog_key=key, name=key.title(),
                                       prescriber=prescriber, dose=1, unit="mg", route="oral",
                                       frequency="daily", start_date=TODAY - timedelta(days=39))
    UseDisorder.objects.create(participant=p, substance="opioid", noted_on=TODAY - timedelta(
        days=39))
    # Billing: a plan needing authorization, an authorization of one day (used up by
    # Monday's group) with its concurrent review in five days, ending Friday; a session
    # booked next Monday, which no authorization covers.
    payer, _ = Payer.objects.get_or_create(
        organization=w.org, name="Acme Health",
        defaults={"kind": "commercial", "rule_set": "per_diem", "per_diem_code": "S9480"})
    cov = Coverage.objects.create(participant=p, payer=payer, member_id=f"M{n}",
                                  effective_on=TODAY - timedelta(days=40))
    Authorization.objects.create(coverage=cov, units_approved=1, reference_number=f"AUTH-{n}",
                                 starts_on=TODAY - timedelta(days=40),
                                 ends_on=TODAY + timedelta(days=2),
                                 review_on=TODAY + timedelta(days=5))
    f.booking(f.session(w.program, facilitator=w.colleague, title=f"Next week {n}",
                        starts_at=datetime(2026, 3, 9, 15, 0, tzinfo=UTC)), p)
    for source in ("finder", "self_check", "hospital"):
        Referral.objects.create(organization=w.org, program=w.program, source=source,
                                name=f"Referred {source} {n}", reason="Looking for care",
                                received_at=NOW - timedelta(hours=30 + n) if source != "hospital"
                                else NOW - timedelta(days=3, hours=n))
    return p


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def work(world: World, frozen: datetime) -> Work:
    w = world
    w.program.settings = {"note_timeliness_hours": {"group": 24, "individual": 72}}
    w.program.save()
    prescriber = f.staff(w.org, Role.PRESCRIBER, credentials=["MD"], username="doc")
    nurse = f.staff(w.org, Role.NURSE, credentials=["RN"], username="rn")
    intake = f.staff(w.org, Role.INTAKE, username="intaker")
    front_desk = f.staff(w.org, Role.FRONT_DESK, username="desk")
    associate = f.staff(w.org, Role.CLINICIAN, credentials=["CADC"], username="assoc",
                        requires_cosignature=True)
    StaffProfile.objects.filter(user=associate).update(
        supervisor=StaffProfile.objects.get(user=w.clinician))
    billing = f.staff(w.org, Role.BILLING, username="biller")
    add_caseload_person(w, prescriber, 1)
    p2 = f.participant(w.org, legal_first_name="Sam", legal_last_name="Cosign")
    f.episode(p2, w.program, therapist=associate)
    Note.objects.create(program=w.program, kind="individual", note_format="DAP", participant=p2,
                        author=associate, status="signed", needs_cosignature=True,
                        signed_by=associate, signed_at=NOW - timedelta(days=1))
    return Work(w, prescriber, nurse, intake, front_desk, associate, billing)
