"""Shared set-up for safety-task tests: fixed instants, results, a supervised clinician."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from openiop.accounts.models import Role, StaffProfile
from openiop.intake.instruments import Flag, ScoreResult, score
from openiop.notifications.models import OnCallShift
from tests import factories as f

# Wednesday 4 March 2026, 10:00 in New York (EST, UTC-5): the program is open (9 to 5).
WED_10AM = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
# The same Wednesday at 20:00 New York time: closed.
WED_8PM = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
# Saturday 7 March 2026, 11:00 New York: closed (weekend).
SAT_11AM = datetime(2026, 3, 7, 16, 0, tzinfo=UTC)


def phq9_item9(value: int = 3) -> ScoreResult:
    return score("phq9", [0] * 8 + [value])


def imminent() -> ScoreResult:
    """A C-SSRS-like result with an imminent-risk flag (emergent priority)."""
    flag = Flag(code="recent_behavior", level="danger", message="Recent suicidal behavior.",
                source="test", safety=True, imminent=True)
    return ScoreResult("cssrs", None, "high", "High risk", (flag,), {"q1": 1})


def supervised(world: Any) -> Any:
    """Make the world's clinician supervised by a new senior clinician; return the senior."""
    senior = f.staff(world.org, Role.CLINICIAN, credentials=["LCSW"], username="senior")
    StaffProfile.objects.filter(user=world.clinician).update(
        supervisor=StaffProfile.objects.get(user=senior))
    return senior


def on_call(world: Any, user: Any, weekday: int, start: time = time(0),
            end: time = time(0)) -> OnCallShift:
    return OnCallShift.objects.create(program=world.program, weekday=weekday, start_time=start,
                                      end_time=end, user=user)
