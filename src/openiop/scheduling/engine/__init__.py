"""The scheduling engine: plain Python and OR-Tools CP-SAT, no Django.

    from openiop.scheduling.engine import Instance, solve, solve_greedy, check_plan
    plan = solve(instance, SolveSettings(seed=1, time_limit_seconds=30))

Input and output are the dataclasses in `model.py`; times are minutes from Monday 00:00
of the week in the organization's local time.
"""

from __future__ import annotations

from .cpsat import SolveSettings, solve
from .explain import describe_windows
from .greedy import solve_greedy
from .model import (
    Appointment,
    Clinician,
    Explanation,
    FixedAppointment,
    GroupSession,
    Instance,
    Need,
    Participant,
    Plan,
    Room,
    TherapistChange,
    Track,
    Window,
)
from .verify import check_plan

__all__ = [
    "Appointment", "Clinician", "Explanation", "FixedAppointment", "GroupSession", "Instance",
    "Need", "Participant", "Plan", "Room", "SolveSettings", "TherapistChange", "Track", "Window", "check_plan",
    "describe_windows", "solve", "solve_greedy",
]
