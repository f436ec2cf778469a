"""Test data factories: small, explicit, synthetic."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from openiop.accounts.models import Role, StaffProfile, User
from openiop.care.models import Enrollment, EpisodeOfCare, Program, Track
from openiop.organizations.models import Organization, Room, Site
from openiop.participants.models import Participant
from openiop.scheduling.models import Attendance, Booking, Session

PASSWORD = "correct-horse-battery-staple"
_seq = itertools.count(1)


def password_hash() -> str:
    """PASSWORD hashed once per configured hasher list: hashing is slow on purpose.

    Keyed by the hashers in force, so a hash made while a test module swapped in a fast
    hasher is never reused by a test that runs with the real (Argon2) ones.
    """
    from django.conf import settings

    return _password_hash(tuple(settings.PASSWORD_HASHERS))


@cache
def _password_hash(hashers: tuple[str, ...]) -> str:
    return make_password(PASSWORD)


def organization(**kw: Any) -> Organization:
    n = next(_seq)
    defaults = {"name": f"Clinic {n}", "slug": f"clinic-{n}"}
    return Organization.objects.create(**(defaults | kw))


def site(org: Organization, **kw: Any) -> Site:
    defaults = {"name": "Main", "address1": "1 Test Way", "city": "Columbus", "state": "OH",
                "zip_code": "43215", "latitude": 39.96, "longitude": -82.99}
    return Site.objects.create(organization=org, **(defaults | kw))


def room(s: Site, **kw: Any) -> Room:
    n = next(_seq)
    return Room.objects.create(site=s, **({"name": f"Room {n}", "capacity": 12} | kw))


def staff(org: Organization, role: str = Role.CLINICIAN, *, credentials: list[str] | None = None,
          username: str | None = None, **profile: Any) -> User:
    n = next(_seq)
    user = User.objects.create(
        username=username or f"{role}{n}", password=password_hash(), role=role,
        first_name=role.title(), last_name=f"Tester{n}",
    )
    StaffProfile.objects.create(user=user, organization=org,
                                credentials=credentials or [], **profile)
    return user


def participant(org: Organization, **kw: Any) -> Participant:
    n = next(_seq)
    defaults = {"mrn": f"T{n:05d}", "legal_first_name": "Alex", "legal_last_name": f"Sample{n}",
                "date_of_birth": date(1990, 5, 17)}
    return Participant.objects.create(organization=org, **(defaults | kw))


def program(org: Organization, s: Site | None = None, **kw: Any) -> Program:
    defaults = {"name": "Adult IOP", "population": "adult", "focus": "co", "level_of_care": "IOP"}
    return Program.objects.create(organization=org, site=s or site(org), **(defaults | kw))


def track(prog: Program, **kw: Any) -> Track:
    defaults = {"name": "Evening", "kind": "evening", "weekdays": [0, 2, 3],
                "start_time": time(18), "end_time": time(21), "capacity": 10}
    return Track.objects.create(program=prog, **(defaults | kw))


def episode(p: Participant, prog: Program, *, therapist: User | None = None,
            **kw: Any) -> EpisodeOfCare:
    defaults = {"status": "active", "level_of_care": "IOP",
                "admitted_on": timezone.localdate() - timedelta(days=14)}
    return EpisodeOfCare.objects.create(participant=p, program=prog, primary_therapist=therapist,
                                        **(defaults | kw))


def enrollment(ep: EpisodeOfCare, tr: Track, **kw: Any) -> Enrollment:
    return Enrollment.objects.create(episode=ep, track=tr,
                                     **({"start_date": ep.admitted_on} | kw))


def session(prog: Program, *, starts_at: datetime | None = None, minutes: int = 90,
            **kw: Any) -> Session:
    start = starts_at or timezone.now().replace(microsecond=0) - timedelta(days=1)
    defaults = {"kind": "group", "title": "Process group", "site": prog.site}
    return Session.objects.create(program=prog, starts_at=start,
                                  ends_at=start + timedelta(minutes=minutes), **(defaults | kw))


def booking(s: Session, p: Participant, **kw: Any) -> Booking:
    return Booking.objects.create(session=s, participant=p, **kw)


def attendance(b: Booking, status: str = "present", minutes: int | None = None,
               **kw: Any) -> Attendance:
    mins = b.session.duration_minutes if minutes is None else minutes
    return Attendance.objects.create(booking=b, status=status, minutes_attended=mins, **kw)
