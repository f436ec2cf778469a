"""Fixtures shared by the FHIR resource tests."""

from __future__ import annotations

import pytest

from openiop.participants.models import Consent


@pytest.fixture
def mh(world):
    """The world's program treats mental health only: the participant is not a Part 2
    record as a whole (the organization is still a Part 2 program)."""
    world.program.focus = "mh"
    world.program.save()
    return world


def part2_consent(participant, recorded_by=None, **kw) -> Consent:
    """An active 42 CFR Part 2 TPO consent (synthetic)."""
    return Consent.objects.create(participant=participant, kind=Consent.Kind.PART2_TPO,
                                  recipient="Riverbend and payers", recorded_by=recorded_by,
                                  **kw)
