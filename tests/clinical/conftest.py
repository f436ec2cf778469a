"""Clinical fixtures: a group session with attendees, an individual session, a supervised
associate, all small and synthetic."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from openiop.accounts.models import Role, StaffProfile, User
from openiop.participants.models import Participant
from openiop.scheduling.models import Session
from tests import factories as f
from tests.conftest import World


@dataclass
class Clinic:
    world: World
    group: Session
    attendees: list[Participant]
    absent: Participant
    individual: Session
    associate: User
    supervisor: User


@pytest.fixture
def clinic(world: World) -> Clinic:
    w = world
    w.program.settings = {"note_timeliness_hours": {"group": 24, "individual": 72,
                                                    "family": 72, "medication": 72},
                          "treatment_plan_review_days": 30}
    w.program.note_format = "DAP"
    w.program.save()
    # The supervisor is the world's clinician; the associate needs co-signatures.
    associate = f.staff(w.org, Role.CLINICIAN, credentials=["CADC"], username="assoc",
                        requires_cosignature=True)
    StaffProfile.objects.filter(user=associate).update(
        supervisor=StaffProfile.objects.get(user=w.clinician))
    associate.refresh_from_db()
    second = f.participant(w.org, legal_first_name="Morgan", legal_last_name="Ellis",
                           preferred_name="Mo")
    f.enrollment(f.episode(second, w.program, therapist=w.clinician), w.track)
    absent = f.participant(w.org, legal_first_name="Quinn", legal_last_name="Dawson")
    f.enrollment(f.episode(absent, w.program, therapist=w.colleague), w.track)
    group = f.session(w.program, facilitator=w.clinician, title="Process group")
    for person, status in ((w.participant, "present"), (second, "late"), (absent, "absent")):
        f.attendance(f.booking(group, person), status)
    individual = f.session(w.program, kind="individual", title="Individual therapy",
                           facilitator=w.clinician, minutes=50)
    f.attendance(f.booking(individual, w.participant), "present")
    return Clinic(w, group, [w.participant, second], absent, individual, associate,
                  w.clinician)
