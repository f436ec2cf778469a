"""Grow a test clinic by n of everything the FHIR server serves, at once (bulk inserts), to
prove that a search or read takes the same number of queries whatever the page size and
the size of the clinic.

Per unit i of `grow(world, app, n)`: a participant with an episode, two bookings (one
attended, one not), a score, a medication order, a release consent, a diagnosis and a
coverage; a staff member (who facilitates the sessions), a site and a program with a track.
Every tenth participant is in a substance-use program with a Part 2 consent to `app`, every
tenth another without one (withheld from `app`), and every tenth a participant of the
mental-health program with a MOUD order and an F1x diagnosis (Part 2 records on their own).
All synthetic.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from openiop.accounts.models import Role, StaffProfile, User
from openiop.billing.models import Coverage, Diagnosis, Payer
from openiop.care.models import EpisodeOfCare, Program, Track
from openiop.intake.models import MeasureResponse
from openiop.medications.models import MedicationOrder
from openiop.organizations.models import Site
from openiop.participants.models import Consent, DisclosurePurpose, Participant, RecipientKind
from openiop.scheduling.models import Attendance, Booking, Session
from tests import factories as f

_numbers = itertools.count(1)
START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def _programs(world: Any) -> tuple[Program, Program, Payer]:
    """The world's program (mental health), a substance-use program and a payer."""
    if world.program.focus != "mh":
        world.program.focus = "mh"
        world.program.save(update_fields=["focus"])
    su = Program.objects.filter(organization=world.org, focus="su").first() or f.program(
        world.org, world.site, name="SU IOP", focus="su")
    payer = Payer.objects.filter(organization=world.org).first() or Payer.objects.create(
        organization=world.org, name="Acme Health", kind="commercial", payer_id="60054",
        rule_set="per_diem", per_diem_code="S9480")
    return world.program, su, payer


def grow(world: Any, app: Any, n: int) -> list[Participant]:
    mh, su, payer = _programs(world)
    first = next(_numbers)
    for _ in range(n - 1):
        next(_numbers)
    tags = [f"{first + i:06d}" for i in range(n)]
    staff = User.objects.bulk_create([
        User(username=f"scale{t}", role=Role.CLINICIAN, first_name="Kim",
             last_name=f"Scale{t}", password=f.password_hash()) for t in tags])
    StaffProfile.objects.bulk_create([
        StaffProfile(user=u, organization=world.org, credentials=["LPC"], npi=f"1{t[1:]}000")
        for u, t in zip(staff, tags, strict=True)])
    sites = Site.objects.bulk_create([
        Site(organization=world.org, name=f"Annex {t}", address1="1 Test Way", city="Columbus",
             state="OH", zip_code="43215") for t in tags])
    programs = Program.objects.bulk_create([
        Program(organization=world.org, site=s, name=f"Program {t}", population="adult",
                focus="mh", level_of_care="IOP", weekly_hour_minimum=Decimal(9))
        for s, t in zip(sites, tags, strict=True)])
    Track.objects.bulk_create([
        Track(program=p, name="Evening", kind="evening", weekdays=[0, 2], start_time=time(18),
              end_time=time(21), capacity=10) for p in programs])
    people = Participant.objects.bulk_create([
        Participant(organization=world.org, mrn=f"Q{t}", legal_first_name="Sam",
                    legal_last_name=f"Scale{t}", date_of_birth=date(1988, 3, 9)) for t in tags])
    kind = {i: ("su-consented" if i % 10 == 3 else "su-withheld" if i % 10 == 7
                else "moud" if i % 10 == 5 else "mh") for i in range(n)}
    EpisodeOfCare.objects.bulk_create([
        EpisodeOfCare(participant=p, program=su if kind[i].startswith("su") else mh,
                      status="active", level_of_care="IOP", admitted_on=START.date(),
                      primary_therapist=staff[i]) for i, p in enumerate(people)])
    sessions = Session.objects.bulk_create([
        Session(program=mh, kind="group", title="Process group", site=sites[i],
                facilitator=staff[i], starts_at=START + timedelta(days=i, hours=h),
                ends_at=START + timedelta(days=i, hours=h, minutes=90))
        for i in range(n) for h in (0, 3)])
    bookings = Booking.objects.bulk_create([
        Booking(session=s, participant=people[i // 2]) for i, s in enumerate(sessions)])
    Attendance.objects.bulk_create([
        Attendance(booking=b, status="present", minutes_attended=90) for b in bookings[::2]])
    MeasureResponse.objects.bulk_create([
        MeasureResponse(participant=p, instrument="phq9", answers={"q1": 1}, total=5,
                        band="mild", completed_at=START + timedelta(days=i))
        for i, p in enumerate(people)])
    MedicationOrder.objects.bulk_create([
        MedicationOrder(participant=p, prescriber=staff[i], start_date=START.date(),
                        dose=Decimal("8" if kind[i] == "moud" else "50"), unit="mg",
                        route="sublingual" if kind[i] == "moud" else "oral", frequency="daily",
                        **({"name": "Buprenorphine", "catalog_key": "buprenorphine"}
                           if kind[i] == "moud" else
                           {"name": "Sertraline", "catalog_key": "sertraline"}))
        for i, p in enumerate(people)])
    Consent.objects.bulk_create([
        Consent(participant=p, kind=Consent.Kind.RELEASE, recipient="PCP") for p in people] + [
        Consent(participant=p, kind=Consent.Kind.PART2_TPO, purpose_code=DisclosurePurpose.TPO,
                recipient=app.name, recipient_kind=RecipientKind.APP, recipient_app=app,
                recorded_by=world.clinician)
        for i, p in enumerate(people) if kind[i] == "su-consented"])
    Diagnosis.objects.bulk_create([
        Diagnosis(participant=p, icd_code="F11.20" if kind[i] == "moud" else "F33.1",
                  billable=True, description="Synthetic diagnosis",
                  code_set_version="ICD-10-CM FY2026", recorded_by=staff[i], status="active",
                  onset_on=START.date()) for i, p in enumerate(people)])
    Coverage.objects.bulk_create([
        Coverage(participant=p, payer=payer, member_id=f"M{t}", relationship="18",
                 effective_on=START.date()) for p, t in zip(people, tags, strict=True)])
    return people
