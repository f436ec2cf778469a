"""Personas around the world's participant (a 42 CFR Part 2 record: a Part 2 organization
and an episode in a co-occurring program) and a participant who is not one."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from openiop.accounts.models import Role, User
from openiop.participants.models import Participant
from tests import factories as f
from tests.conftest import World


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Clinic:
    w: World
    personas: dict[str, User]
    plain: Participant  # not a Part 2 record (mental-health program)


@pytest.fixture
def clinic(world: World) -> Clinic:
    return build_clinic(world)


def build_clinic(world: World) -> Clinic:
    """Every staff persona around the world's (Part 2) participant, and a plain participant
    (also used by the browser test of each role's chart)."""
    org = world.org
    people = {
        "clinician_on_team": world.clinician,
        "clinician_off_team": world.colleague,
        "nurse": f.staff(org, Role.NURSE, username="nurse"),
        "prescriber": f.staff(org, Role.PRESCRIBER, username="presc"),
        "intake": f.staff(org, Role.INTAKE, username="intake"),
        "front_desk": f.staff(org, Role.FRONT_DESK, username="desk"),
        "billing": f.staff(org, Role.BILLING, username="biller"),
        "admin": f.staff(org, Role.ADMIN, username="admin"),
        "director": world.director,
    }
    mh = f.program(org, world.site, name="Mood IOP", focus="mh")
    plain = f.participant(org, legal_first_name="Casey", legal_last_name="Plain")
    f.episode(plain, mh, therapist=world.clinician)
    return Clinic(world, people, plain)
