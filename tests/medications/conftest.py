"""Medication personas on top of the shared `world`: a prescriber, a nurse, a clinician."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.medications import services
from openiop.medications.models import AllergyStatement, MedicationOrder
from tests import factories as f
from tests.conftest import World


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """These tests create several users each; Argon2 would dominate their run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class MedWorld:
    w: World
    prescriber: User
    nurse: User

    @property
    def participant(self) -> Any:
        return self.w.participant


@pytest.fixture
def med(world: World) -> MedWorld:
    prescriber = f.staff(world.org, Role.PRESCRIBER, credentials=["MD"], username="doc")
    nurse = f.staff(world.org, Role.NURSE, credentials=["RN"], username="rn")
    # The world's participant is a 42 CFR Part 2 record: medication records reach only the
    # care team (openiop.access.policy), so the nurse is on it as the case manager.
    world.episode.prescriber = prescriber
    world.episode.case_manager = nurse
    world.episode.save(update_fields=["prescriber", "case_manager"])
    # Most tests are about other checks: the chart states "no known drug allergies".
    # tests/medications/test_allergies.py covers charts without a statement.
    AllergyStatement.objects.create(participant=world.participant,
                                    stated_on=timezone.localdate(), recorded_by=world.clinician)
    return MedWorld(world, prescriber, nurse)


def order(med: MedWorld, key: str = "sertraline", *, dose: str = "50", unit: str = "mg",
          route: str = "oral", frequency: str = "daily", acks: dict | None = None,
          days_ago: int = 10, **extra: Any) -> MedicationOrder:
    data = {"catalog_key": key, "source": "clinic", "prescriber": med.prescriber,
            "dose": Decimal(dose), "unit": unit, "route": route, "frequency": frequency,
            "start_date": timezone.localdate() - timedelta(days=days_ago)} | extra
    return services.order_create(actor=med.prescriber, participant=med.participant, data=data,
                                 acknowledgements=acks)


def outside(med: MedWorld, key: str, *, dose: str, unit: str = "mg", route: str = "oral",
            frequency: str = "daily", acks: dict | None = None) -> MedicationOrder:
    data = {"catalog_key": key, "source": "outside", "outside_prescriber": "Dr. Lee, primary care",
            "dose": Decimal(dose), "unit": unit, "route": route, "frequency": frequency,
            "start_date": timezone.localdate() - timedelta(days=60)}
    return services.order_create(actor=med.w.clinician, participant=med.participant, data=data,
                                 acknowledgements=acks)
