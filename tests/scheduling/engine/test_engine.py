"""The scheduling engine on its own: no database, hand-built weeks that break one hard
constraint each on purpose, and checks that no plan ever breaks it."""

from __future__ import annotations

import dataclasses

import pytest

from openiop.scheduling.engine import (
    Clinician,
    FixedAppointment,
    GroupSession,
    Instance,
    Need,
    Participant,
    Room,
    SolveSettings,
    Track,
    Window,
    check_plan,
    solve,
    solve_greedy,
)
from openiop.scheduling.engine.generator import generate

FAST = SolveSettings(seed=3, time_limit_seconds=20, deterministic_limit=2.0)
LPC = frozenset({"LPC", "LCSW"})
D = "\u2013"  # the en dash the explanations use between times and days


def at(day: int, hour: int, minute: int = 0) -> int:
    return day * 1440 + hour * 60 + minute


def week(days: list[int], start: tuple[int, int], end: tuple[int, int], label: str = "") -> tuple:
    return tuple(Window(at(d, *start), at(d, *end), label) for d in days)


def track_sessions(track: str, days: list[int], hour: int, *, site: str = "A", cap: int = 10,
                   room: str | None = "GR", facilitator: str | None = "fac") -> list[GroupSession]:
    out = []
    for d in days:
        out.append(GroupSession(f"{track}-{d}-g", track, "group", at(d, hour), at(d, hour, 90),
                                site, cap, 90, room, facilitator))
        out.append(GroupSession(f"{track}-{d}-p", track, "psychoeducation", at(d, hour, 90),
                                at(d, hour + 3), site, cap, 90, room, facilitator))
    return out


def person(pid: str, **kw) -> Participant:
    defaults = dict(label=pid, program="mh", tracks=("eve",), site="A", minimum_minutes=540)
    return Participant(pid, **(defaults | kw))


def clinic(participants, *, clinicians=None, rooms=None, groups=None, tracks=None, **kw) -> Instance:
    clinicians = clinicians if clinicians is not None else (
        Clinician("ther", "Therapist", LPC, week([0, 1, 2, 3, 4], (8, 0), (21, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 2, 3, 4], (8, 0), (22, 0))),
    )
    rooms = rooms if rooms is not None else (
        Room("GR", "A", 12, "group"), Room("O1", "A", 3, "office"), Room("F1", "A", 6, "family"),
    )
    groups = groups if groups is not None else track_sessions("eve", [0, 1, 3], 18)
    tracks = tracks if tracks is not None else (Track("eve", "mh", "Evening Mon/Tue/Thu 18-21"),)
    return Instance(tuple(participants), tuple(clinicians), tuple(rooms), tuple(groups),
                    tuple(tracks), **kw)


def individual(pid: str, **kw) -> Need:
    return Need(f"{pid}-ind", "individual", 50, LPC, **({"preferred_clinician": "ther"} | kw))


@pytest.mark.parametrize("planner", ["cp-sat", "greedy"])
def test_it_never_books_into_a_work_window(planner):
    work = week([0, 1, 2, 3, 4], (9, 0), (19, 30), "work")
    inst = clinic([person("p1", busy=work, needs=(individual("p1"),))])
    plan = solve(inst, FAST) if planner == "cp-sat" else solve_greedy(inst)
    assert check_plan(inst, plan) == []
    booked = set(plan.group_bookings["p1"])
    # Work until 19:30 rules out the 18:00 process groups; the 19:30 psychoeducation fits.
    assert booked == {"eve-0-p", "eve-1-p", "eve-3-p"}
    for a in plan.appointments:
        assert not any(w.overlaps(a.start, a.end) for w in work)


def test_it_keeps_travel_time_between_sites():
    inst = clinic(
        [person("p1", fixed=(FixedAppointment("fx", "medication", at(0, 17, 0), at(0, 17, 45),
                                              "B", None, None, 0),))],
        travel_minutes={("A", "B"): 30},
    )
    plan = solve(inst, FAST)
    assert check_plan(inst, plan) == []
    # Monday's 18:00 group at site A starts 15 min after the clinic visit at site B ends.
    assert "eve-0-g" not in plan.group_bookings["p1"]
    assert "eve-0-p" in plan.group_bookings["p1"]


def test_clinician_hours_load_and_double_booking_hold():
    ther = Clinician("ther", "Therapist", LPC, week([2], (10, 0), (12, 0)), max_weekly_minutes=60)
    people = [person(f"p{i}", needs=(individual(f"p{i}"),)) for i in range(3)]
    inst = clinic(people, clinicians=(ther, Clinician("fac", "F", frozenset(), week(
        [0, 1, 3], (17, 0), (22, 0)))))
    for plan in (solve(inst, FAST), solve_greedy(inst)):
        assert check_plan(inst, plan) == []
        assert len(plan.appointments) == 1  # 60 minutes a week fits one 50-minute session
        a = plan.appointments[0]
        assert at(2, 10) <= a.start and a.end <= at(2, 12)
        assert len(plan.unmet_needs) == 2


def test_rooms_are_never_double_booked():
    clinicians = (
        Clinician("t1", "T1", LPC, week([2], (10, 0), (11, 0))),
        Clinician("t2", "T2", LPC, week([2], (10, 0), (11, 0))),
        Clinician("fac", "F", frozenset(), week([0, 1, 3], (17, 0), (22, 0))),
    )
    people = [person("p1", needs=(individual("p1", preferred_clinician="t1"),)),
              person("p2", needs=(individual("p2", preferred_clinician="t2"),))]
    inst = clinic(people, clinicians=clinicians)
    plan = solve(inst, FAST)
    assert check_plan(inst, plan) == []
    assert len(plan.appointments) == 1  # one office, one hour, two clinicians
    two_offices = dataclasses.replace(inst, rooms=(*inst.rooms, Room("O2", "A", 3, "office")))
    plan2 = solve(two_offices, FAST)
    assert check_plan(two_offices, plan2) == []
    assert {a.room for a in plan2.appointments} == {"O1", "O2"}


def test_group_and_room_capacity_hold():
    groups = track_sessions("eve", [0, 1, 3], 18, cap=3, room="SMALL")
    rooms = (Room("SMALL", "A", 2, "group"), Room("O1", "A", 3, "office"))
    people = [person(f"p{i}") for i in range(4)]
    inst = clinic(people, rooms=rooms, groups=groups)
    for plan in (solve(inst, FAST), solve_greedy(inst)):
        assert check_plan(inst, plan) == []
        for g in groups:
            seats = sum(1 for sids in plan.group_bookings.values() if g.id in sids)
            assert seats == 2  # the room holds 2 even though the session allows 3


def test_only_credentialed_clinicians_provide_family_therapy():
    lmft = Clinician("lmft", "Family therapist", frozenset({"LMFT"}), week([4], (9, 0), (12, 0)))
    fam = Need("p1-fam", "family", 50, frozenset({"LMFT"}), room_kind="family",
               rule="family session every two weeks")
    inst = clinic([person("p1", needs=(fam, individual("p1")))],
                  clinicians=(*clinic([]).clinicians, lmft))
    plan = solve(inst, FAST)
    assert check_plan(inst, plan) == []
    family = [a for a in plan.appointments if a.kind == "family"]
    assert [a.clinician for a in family] == ["lmft"] and family[0].room == "F1"

    without = clinic([person("p1", needs=(fam,))])
    plan = solve(without, FAST)
    assert plan.unmet_needs == ("p1-fam",)
    (expl,) = [e for e in plan.explanations if e.participant == "p1"]
    assert "no clinician holds LMFT" in expl.reason


def test_every_due_appointment_is_booked_exactly_once_when_possible():
    people = [person(f"p{i}", needs=(individual(f"p{i}"),
                                     Need(f"p{i}-med", "medication", 25, frozenset({"MD"}),
                                          counted=False, preferred_clinician="md")))
              for i in range(4)]
    md = Clinician("md", "Prescriber", frozenset({"MD"}), week([0, 1, 2, 3], (9, 0), (18, 0)))
    inst = clinic(people, clinicians=(*clinic([]).clinicians, md))
    plan = solve(inst, FAST)
    assert check_plan(inst, plan) == []
    assert plan.unmet_needs == ()
    assert sorted(a.need for a in plan.appointments) == sorted(
        n.id for p in people for n in p.needs)


def test_a_week_that_cannot_reach_the_minimum_is_explained_with_a_suggestion():
    day_work = week([0, 1, 2, 3, 4], (9, 0), (17, 0), "work")
    groups = track_sessions("morning", [0, 2, 3], 9) + track_sessions("eve", [0, 1, 3], 18)
    tracks = (Track("morning", "mh", "Morning Mon/Wed/Thu 9-12"),
              Track("eve", "mh", "Evening Mon/Tue/Thu 18-21"))
    inst = clinic([person("p1", tracks=("morning",), busy=day_work)], groups=groups,
                  tracks=tracks)
    plan = solve(inst, FAST)
    assert plan.group_bookings["p1"] == ()
    (expl,) = plan.explanations
    assert f"Work 9{D}17 Mon{D}Fri overlaps every session of Morning Mon/Wed/Thu 9-12" in expl.reason
    assert "0 h of 9 h" in expl.reason
    assert "Offer Evening Mon/Tue/Thu 18-21" in expl.suggestion
    assert "enough for the minimum" in expl.suggestion


def test_partial_clash_names_the_remaining_sessions():
    busy = week([0, 3], (17, 0), (22, 0), "second job")
    inst = clinic([person("p1", busy=busy)])
    plan = solve(inst, FAST)
    (expl,) = plan.explanations
    assert expl.reason.startswith(f"Second job 17{D}22 Mon/Thu leaves only Tue 18{D}21")
    assert "3 h of 9 h" in expl.reason


def test_an_alternative_track_is_used_when_the_enrolled_one_is_blocked():
    day_work = week([0, 1, 2, 3, 4], (9, 0), (17, 0), "work")
    groups = track_sessions("morning", [0, 2, 3], 9) + track_sessions("eve", [0, 1, 3], 18)
    inst = clinic([person("p1", tracks=("morning", "eve"), busy=day_work)], groups=groups)
    plan = solve(inst, FAST)
    assert plan.chosen_track["p1"] == "eve"
    assert len(plan.group_bookings["p1"]) == 6
    assert plan.minutes["p1"] == 540 and plan.explanations == ()


def test_pinned_sessions_are_kept():
    inst = clinic([person("p1", pinned_sessions=("eve-1-g",),
                          busy=week([1], (18, 0), (19, 0), "class"))])
    plan = solve(inst, FAST)
    assert "eve-1-g" in plan.group_bookings["p1"]


def test_same_seed_gives_the_same_plan():
    inst = generate(30, seed=11)
    settings = SolveSettings(seed=5, time_limit_seconds=60, deterministic_limit=0.3)
    first, second = solve(inst, settings), solve(inst, settings)
    assert first.appointments == second.appointments
    assert first.group_bookings == second.group_bookings
    assert first.objective == second.objective


def test_generated_weeks_are_valid_and_never_worse_than_greedy():
    inst = generate(30, seed=4)
    greedy = solve_greedy(inst)
    plan = solve(inst, SolveSettings(seed=1, time_limit_seconds=30, deterministic_limit=0.3))
    assert check_plan(inst, greedy) == [] and check_plan(inst, plan) == []
    assert plan.objective <= greedy.objective
    assert 0 <= plan.bound <= plan.objective and 0.0 <= plan.gap <= 1.0
    assert plan.share_meeting_minimum(inst) >= greedy.share_meeting_minimum(inst)
    # Everyone below the minimum has a reason and a suggestion.
    below = {p.id for p in inst.participants if plan.minutes[p.id] < p.minimum_minutes}
    assert below == {e.participant for e in plan.explanations}
    assert all(e.reason and e.suggestion for e in plan.explanations)


def test_the_checker_catches_a_broken_plan():
    work = week([0], (17, 0), (22, 0), "work")
    inst = clinic([person("p1", busy=work, needs=(individual("p1"),))])
    plan = solve(inst, FAST)
    broken = dataclasses.replace(plan, group_bookings={"p1": ("eve-0-g",)},
                                 appointments=plan.appointments + plan.appointments)
    problems = check_plan(inst, broken)
    assert any("busy window" in p for p in problems)
    assert any("booked twice" in p for p in problems)


def test_a_window_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="must end after it starts"):
        Window(at(0, 10), at(0, 9), "work")


# --- cadence rules are hard -------------------------------------------------------------

def _greedy_trap() -> Instance:
    """One therapist, Wednesday 10:00-12:00 (starts at 10:00, 10:30 and 11:00). p2 can only
    come at 10:00; p1, with fewer options, goes first in the greedy order and takes 10:00."""
    ther = Clinician("ther", "Dr. Rivera", LPC, week([2], (10, 0), (12, 0)))
    fac = Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0)))
    evenings = week([0, 1, 2, 3, 4], (17, 0), (23, 0), "work")
    p1 = person("p1", busy=evenings, needs=(individual("p1"),))
    p2 = person("p2", busy=(Window(at(2, 10, 50), at(2, 16), "school"),), needs=(individual("p2"),))
    return clinic([p1, p2], clinicians=(ther, fac))


def test_a_due_appointment_the_greedy_baseline_misses_is_booked():
    inst = _greedy_trap()
    greedy = solve_greedy(inst)
    assert greedy.unmet_needs == ("p2-ind",)  # the baseline walks into the trap
    assert [g.need for g in greedy.cadence_gaps] == ["p2-ind"] and not greedy.cadence_gaps[0].proven
    plan = solve(inst, FAST)
    assert check_plan(inst, plan) == []
    assert plan.unmet_needs == () and plan.cadence_met
    starts = {a.participant: a.start for a in plan.appointments}
    assert starts["p2"] == at(2, 10) and starts["p1"] == at(2, 11)


def test_a_cadence_no_plan_can_meet_is_proven_and_explained():
    ther = Clinician("ther", "Dr. Rivera", LPC, week([2], (10, 0), (11, 0)))
    fac = Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0)))
    people = [person(f"p{i}", needs=(individual(f"p{i}"),)) for i in range(3)]
    inst = clinic(people, clinicians=(ther, fac))
    plan = solve(inst, FAST)
    assert check_plan(inst, plan) == []
    assert len(plan.appointments) == 1 and len(plan.cadence_gaps) == 2
    for gap in plan.cadence_gaps:
        assert gap.proven and gap.rule == "individual appointment"
        assert gap.reason.startswith("Dr. Rivera cannot see the participant at any time this "
                                     "week: the times that suit both are taken by 1 other due "
                                     "appointment (the solver proved")
        assert "at most 1 of the week's 3 due appointments" in gap.reason
        assert "Add hours for Dr. Rivera" in gap.suggestion
    # The participant's explanation carries the same reason.
    missed = {g.participant for g in plan.cadence_gaps}
    assert {e.participant for e in plan.explanations} >= missed
    expl = next(e for e in plan.explanations if e.participant in missed)
    assert expl.reason.startswith("Individual appointment not booked because Dr. Rivera cannot see")


def test_a_full_weekly_load_is_named_as_the_reason():
    ther = Clinician("ther", "Dr. Rivera", LPC, week([2], (9, 0), (17, 0)), max_weekly_minutes=60)
    fac = Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0)))
    inst = clinic([person(f"p{i}", needs=(individual(f"p{i}"),)) for i in range(2)],
                  clinicians=(ther, fac))
    plan = solve(inst, FAST)
    (gap,) = plan.cadence_gaps
    assert "Dr. Rivera's weekly maximum of 1 h is reached" in gap.reason
    assert gap.suggestion.startswith("Raise Dr. Rivera's weekly maximum")


def test_a_pinned_session_that_takes_the_only_free_hour_is_named():
    ther = Clinician("ther", "Dr. Rivera", LPC, week([1], (18, 0), (19, 0)))
    fac = Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0)))
    p1 = person("p1", pinned_sessions=("eve-1-g",), needs=(individual("p1"),))
    inst = clinic([p1], clinicians=(ther, fac))
    plan = solve(inst, FAST)
    assert "eve-1-g" in plan.group_bookings["p1"]
    (gap,) = plan.cadence_gaps
    assert "times clash with the participant's own pinned or booked sessions" in gap.reason
    assert check_plan(inst, plan) == []


def test_no_time_outside_commitments_names_the_commitments():
    ther = Clinician("ther", "Dr. Rivera", LPC, week([0, 1, 2, 3, 4], (9, 0), (17, 0)))
    fac = Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0)))
    p1 = person("p1", busy=week([0, 1, 2, 3, 4], (8, 0), (17, 30), "work"), needs=(individual("p1"),))
    plan = solve(clinic([p1], clinicians=(ther, fac)), FAST)
    (gap,) = plan.cadence_gaps
    assert gap.proven
    assert f"(Dr. Rivera) works at a time the participant is free outside work 8{D}17:30 Mon{D}Fri" in gap.reason


def test_the_checker_refuses_a_due_appointment_dropped_without_a_reason():
    inst = clinic([person("p1", needs=(individual("p1"),))])
    plan = solve(inst, FAST)
    assert plan.cadence_met and len(plan.appointments) == 1
    dropped = dataclasses.replace(plan, appointments=())
    assert any(p.startswith("cadence: p1-ind") for p in check_plan(inst, dropped))


def test_settling_cadence_is_deterministic_for_a_seed():
    inst = generate(30, seed=8)
    # Cut the therapists' weekly load to a sixth so the greedy baseline misses due
    # appointments and the cadence model has to decide which ones fit.
    scarce = dataclasses.replace(inst, clinicians=tuple(
        dataclasses.replace(c, max_weekly_minutes=c.max_weekly_minutes // 6)
        if c.credentials & {"LPC", "LCSW", "LMFT", "LISW"} else c for c in inst.clinicians))
    assert solve_greedy(scarce).cadence_gaps  # the baseline leaves some unbooked
    settings = SolveSettings(seed=5, time_limit_seconds=60, deterministic_limit=0.5)
    first, second = solve(scarce, settings), solve(scarce, settings)
    assert check_plan(scarce, first) == []
    assert first.appointments == second.appointments
    assert first.cadence_gaps == second.cadence_gaps
    assert len(first.cadence_gaps) <= len(solve_greedy(scarce).cadence_gaps)


def test_an_appointment_already_booked_stays_where_it_is():
    # Wednesday 15:10 is off the half-hour grid and not where the planner would put it.
    booked = individual("p1", current=("ther", at(2, 15, 10)))
    inst = clinic([person("p1", needs=(booked,))])
    plan = solve(inst, FAST)
    (a,) = plan.appointments
    assert (a.clinician, a.start) == ("ther", at(2, 15, 10))
    assert check_plan(inst, plan) == []
    # The same booking is moved once the participant starts a class at that hour.
    busy = person("p1", needs=(booked,), busy=(Window(at(2, 15), at(2, 16), "class"),))
    moved = solve(clinic([busy]), FAST)
    (b,) = moved.appointments
    assert b.start != at(2, 15, 10) and not (at(2, 15) < b.end and b.start < at(2, 16))
