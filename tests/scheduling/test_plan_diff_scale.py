"""The plan's diff reads the week once, not once per participant.

`services.plans._diff` (and `_apply`, which applies the same rows) used to look up each
participant's pinned sessions and appointments by passing over every participant and every
appointment of the week: for 5,000 participants that is 25 million steps before the diff is
shown. These tests count passes over the week, so they do not depend on timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from openiop.scheduling.engine import Appointment, Participant, Plan
from openiop.scheduling.engine.model import PlanStatus
from openiop.scheduling.services.plans import _diff

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)


class Counted(tuple):
    """A tuple that counts the passes made over it."""

    passes = 0

    def __iter__(self):
        type(self).passes += 1
        return super().__iter__()


class CountedPeople(Counted):
    passes = 0


class CountedAppointments(Counted):
    passes = 0


def _week(n: int) -> tuple[SimpleNamespace, Plan, dict[str, str]]:
    people = [Participant(f"p{i}", f"P{i}", "mh", ("day",), minimum_minutes=540, site="A",
                          pinned_sessions=("g0",) if i % 2 else ()) for i in range(n)]
    appointments = CountedAppointments(
        Appointment(f"n{i}", f"p{i}", "individual", "ther", "R1", "A", 600 + 60 * (i % 8),
                    650 + 60 * (i % 8)) for i in range(n))
    sessions = {"g0": SimpleNamespace(title="Group", starts_at=MONDAY + timedelta(hours=9)),
                "g1": SimpleNamespace(title="Group", starts_at=MONDAY + timedelta(hours=13))}
    ctx = SimpleNamespace(
        instance=SimpleNamespace(participants=CountedPeople(people)),
        participants={p.id: p for p in people},
        current_groups={p.id: {"g1"} for p in people},
        current_appointments={},
        sessions=sessions,
        staff_names={"ther": "Dana Reyes"},
        to_datetime=lambda minutes: MONDAY + timedelta(minutes=minutes),
    )
    plan = Plan(group_bookings={p.id: ("g0",) for p in people}, appointments=appointments,
                chosen_track={}, minutes={}, unmet_needs=(), objective=0, bound=0,
                status=PlanStatus.FEASIBLE, solve_seconds=0.0)
    return ctx, plan, {p.id: f"Person {i:04d}" for i, p in enumerate(people)}


def test_the_diff_passes_over_the_week_a_fixed_number_of_times():
    passes = {}
    for n in (10, 80):
        CountedPeople.passes = CountedAppointments.passes = 0
        ctx, plan, names = _week(n)
        rows = _diff(ctx, plan, names)
        passes[n] = (CountedPeople.passes, CountedAppointments.passes)
        # The diff itself: every person gets their appointment and loses g1; those without
        # a pin on g0 get g0 added (a pinned session is not part of the diff).
        assert sum(r.change == "add" and r.what == "Individual therapy with Dana Reyes"
                   for r in rows) == n
        assert sum(r.change == "remove" for r in rows) == n
        assert sum(r.change == "add" and r.what == "Group" for r in rows) == n // 2
    assert passes[80] == passes[10]
    assert passes[10][0] <= 2 and passes[10][1] <= 2
