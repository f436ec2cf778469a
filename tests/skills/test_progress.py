"""Covered and missed modules per participant, make-up suggestions, cohort table."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.skills.selectors import cohort_progress, participant_progress
from tests import factories as f

from .helpers import days_ago, delivered, modules, rotation


def _setup(world):
    mods = modules(4)
    rotation(world.program, mods)
    p = world.participant
    attended = delivered(world.program, mods[0], start=days_ago(7))
    f.attendance(f.booking(attended, p), "present")
    late = delivered(world.program, mods[1], start=days_ago(5))
    f.attendance(f.booking(late, p), "late", minutes=40)
    absent = delivered(world.program, mods[2], start=days_ago(3))
    f.attendance(f.booking(absent, p), "absent", minutes=0)
    makeup = delivered(world.program, mods[2], start=days_ago(-2), status="scheduled")
    other_program = f.program(world.org, name="Other")
    delivered(other_program, mods[2], start=days_ago(-1), status="scheduled")
    return mods, makeup


def test_progress_shows_covered_missed_and_not_yet(world):
    mods, _makeup = _setup(world)
    [rp] = participant_progress(world.participant)
    status = {row.module.slug: row.status for row in rp.rows}
    assert status[mods[0].slug] == "covered"
    assert status[mods[1].slug] == "covered"  # late still counts as attended
    assert status[mods[2].slug] == "missed"
    assert status[mods[3].slug] == "not_yet"
    assert (rp.covered, rp.missed, rp.percent) == (2, 1, 50)


def test_a_missed_module_suggests_upcoming_sessions_of_the_same_program(world):
    _mods, makeup = _setup(world)
    [rp] = participant_progress(world.participant)
    missed = next(r for r in rp.rows if r.status == "missed")
    assert [s.pk for s in missed.makeups] == [makeup.pk]


def test_attending_a_later_delivery_turns_missed_into_covered(world):
    mods, _makeup = _setup(world)
    again = delivered(world.program, mods[2], start=days_ago(1))
    f.attendance(f.booking(again, world.participant), "present")
    [rp] = participant_progress(world.participant)
    assert {r.status for r in rp.rows if r.module == mods[2]} == {"covered"}


def test_a_booked_future_delivery_is_upcoming_and_unrecorded_attendance_is_flagged(world):
    mods = modules(2)
    rotation(world.program, mods)
    f.booking(delivered(world.program, mods[0], start=days_ago(-3)), world.participant)
    f.booking(delivered(world.program, mods[1], start=days_ago(2)), world.participant)
    [rp] = participant_progress(world.participant)
    assert [r.status for r in rp.rows] == ["upcoming", "unrecorded"]


def test_progress_queries_do_not_grow_with_history(world):
    mods, _ = _setup(world)
    with CaptureQueriesContext(connection) as small:
        participant_progress(world.participant)
    for d in range(10):
        s = delivered(world.program, mods[d % 4], start=days_ago(20 + d))
        f.attendance(f.booking(s, world.participant), "absent" if d % 2 else "present")
    with CaptureQueriesContext(connection) as large:
        participant_progress(world.participant)
    assert len(large) == len(small) <= 6


def test_cohort_table_has_one_row_per_participant_in_three_queries(world):
    mods, _ = _setup(world)
    others = [f.participant(world.org) for _ in range(3)]
    s = delivered(world.program, mods[3], start=days_ago(1))
    for o in others:
        f.attendance(f.booking(s, o), "present")
    people = [world.participant, *others]
    with CaptureQueriesContext(connection) as ctx:
        items, matrix = cohort_progress(world.program, people)
    assert len(ctx) <= 3
    assert [i.module for i in items] == mods
    assert matrix[world.participant.pk][mods[0].pk] == "covered"
    assert matrix[world.participant.pk][mods[2].pk] == "missed"
    assert all(matrix[o.pk] == {mods[3].pk: "covered"} for o in others)
