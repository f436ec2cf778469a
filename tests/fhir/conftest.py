"""Fixtures shared by the FHIR resource tests."""

from __future__ import annotations

import fcntl
import secrets
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from openiop.participants.models import AppPurpose, Consent, DisclosurePurpose, RecipientKind


@pytest.fixture
def mh(world):
    """The world's program treats mental health only: the participant is not a Part 2
    record as a whole (the organization is still a Part 2 program)."""
    world.program.focus = "mh"
    world.program.save()
    return world


def part2_consent(participant, recorded_by=None, app=None, **kw) -> Consent:
    """An active 42 CFR Part 2 TPO consent (synthetic): to the registered `app` when given
    (what an outside FHIR client needs), else to a class of recipients."""
    named = {"recipient": app.name, "recipient_kind": RecipientKind.APP,
             "recipient_app": app} if app is not None else {
        "recipient": "Riverbend and payers", "recipient_kind": RecipientKind.CLASS}
    return Consent.objects.create(participant=participant, kind=Consent.Kind.PART2_TPO,
                                  purpose_code=kw.pop("purpose_code", DisclosurePurpose.TPO),
                                  recorded_by=recorded_by, **(named | kw))


def registered_app(owner, name="Synthetic HIE", purpose=DisclosurePurpose.TREATMENT):
    """A registered outside app (OAuth client) with its declared purpose of use."""
    app = Application.objects.create(
        name=name, client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://hie.example.org/cb", user=owner, algorithm="")
    AppPurpose.objects.create(application=app, purpose_code=purpose)
    return app


def issue_token(user, app, scope="user/*.rs") -> str:
    """A bearer token for `app`, approved by `user` (as the SMART launch would issue)."""
    return AccessToken.objects.create(
        user=user, application=app, token=secrets.token_urlsafe(32), scope=scope,
        expires=timezone.now() + timedelta(hours=1)).token


def token_client(user, app, scope="user/*.rs") -> Client:
    """A client speaking for `app` with a bearer token issued to `user`."""
    return Client(headers={"Authorization": f"Bearer {issue_token(user, app, scope)}"})


@pytest.fixture
def hie(world):
    """An outside app (a health information exchange) registered for treatment."""
    return registered_app(world.director)


@pytest.fixture
def as_hie(world, hie):
    """The app's requests, with a token the clinician approved."""
    return token_client(world.clinician, hie)


@pytest.fixture
def populated(mh, hie):
    """Many records of every kind in the world's organization, for paging.

    23 mental-health participants with an episode, a booking, a score, a medication order
    and a consent each; one participant in a substance-use program (a Part 2 record) with
    a Part 2 consent to the `hie` app, and one without (whose records must be withheld
    from the app, never counted).
    Returns the withheld participant.
    """
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from openiop.billing.models import Coverage, Diagnosis, Payer
    from openiop.intake.models import MeasureResponse
    from openiop.medications.models import MedicationOrder
    from tests import factories as f

    world = mh
    payer = Payer.objects.create(organization=world.org, name="Acme Health", kind="commercial",
                                 payer_id="60054", rule_set="per_diem", per_diem_code="S9480")
    su = f.program(world.org, world.site, name="SU IOP", focus="su")
    start = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)
    people = [world.participant] + [
        f.participant(world.org, legal_first_name=f"Pat{i:02d}", legal_last_name="Paging")
        for i in range(22)]
    consented = f.participant(world.org, legal_first_name="Casey", legal_last_name="Moss")
    withheld = f.participant(world.org, legal_first_name="Drew", legal_last_name="Moss")
    f.episode(consented, su, therapist=world.clinician)
    f.episode(withheld, su, therapist=world.clinician)
    part2_consent(consented, world.clinician, app=hie)
    for i, p in enumerate([*people, consented, withheld]):
        if p is not world.participant and p not in (consented, withheld):
            f.episode(p, world.program, therapist=world.colleague)
        session = f.session(world.program, starts_at=start + timedelta(days=i))
        booking = f.booking(session, p)
        if i % 2 == 0:
            f.attendance(booking, "late" if i % 4 else "present", minutes=60 + i)
        MeasureResponse.objects.create(
            participant=p, instrument="phq9", answers={"q1": 1}, total=5, band="mild",
            completed_at=start + timedelta(days=i))
        MedicationOrder.objects.create(
            participant=p, name="Sertraline", catalog_key="sertraline", dose=Decimal("50"),
            unit="mg", route="oral", frequency="daily", start_date=start.date(),
            prescriber=world.clinician)
        if p is not consented:
            Consent.objects.create(participant=p, kind=Consent.Kind.RELEASE, recipient="PCP")
        Diagnosis.objects.create(participant=p, icd_code="F33.1", billable=True,
                                 description="Major depressive disorder, recurrent, moderate",
                                 code_set_version="ICD-10-CM FY2026", recorded_by=world.clinician,
                                 status="resolved" if i % 3 == 1 else "active",
                                 onset_on=start.date(),
                                 resolved_on=start.date() if i % 3 == 1 else None)
        Coverage.objects.create(participant=p, payer=payer, member_id=f"M{i:04d}",
                                group_number="G-100" if i % 2 else "",
                                relationship="18" if i % 2 else "01",
                                subscriber_first_name="" if i % 2 else "Jordan",
                                subscriber_last_name="" if i % 2 else "Paging",
                                effective_on=start.date())
    for i in range(3):
        f.site(world.org, name=f"Annex {i}")
        f.program(world.org, world.site, name=f"Program {i}", focus="mh")
    return withheld


# Medplum's validator and bulk client in Node.js (test_validation_medplum, test_bulk_client).
MEDPLUM_TOOL = Path(__file__).resolve().parents[2] / "tools" / "fhir-validate"


@pytest.fixture(scope="session")
def medplum() -> Path:
    """The tool with its pinned packages installed (`npm ci` from the lockfile, once)."""
    with (MEDPLUM_TOOL / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test workers may start it at once
        if not (MEDPLUM_TOOL / "node_modules" / "@medplum" / "core").is_dir():
            npm = shutil.which("npm")
            assert npm, "Node.js is installed without npm: cannot install the validator"
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=MEDPLUM_TOOL, check=True, timeout=600)
    return MEDPLUM_TOOL
