"""What the planner promises beyond validity: never worse than the greedy baseline (on the
objective and on participants at their weekly minimum), continuity of the usual clinician
as a rule with a reason for every change, the time limit kept, and linear explanations."""

from __future__ import annotations

import time

import pytest

from openiop.scheduling.engine import (
    Clinician,
    GroupSession,
    Need,
    Room,
    SolveSettings,
    Track,
    check_plan,
    cpsat,
    solve,
    solve_greedy,
)
from openiop.scheduling.engine.explain import explain
from openiop.scheduling.engine.hard_weeks import VARIANTS, generate_hard
from openiop.scheduling.engine.options import build_options, score_selection, widen
from openiop.scheduling.engine.verify import avoidable_changes
from tests.scheduling.engine.test_engine import (
    LPC,
    at,
    clinic,
    individual,
    person,
    track_sessions,
    week,
)

QUICK = SolveSettings(seed=5, time_limit_seconds=6, deterministic_limit=1.0)


def _hard_small_week():
    """Eight adults with daytime jobs, an evening track of four seats, a morning track they
    may move to but cannot attend, one therapist capped at two sessions and one office."""
    groups = track_sessions("eve", [0, 1, 3], 18, cap=4) + track_sessions("day", [0, 2, 3], 9, cap=8)
    people = [person(f"p{i}", tracks=("eve", "day") if i % 2 else ("day", "eve"),
                     busy=week([0, 1, 2, 3, 4], (8, 30), (16, 30), "work"),
                     needs=(individual(f"p{i}"),)) for i in range(8)]
    clinicians = (
        Clinician("ther", "Therapist", LPC, week([0, 1, 2, 3, 4], (8, 0), (21, 0)),
                  max_weekly_minutes=100),
        Clinician("other", "Other therapist", LPC, week([2, 4], (16, 30), (21, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 2, 3, 4], (8, 0), (22, 0))),
    )
    rooms = (Room("GR", "A", 12, "group"), Room("O1", "A", 3, "office"))
    tracks = (Track("eve", "mh", "Evening Mon/Tue/Thu 18-21"), Track("day", "mh", "Day Mon/Wed/Thu 9-12"))
    return clinic(people, clinicians=clinicians, rooms=rooms, groups=groups, tracks=tracks)


@pytest.mark.parametrize("limit", [1.0, 6.0])
def test_the_plan_is_never_worse_than_greedy_on_a_hard_small_week(limit):
    inst = _hard_small_week()
    greedy = solve_greedy(inst)
    plan = solve(inst, SolveSettings(seed=5, time_limit_seconds=limit, deterministic_limit=limit / 3))
    assert check_plan(inst, plan) == [] and check_plan(inst, greedy) == []
    assert plan.objective <= greedy.objective
    assert plan.meeting_minimum(inst) >= greedy.meeting_minimum(inst)
    # Only four evening seats for eight people who work days: at most four can attend.
    assert plan.meeting_minimum(inst) <= 4


def test_a_solver_answer_worse_on_share_at_minimum_is_replaced_by_the_starting_plan(monkeypatch):
    inst = _hard_small_week()
    real = cpsat.make_plan

    def worse_when_solved(*args, **kw):
        plan = real(*args, **kw)
        if kw.get("method") == "cp-sat":
            # The solver's answer as if it had left everyone one minute short.
            plan.minutes = {pid: 0 for pid in plan.minutes}
        return plan

    monkeypatch.setattr(cpsat, "make_plan", worse_when_solved)
    greedy = solve_greedy(inst)
    plan = solve(inst, QUICK)
    # The starting plan: here the seats-first one (the people the seats bring to the
    # minimum book first, which saves one of them a trip), strictly better than greedy.
    assert plan.status == "GREEDY_FALLBACK" and plan.method == "seats-first"
    assert plan.meeting_minimum(inst) == greedy.meeting_minimum(inst) > 0
    assert plan.objective < greedy.objective
    assert check_plan(inst, plan) == []


@pytest.mark.parametrize("variant", VARIANTS)
def test_hard_generated_weeks_are_valid_and_never_worse_than_greedy(variant):
    inst = generate_hard(30, variant, seed=2)
    greedy = solve_greedy(inst)
    plan = solve(inst, SolveSettings(seed=1, time_limit_seconds=5, deterministic_limit=0.5))
    assert check_plan(inst, plan) == [] and check_plan(inst, greedy) == []
    assert plan.objective <= greedy.objective
    assert plan.meeting_minimum(inst) >= greedy.meeting_minimum(inst)
    assert len(plan.cadence_gaps) <= len(greedy.cadence_gaps)
    # Continuity is a rule: no appointment goes to a stand-in while the usual clinician
    # and the participant are both free (re-checked from the instance, every start).
    assert avoidable_changes(inst, plan) == [] and avoidable_changes(inst, greedy) == []
    # The baseline measured inside solve() is greedy's own plan (no second greedy run).
    assert plan.baseline["objective"] == greedy.objective
    assert plan.baseline["meeting_minimum"] == greedy.meeting_minimum(inst)
    assert plan.baseline["appointments"] == len(greedy.appointments)


def test_the_usual_therapist_keeps_the_appointment_when_free():
    # Another therapist works on the participant's group days (a trip saved); the usual one
    # only on Wednesday. Continuity comes first.
    clinicians = (
        Clinician("ther", "Therapist", LPC, week([2], (10, 0), (12, 0))),
        Clinician("near", "Near therapist", LPC, week([0, 1, 3], (16, 0), (18, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    inst = clinic([person("p1", needs=(individual("p1"),))], clinicians=clinicians)
    for plan in (solve(inst, QUICK), solve_greedy(inst)):
        assert [a.clinician for a in plan.appointments] == ["ther"]
        assert plan.therapist_changes == ()


def test_a_therapist_change_names_the_full_weekly_load():
    clinicians = (
        Clinician("ther", "Dana Usual", LPC, week([2], (10, 0), (14, 0)), max_weekly_minutes=60),
        Clinician("alt", "Alex Other", LPC, week([2], (10, 0), (14, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    people = [person(f"p{i}", needs=(individual(f"p{i}"),)) for i in range(2)]
    rooms = (Room("GR", "A", 12, "group"), Room("O1", "A", 3, "office"), Room("O2", "A", 3, "office"))
    inst = clinic(people, clinicians=clinicians, rooms=rooms)
    for plan in (solve(inst, QUICK), solve_greedy(inst)):
        assert check_plan(inst, plan) == []
        assert sorted(a.clinician for a in plan.appointments) == ["alt", "ther"]
        (change,) = plan.therapist_changes
        moved = next(a for a in plan.appointments if a.clinician == "alt")
        assert (change.need, change.participant, change.usual, change.assigned) == (
            moved.need, moved.participant, "ther", "alt")
        assert change.reason == "Dana Usual's weekly maximum of 1 h is reached."


def test_a_therapist_change_names_a_usual_therapist_who_never_works_when_the_person_is_free():
    clinicians = (
        Clinician("ther", "Dana Usual", LPC, week([0, 1, 2, 3, 4], (9, 0), (16, 0))),
        Clinician("alt", "Alex Other", LPC, week([2], (17, 0), (19, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    p = person("p1", busy=week([0, 1, 2, 3, 4], (8, 0), (16, 30), "work"), needs=(individual("p1"),))
    plan = solve(clinic([p], clinicians=clinicians), QUICK)
    (change,) = plan.therapist_changes
    assert change.assigned == "alt" and plan.appointments[0].start == at(2, 17)
    assert change.reason.startswith("Dana Usual does not work at any time the participant is free")


def test_the_time_limit_covers_model_building_and_explanations():
    inst = generate_hard(88, "evening", seed=1)
    started = time.perf_counter()
    plan = solve(inst, SolveSettings(seed=1, time_limit_seconds=4))
    wall = time.perf_counter() - started
    assert wall <= 4 * 1.1 + 0.5
    assert check_plan(inst, plan) == []
    assert plan.meeting_minimum(inst) >= solve_greedy(inst).meeting_minimum(inst)


def test_explanations_grow_linearly_with_the_week(monkeypatch):
    from openiop.scheduling.engine import explain as explain_module

    sessions_read = {}
    real = explain_module._track_fit
    for n in (220, 880):
        count = 0

        def counting(sessions, p, _real=real):
            nonlocal count
            count += len(sessions)
            return _real(sessions, p)

        monkeypatch.setattr(explain_module, "_track_fit", counting)
        inst = generate_hard(n, "evening", seed=1)
        plan = solve_greedy(inst)
        out = explain(inst, build_options(inst), plan)
        sessions_read[n] = count
        below = {p.id for p in inst.participants if plan.minutes[p.id] < p.minimum_minutes}
        assert below and {e.participant for e in out} >= below
    # Four times the participants: about four times the sessions read (all pairs would be 16).
    assert sessions_read[880] <= 5 * sessions_read[220]


def test_people_move_to_an_acceptable_track_when_that_lets_more_reach_the_minimum():
    # One evening seat. Avery (no job) is enrolled in the evening, Blake (daytime job) in
    # the day track: greedy keeps both where they are and Blake gets nothing; moving
    # Avery to days and Blake to evenings brings both to the minimum, shown as proposals.
    groups = track_sessions("eve", [0, 1, 3], 18, cap=1) + track_sessions("day", [0, 2, 3], 9, cap=8)
    tracks = (Track("eve", "mh", "Evening Mon/Tue/Thu 18-21"), Track("day", "mh", "Day Mon/Wed/Thu 9-12"))
    people = [
        person("avery", tracks=("eve", "day")),
        person("blake", tracks=("day", "eve"), busy=week([0, 1, 2, 3, 4], (8, 30), (16, 30), "work")),
    ]
    inst = clinic(people, groups=groups, tracks=tracks)
    greedy = solve_greedy(inst)
    assert greedy.meeting_minimum(inst) == 1 and greedy.track_moves(inst) == []
    plan = solve(inst, QUICK)
    assert check_plan(inst, plan) == []
    assert plan.meeting_minimum(inst) == 2
    assert sorted(plan.track_moves(inst)) == [("avery", "eve", "day"), ("blake", "day", "eve")]
    assert plan.objective <= greedy.objective


@pytest.mark.parametrize("cap", [2, 400])
def test_an_unplaced_need_gets_a_bounded_candidate_list_and_a_cut_list_proves_nothing(monkeypatch, cap):
    from openiop.scheduling.engine import options as options_module

    monkeypatch.setattr(options_module, "MAX_UNCAPPED_CANDIDATES", cap)
    ther = Clinician("ther", "Dr. Rivera", LPC, week([2], (10, 0), (13, 0)), max_weekly_minutes=50)
    fac = Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0)))
    inst = clinic([person(f"p{i}", needs=(individual(f"p{i}"),)) for i in range(3)],
                  clinicians=(ther, fac))
    uncapped = options_module.build_options(inst, uncapped=frozenset({"p0-ind"}))
    assert len(uncapped.appointments["p0"]["p0-ind"]) == min(cap, 5)  # Wed 10:00 ... 12:00
    assert uncapped.truncated == (frozenset({"p0-ind"}) if cap < 5 else frozenset())
    plan = solve(inst, QUICK)
    assert check_plan(inst, plan) == []
    assert len(plan.appointments) == 1 and len(plan.cadence_gaps) == 2
    assert all(g.proven == (cap >= 5) for g in plan.cadence_gaps)
    if cap < 5:
        assert all("not proven impossible" in g.reason for g in plan.cadence_gaps)


def test_model_building_stops_at_its_deadline_and_the_starting_plan_is_returned(monkeypatch):
    inst = _hard_small_week()
    options = build_options(inst)
    with pytest.raises(cpsat._OutOfTime):
        cpsat._build(inst, options, set(), shared=True, deadline=time.perf_counter() - 1)

    def out_of_time(*args, **kw):
        raise cpsat._OutOfTime

    monkeypatch.setattr(cpsat, "_build", out_of_time)
    greedy = solve_greedy(inst)
    plan = solve(inst, QUICK)
    assert plan.status == "GREEDY_FALLBACK" and check_plan(inst, plan) == []
    assert plan.objective <= greedy.objective
    assert plan.meeting_minimum(inst) >= greedy.meeting_minimum(inst)
    assert plan.solve_seconds < QUICK.time_limit_seconds


def test_the_usual_therapist_keeps_the_appointment_past_the_shortlists_cut(monkeypatch):
    """Four people share a therapist and one office; the shortlist names a single start of
    the therapist for each (the same one). Continuity is a rule, so the therapist's other
    free times are used rather than a stand-in: both planners keep everyone with them."""
    from openiop.scheduling.engine import options as options_module

    monkeypatch.setattr(options_module, "MAX_PREFERRED_CANDIDATES", 1)
    clinicians = (
        Clinician("ther", "Dana Usual", LPC, week([0, 1, 2, 3, 4], (9, 0), (17, 0))),
        Clinician("alt", "Alex Other", LPC, week([0, 1, 2, 3, 4], (9, 0), (17, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    rooms = (Room("GR", "A", 12, "group"), Room("O1", "A", 1, "office"))
    inst = clinic([person(f"p{i}", needs=(individual(f"p{i}"),)) for i in range(4)],
                  clinicians=clinicians, rooms=rooms)
    options = build_options(inst)
    assert {len(options.appointments[f"p{i}"][f"p{i}-ind"]) for i in range(4)} == {1 + 16}
    for plan in (solve_greedy(inst), solve(inst, QUICK)):
        assert check_plan(inst, plan) == []
        assert [a.clinician for a in plan.appointments] == ["ther"] * 4
        assert plan.therapist_changes == () and avoidable_changes(inst, plan) == []


def test_a_stand_in_is_kept_only_when_the_usual_therapist_has_no_time_left():
    """Two people, one therapist with exactly one free hour: one keeps the therapist, the
    other goes to a colleague with the reason; moving that one back is refused."""
    clinicians = (
        Clinician("ther", "Dana Usual", LPC, week([2], (10, 0), (11, 0))),
        Clinician("alt", "Alex Other", LPC, week([2], (10, 0), (14, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    rooms = (Room("GR", "A", 12, "group"), Room("O1", "A", 1, "office"), Room("O2", "A", 1, "office"))
    inst = clinic([person(f"p{i}", needs=(individual(f"p{i}"),)) for i in range(2)],
                  clinicians=clinicians, rooms=rooms)
    for plan in (solve_greedy(inst), solve(inst, QUICK)):
        assert sorted(a.clinician for a in plan.appointments) == ["alt", "ther"]
        (change,) = plan.therapist_changes
        assert change.reason == "Dana Usual's free times are taken by other due appointments."
        assert avoidable_changes(inst, plan) == []


def test_the_continuity_check_catches_a_needless_stand_in():
    import dataclasses

    clinicians = (
        Clinician("ther", "Dana Usual", LPC, week([2], (10, 0), (14, 0))),
        Clinician("alt", "Alex Other", LPC, week([2], (10, 0), (14, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    inst = clinic([person("p1", needs=(individual("p1"),))], clinicians=clinicians)
    plan = solve_greedy(inst)
    assert avoidable_changes(inst, plan) == []
    (appt,) = plan.appointments
    plan.appointments = (dataclasses.replace(appt, clinician="alt"),)
    (problem,) = avoidable_changes(inst, plan)
    assert problem.startswith("p1-ind went to alt although ther and p1 are both free")


def test_greedys_plan_is_a_complete_hint_the_solver_accepts_as_it_is():
    """The hint is greedy's whole plan (every option and every auxiliary variable): fixed
    to its hinted values, the model is feasible and scores exactly greedy's objective, so
    CP-SAT's first incumbent is greedy's plan."""
    from ortools.sat.python import cp_model

    from openiop.scheduling.engine.greedy import greedy_choice

    inst = generate_hard(30, "evening", seed=3)
    options = build_options(inst)
    start = greedy_choice(inst, options)
    m, x, _y, aux = cpsat._build(inst, options, start, shared=True)
    for key, var in x.items():
        m.add_hint(var, key in start)
    for var, value in aux:
        m.add_hint(var, value)
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 20
    assert solver.solve(m) == cp_model.OPTIMAL
    assert {k for k, v in x.items() if solver.boolean_value(v)} == start
    assert solver.objective_value == score_selection(inst, options, start)[0]


@pytest.mark.parametrize("variant", ["evening", "contended"])
def test_a_tiny_time_limit_still_returns_at_least_greedys_plan_and_says_which_was_kept(variant):
    inst = generate_hard(60, variant, seed=4)
    greedy = solve_greedy(inst)
    for limit in (0.01, 1.5):
        plan = solve(inst, SolveSettings(seed=1, time_limit_seconds=limit, deterministic_limit=0.5))
        assert check_plan(inst, plan) == []
        assert plan.objective <= greedy.objective
        assert plan.meeting_minimum(inst) >= greedy.meeting_minimum(inst)
        # Which plan was kept: the solver's (cp-sat) or the starting plan, by name.
        assert (plan.status == "GREEDY_FALLBACK") == (plan.method != "cp-sat")
        assert plan.method in {"cp-sat", "greedy", "seats-first", "cadence-first"}
    assert solve(inst, SolveSettings(seed=1, time_limit_seconds=0.01)).status == "GREEDY_FALLBACK"


@pytest.mark.parametrize("minimum, keeps_usual", [(480, True), (540, False)])
def test_a_group_session_gives_way_to_the_usual_therapist_unless_the_minimum_needs_it(
        minimum, keeps_usual):
    """The usual therapist's only hour is during the person's first Monday group (90 of
    their 590 planned minutes). Continuity ranks above one group session, the weekly
    minimum above continuity: against a minimum of 480 the group gives way (500 minutes
    left); against 540 it does not, and the stand-in is named with the reason."""
    clinicians = (
        Clinician("ther", "Dana Usual", LPC, week([0], (18, 0), (19, 0))),
        Clinician("alt", "Alex Other", LPC, week([2], (10, 0), (12, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    inst = clinic([person("p1", minimum_minutes=minimum, needs=(individual("p1"),))],
                  clinicians=clinicians)
    for plan in (solve_greedy(inst), solve(inst, QUICK)):
        assert check_plan(inst, plan) == [] and avoidable_changes(inst, plan) == []
        (appt,) = plan.appointments
        assert plan.meeting_minimum(inst) == 1
        if keeps_usual:
            assert (appt.clinician, appt.start) == ("ther", at(0, 18))
            assert "eve-0-g" not in plan.group_bookings["p1"] and plan.therapist_changes == ()
        else:
            assert appt.clinician == "alt" and len(plan.group_bookings["p1"]) == 6
            (change,) = plan.therapist_changes
            assert "clash with the participant's sessions" in change.reason


def test_a_stand_in_in_the_solvers_answer_goes_back_to_the_usual_therapist(monkeypatch):
    """A solver stopped early may leave a stand-in the usual therapist could take; the
    answer is repaired before it is compared. Here the model is told a change costs
    nothing, so it prefers a colleague on the participant's group days (a trip saved);
    the repair gives the appointment back to the usual therapist, free on Wednesday."""
    monkeypatch.setattr(cpsat, "W_THERAPIST_CHANGE", 0)
    clinicians = (
        Clinician("ther", "Therapist", LPC, week([2], (10, 0), (12, 0))),
        Clinician("near", "Near therapist", LPC, week([0, 1, 3], (16, 0), (18, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    inst = clinic([person("p1", needs=(individual("p1"),))], clinicians=clinicians)
    plan = solve(inst, QUICK)
    assert plan.method == "cp-sat" and check_plan(inst, plan) == []
    assert [a.clinician for a in plan.appointments] == ["ther"] and plan.therapist_changes == ()


def _family(pid: str) -> Need:
    return Need(f"{pid}-fam", "family", 50, frozenset({"LMFT"}), room_kind="family",
                rule="family session every two weeks", preferred_clinician="named",
                usual_role="family therapist")


def test_a_family_session_goes_to_the_care_teams_named_family_therapist():
    # Another family therapist works on the participant's group days (a trip saved); the
    # one the care team named works only on Wednesday. The named one takes it.
    clinicians = (
        Clinician("named", "Fran Named", frozenset({"LMFT"}), week([2], (10, 0), (12, 0))),
        Clinician("near", "Nico Near", frozenset({"LMFT"}), week([0, 1, 3], (16, 0), (18, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    inst = clinic([person("p1", needs=(_family("p1"),))], clinicians=clinicians)
    for plan in (solve(inst, QUICK), solve_greedy(inst)):
        assert check_plan(inst, plan) == []
        assert [(a.kind, a.clinician) for a in plan.appointments] == [("family", "named")]
        assert plan.therapist_changes == ()


def test_a_named_family_therapist_who_cannot_take_it_is_named_with_the_reason():
    # Two families due, the named family therapist has one hour left this week.
    clinicians = (
        Clinician("named", "Fran Named", frozenset({"LMFT"}), week([2], (10, 0), (14, 0)),
                  max_weekly_minutes=60),
        Clinician("alt", "Alex Other", frozenset({"LMFT"}), week([2], (10, 0), (14, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    rooms = (Room("GR", "A", 12, "group"), Room("F1", "A", 6, "family"),
             Room("F2", "A", 6, "family"))
    people = [person(f"p{i}", needs=(_family(f"p{i}"),)) for i in range(2)]
    inst = clinic(people, clinicians=clinicians, rooms=rooms)
    for plan in (solve(inst, QUICK), solve_greedy(inst)):
        assert check_plan(inst, plan) == [] and avoidable_changes(inst, plan) == []
        assert sorted(a.clinician for a in plan.appointments) == ["alt", "named"]
        (change,) = plan.therapist_changes
        moved = next(a for a in plan.appointments if a.clinician == "alt")
        assert (change.need, change.kind, change.usual, change.assigned, change.usual_role) == (
            moved.need, "family", "named", "alt", "family therapist")
        assert change.reason == ("Family therapist Fran Named cannot take it this week: "
                                 "Fran Named's weekly maximum of 1 h is reached.")


def test_a_named_family_therapist_off_the_roster_is_named_as_such():
    clinicians = (
        Clinician("alt", "Alex Other", frozenset({"LMFT"}), week([2], (10, 0), (14, 0))),
        Clinician("fac", "Facilitator", frozenset({"CADC"}), week([0, 1, 3], (17, 0), (22, 0))),
    )
    inst = clinic([person("p1", needs=(_family("p1"),))], clinicians=clinicians)
    plan = solve(inst, QUICK)
    (change,) = plan.therapist_changes
    assert change.assigned == "alt"
    assert change.reason == ("The named family therapist cannot take it this week: the usual "
                             "clinician is not on this week's roster.")


def _short_sessions_week():
    """One track of six one-hour sessions with three seats each; five people, each with a
    minimum of four hours and nothing else to do. Greedy seats the first three in all six
    (three at the minimum); four sessions each bring four people to it (16 seats of 18)."""
    groups = []
    for d in (0, 1, 3):
        for k, hour in enumerate((16, 17)):
            groups.append(GroupSession(f"t-{d}-{k}", "teen", "group", at(d, hour), at(d, hour + 1),
                                       "A", 3, 60, "GR", "fac"))
    people = [person(f"p{i}", program="teen", tracks=("teen",), minimum_minutes=240)
              for i in range(5)]
    return clinic(people, groups=groups, tracks=(Track("teen", "teen", "After school"),))


def test_seats_of_a_contended_single_track_go_where_they_bring_people_to_the_minimum():
    inst = _short_sessions_week()
    greedy = solve_greedy(inst)
    assert greedy.meeting_minimum(inst) == 3
    plan = solve(inst, QUICK)
    assert check_plan(inst, plan) == []
    assert plan.meeting_minimum(inst) == 4 and plan.objective < greedy.objective


def test_the_school_week_brings_more_adolescents_to_the_minimum_than_greedy():
    # Adolescents at school until 15:00 share an after-school track with fewer seats than
    # people: six hours for some and nothing for others is what greedy does.
    inst = generate_hard(44, "school", seed=1)
    greedy = solve_greedy(inst)
    # The search stops on deterministic work (0.5), not on the wall clock: with a 5 s wall
    # limit a loaded machine (the suite's other worker, CI) cut a stage short and the plan
    # came out at greedy's share (27 against 27 + 3). Quiet, it ends in about a second.
    plan = solve(inst, SolveSettings(seed=1, time_limit_seconds=60, deterministic_limit=0.5))
    assert check_plan(inst, plan) == [] and avoidable_changes(inst, plan) == []
    assert plan.objective <= greedy.objective
    assert len(plan.appointments) >= len(greedy.appointments)
    assert plan.meeting_minimum(inst) >= greedy.meeting_minimum(inst) + 3


def test_widening_a_need_keeps_every_key_and_adds_its_conflicts():
    inst = generate_hard(44, "school", seed=1)
    options = build_options(inst)
    pid = inst.participants[0].id
    nid = inst.participants[0].needs[0].id
    before = {o.key: (o.clinician, o.start) for o in options.appointments[pid][nid]}
    n_keys = options.next_key
    added = widen(inst, options, frozenset({nid}))
    after = options.appointments[pid][nid]
    assert added == len(after) - len(before) > 0
    assert {o.key: (o.clinician, o.start) for o in after[:len(before)]} == before
    # Each added candidate is a (clinician, start) the list did not have.
    assert len({(o.clinician, o.start) for o in after}) == len(set(before.values())) + added
    assert [o.key for o in after[len(before):]] == list(range(n_keys, options.next_key))
    # The same candidates a fresh uncapped build lists, and a new one never clashes with the
    # participant's sessions unnoticed.
    fresh = build_options(inst, uncapped=frozenset({nid}))
    assert {(o.clinician, o.start) for o in after} == {
        (o.clinician, o.start) for o in fresh.appointments[pid][nid]}
    clashing = {b for a, b in options.conflicts if b >= n_keys} | {
        a for a, b in options.conflicts if a >= n_keys}
    sessions = list(options.groups[pid])
    for o in after[len(before):]:
        if any(g.start < o.end and o.start < g.end for g in sessions):
            assert o.key in clashing


def test_the_benchmarks_upper_bound_is_proven_and_never_below_a_plan():
    from benchmarks.bench_scheduler import seat_upper_bound

    assert seat_upper_bound(_short_sessions_week(), seconds=5) == (4, True)
    inst = generate_hard(44, "school", seed=1)
    bound, proven = seat_upper_bound(inst, seconds=10)
    plan = solve(inst, SolveSettings(seed=1, time_limit_seconds=5, deterministic_limit=0.5))
    assert proven and plan.meeting_minimum(inst) <= bound


def test_the_rebooking_does_bounded_work_per_unbooked_appointment(monkeypatch):
    """Booking around seats decided beforehand, then moving one other appointment for each
    due one left unbooked (greedy._book_the_unbooked), reads a bounded number of candidate
    times per unbooked appointment and one day of one clinician per check, whatever the size
    of the week. It read the moved appointment's whole list on every attempt and the
    clinician's whole week on every check: about 2,000 checks per unbooked appointment and
    about 60 bookings per check on the week after a closure, at 160 and 240 participants
    alike, where it now does about 200 and 11 (counts, not timings: deterministic)."""
    from openiop.scheduling.engine import greedy as greedy_module
    from openiop.scheduling.engine import resources
    from openiop.scheduling.engine.cadence import unmet

    real_book = greedy_module._book_the_unbooked
    real_ok = resources.Ledger.appointment_ok
    real_busy = resources.Ledger.clinician_busy
    counts = {"unbooked": 0, "checks": 0, "read": 0, "inside": 0}

    def book(options, ledger, chosen, conflicts, deadline=None):
        counts["unbooked"] += len(unmet(options, chosen))
        counts["inside"] = 1
        try:
            return real_book(options, ledger, chosen, conflicts, deadline)
        finally:
            counts["inside"] = 0

    def ok(self, o):
        counts["checks"] += counts["inside"]
        return real_ok(self, o)

    def busy(self, o):
        out = real_busy(self, o)
        counts["read"] += len(out) * counts["inside"]
        return out

    monkeypatch.setattr(greedy_module, "_book_the_unbooked", book)
    monkeypatch.setattr(resources.Ledger, "appointment_ok", ok)
    monkeypatch.setattr(resources.Ledger, "clinician_busy", busy)
    for n in (160, 240):
        counts.update(unbooked=0, checks=0, read=0)
        inst = generate_hard(n, "closure", seed=2026)
        options = build_options(inst)
        plain = greedy_module.greedy_choice(inst, options)
        seats = {o.key for lst in options.groups.values() for o in lst if o.key in plain}
        staged = greedy_module.greedy_choice(inst, options, groups=seats)
        # It does book appointments plain greedy left unbooked (that is what it is for).
        assert 0 < len(unmet(options, staged)) < len(unmet(options, plain))
        assert counts["unbooked"] > 20
        assert counts["checks"] <= 600 * counts["unbooked"], (n, counts)
        assert counts["read"] <= 20 * counts["checks"], (n, counts)


def test_the_seat_stage_reaches_the_independent_bound_on_evening_heavy_weeks():
    """Seats and tracks are solved per group of linked tracks, most people at the minimum
    first: on the evening-heavy week (people with daytime jobs, fewer evening seats than
    they need, the other track acceptable) the seat stage brings as many people to the
    minimum as the benchmark's independent bound allows, and never fewer than greedy's
    seats. As one weighted model the search spent its time on the tiers below and stopped
    short of it (209 of 212 at 300 participants in 1 s)."""
    from benchmarks.bench_scheduler import seat_upper_bound
    from openiop.scheduling.engine import greedy as greedy_module
    from openiop.scheduling.engine.tracks import _parts, seats_and_tracks

    inst = generate_hard(132, "evening", seed=2026)
    # Three blocks of the program: three groups of linked tracks, none sharing a session.
    parts = _parts(inst)
    tracks_of = [{t for p in part for t in p.tracks} for part in parts]
    assert all(not (a & b) for i, a in enumerate(tracks_of) for b in tracks_of[i + 1:])
    assert sum(len(part) for part in parts) == len(inst.participants)

    options = build_options(inst)
    greedy = greedy_module.greedy_choice(inst, options)
    seats = seats_and_tracks(inst, options, seconds=5, seed=1, workers=2, fallback=greedy)
    assert seats is not None

    def reaching(chosen):  # every due appointment counted as booked, as both models do
        return sum(
            options.fixed_minutes[p.id] + sum(o.counted for o in options.groups[p.id]
                                              if o.key in chosen)
            + sum(max((o.counted for o in lst), default=0)
                  for lst in options.appointments[p.id].values()) >= p.minimum_minutes
            for p in inst.participants)

    bound, proven = seat_upper_bound(inst, seconds=20)
    assert proven and reaching(seats) == bound > reaching(greedy)
