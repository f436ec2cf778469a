"""The CP-SAT model of a week.

Hard constraints (never broken by a returned plan; `verify.check_plan` re-checks them):
- participant availability: no option overlaps a work/school window (filtered in
  options.py) and no two chosen options of one person overlap or leave less than the
  travel time between sites;
- clinician availability (candidates lie inside their working windows and outside the
  groups they facilitate), no double booking (NoOverlap) and maximum weekly load;
- room capacity (groups: seats never exceed the room; appointments: at most as many at
  once as the site has rooms of the needed kind, then rooms are assigned by interval
  partitioning) and group capacity;
- credentials (only clinicians holding one of the need's credentials are candidates);
- cadence: every due appointment is booked exactly once. Before the model is built,
  cadence.py settles which due appointments can be booked at all (and proves it with a
  smaller CP-SAT model when the greedy baseline misses one); only those are required, and
  each one that cannot be is returned as a CadenceGap with the reason.

Objective (a penalty, minimised) in priority order: participants below the minimum, a change
of the usual clinician, minutes short, skipped sessions of their own track, track
continuity, days of travel, balanced groups. See options.W_*.

Deterministic for a seed: a fixed number of workers, `interleave_search` and a
deterministic time limit make the search reproducible; the wall-clock limit is a safety
net. The solver's best bound is returned so the gap is known.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

try:
    import resource
except ImportError:  # not on Windows: the peak memory is then not reported
    resource = None  # type: ignore[assignment]

from .cadence import settle, unmet
from .continuity import keep_usual
from .greedy import changed_needs, greedy_choice
from .model import MINUTES_PER_DAY, Instance, Plan, PlanStatus
from .options import (
    W_BALANCE,
    W_BELOW_MIN,
    W_CONTINUITY,
    W_MOVED,
    W_SHORT_MINUTE,
    W_SKIPPED_GROUP,
    W_THERAPIST_CHANGE,
    W_TRAVEL_DAY,
    W_UNMET_NEED,
    AppointmentOption,
    Options,
    build_options,
    chosen_track,
    score_selection,
    widen,
)
from .plan import make_plan
from .resources import add_appointment_resources, group_capacity
from .tracks import seats_and_tracks


@dataclass(frozen=True)
class SolveSettings:
    seed: int = 2026
    time_limit_seconds: float = 30.0
    workers: int = 2
    # Deterministic work units (roughly seconds on a fast core); the search stops at the
    # first of this and the wall-clock limit, so keep it below the wall limit.
    deterministic_limit: float | None = None
    relative_gap: float = 0.0
    log: bool = False
    relaxation_share: float = 0.15
    # Share of the time limit for proving which cadence rules cannot be met (only used when
    # the greedy baseline leaves a due appointment unbooked).
    cadence_share: float = 0.2
    # Called as progress(phase, best_objective, proven_bound) while the search runs (from a
    # solver thread during the search): the jobs page shows it. Never changes the answer.
    progress: Callable[[str, int | None, int | None], None] | None = field(
        default=None, compare=False, hash=False, repr=False)


class _Reporter(cp_model.CpSolverSolutionCallback):
    """Passes each better solution CP-SAT finds (objective and bound) to `progress`."""

    def __init__(self, progress: Callable[[str, int | None, int | None], None],
                 floor: int) -> None:
        super().__init__()
        self._progress = progress
        self._floor = floor

    def on_solution_callback(self) -> None:
        bound = max(self._floor, int(self.best_objective_bound + 0.999))
        self._progress("Searching for a better plan", int(self.objective_value), bound)


def _report(settings: SolveSettings, phase: str, best: int | None, bound: int | None) -> None:
    if settings.progress is not None:
        settings.progress(phase, best, bound)


class _OutOfTime(Exception):
    """Model building used up its share of the time limit."""


def _peak_mb() -> int | None:
    """The process's peak resident memory so far, in MB (None where unknown)."""
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2 ** 20 if sys.platform == "darwin" else 2 ** 10))  # bytes on macOS


class _Laps:
    """Seconds per step of solve() and the peak memory when each ended (Plan.phases)."""

    def __init__(self, started: float) -> None:
        self._mark = started
        self.seconds: dict[str, float] = {}
        self.peak_mb: dict[str, int | None] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(self.seconds.get(name, 0.0) + now - self._mark, 4)
        self.peak_mb[name] = _peak_mb()
        self._mark = now

    def stamp(self, plan: Plan) -> Plan:
        plan.phases = dict(self.seconds)
        plan.phase_peak_mb = dict(self.peak_mb)
        return plan


def solve(instance: Instance, settings: SolveSettings | None = None) -> Plan:
    """Plan the week with CP-SAT; never returns a plan worse than the greedy baseline.

    Cadence is settled first (cadence.py): every due appointment that can be booked is a
    hard constraint of the model; the ones that cannot are returned as explained gaps.

    Never worse than the starting plan, by construction: the starting plan (greedy's, or
    greedy's groups with the settled appointments when greedy misses a due appointment
    that can be booked) is the complete solution hint, so CP-SAT's first incumbent is that
    plan; and the solver's answer is returned only when it is at least as good on the
    objective (lexicographic tiers folded into one weighted sum) *and* leaves at least as
    many participants at their weekly minimum. Otherwise the starting plan is returned.

    The time limit covers everything (options, settling cadence, building the model, the
    relaxation bound, solving, rooms and explanations): building stops and the starting
    plan is returned when building would eat into the solver's share.
    """
    settings = settings or SolveSettings()
    started = time.perf_counter()
    limit = settings.time_limit_seconds
    laps = _Laps(started)
    options = build_options(instance)
    laps.lap("options")
    greedy = greedy_choice(instance, options)
    # The greedy baseline exactly as solve_greedy() makes it (same options, same choice).
    n_people = len(instance.participants)
    baseline: dict[str, float] = {
        "objective": score_selection(instance, options, greedy)[0],
        "meeting_minimum": _meeting(instance, options, greedy),
        "appointments": sum(1 for lst in options.appointments.values() for opts in lst.values()
                            for o in opts if o.key in greedy),
    }
    baseline["share_meeting_minimum"] = baseline["meeting_minimum"] / n_people if n_people else 1.0
    left = unmet(options, greedy)
    if left:
        # The shortlists could not place these: give them every candidate before deciding
        # that a cadence rule cannot be met.
        # (and the usual clinician's whole week to the appointments greedy gave to a
        # stand-in, so the model sees those times too)
        laps.lap("greedy")
        options = build_options(instance, uncapped=frozenset(left),
                                usual_uncapped=changed_needs(options, greedy))
        laps.lap("options")
        greedy = greedy_choice(instance, options)
    laps.lap("greedy")
    _report(settings, "Checking which due appointments can be booked",
            int(baseline["objective"]), None)
    plain_greedy = greedy
    # Seats and tracks exactly first (tracks.py), then greedy's appointments around them:
    # used as the starting plan when it is better than plain greedy on one measure and not
    # worse on the other.
    seats = seats_and_tracks(instance, options, seed=settings.seed, workers=settings.workers,
                             fallback=greedy,
                             seconds=min(limit * 0.1, max(0.5, limit * 0.4 - (time.perf_counter() - started))))
    laps.lap("seats")
    if seats is not None:
        # Rebooking: greedy's appointments around those seats (moving one other
        # appointment for one left unbooked, widening shortlists), two orders.
        staged = _seats_first(instance, options, seats, greedy,
                              deadline=started + limit * 0.4)
        if staged is not None:
            greedy = staged
    laps.lap("rebooking")
    # Proving which cadence rules cannot be met gets its share while the clock allows it
    # (building that model costs time too); otherwise greedy's misses are reported unproven.
    available = limit * 0.5 - (time.perf_counter() - started)
    cadence_seconds = min(limit * settings.cadence_share, available) if available >= 0.5 else 0.0
    settlement = settle(
        instance, options, greedy, seed=settings.seed, workers=settings.workers,
        seconds=cadence_seconds,
        deterministic=(settings.deterministic_limit * settings.cadence_share
                       if settings.deterministic_limit else None),
    )
    gaps = settlement.gaps
    laps.lap("cadence")
    start = keep_usual(instance, options, _start_from(options, greedy, settlement.start))
    plan_started = time.perf_counter()
    fallback = make_plan(instance, options, start, None, bound=0, status=PlanStatus.GREEDY_FALLBACK,
                         seconds=0.0, method=("greedy" if start == plain_greedy else
                                              "seats-first" if start == greedy else "cadence-first"),
                         gaps=gaps)
    # Turning a selection into a plan (rooms, explanations, therapist changes) is timed
    # here, so that the solver leaves enough time to do it once more at the end.
    plan_seconds = time.perf_counter() - plan_started
    laps.lap("start")

    fallback.baseline = baseline

    def give_fallback(bound: int) -> Plan:
        fallback.bound = min(bound, fallback.objective)
        fallback.solve_seconds = time.perf_counter() - started
        laps.lap("rest")
        return laps.stamp(fallback)

    # Model building may use up to 60 % of the limit; past that, the starting plan stands.
    build_deadline = started + limit * 0.6
    if time.perf_counter() > build_deadline:
        return give_fallback(0)
    try:
        m, x, y, aux_hint = _build(instance, options, start, shared=True, hard=settlement.keep,
                                   deadline=build_deadline)
    except _OutOfTime:
        laps.lap("model")
        return give_fallback(0)
    for key, var in x.items():
        m.add_hint(var, key in start)
    for var, value in aux_hint:
        m.add_hint(var, value)
    laps.lap("model")
    # The limit covers everything: keep time for rooms and explanations afterwards.
    margin = min(3.0, limit * 0.03) + 1.5 * plan_seconds

    # A proven lower bound from the relaxation without shared resources (seats, clinician
    # time, rooms): each participant's own best week. It separates per participant, so it
    # solves fast even when the full model's LP bound is still weak. Skipped when the
    # budget is tight: the solver's own bound is still reported.
    relaxation_bound = 0
    remaining = limit - margin - (time.perf_counter() - started)
    relax_budget = min(limit * settings.relaxation_share, remaining * 0.3)
    if relax_budget >= 1.0:
        relax_started = time.perf_counter()
        try:
            relaxed, _, _, _ = _build(instance, options, start, shared=False,
                                      hard=settlement.keep, deadline=relax_started + relax_budget / 2)
        except _OutOfTime:
            relaxed = None
        if relaxed is not None:
            relax_solver = _solver(settings, relax_budget - (time.perf_counter() - relax_started))
            relax_solver.solve(relaxed)
            relaxation_bound = max(0, int(relax_solver.best_objective_bound + 0.999))
            del relaxed
        laps.lap("relaxation")

    remaining = limit - margin - (time.perf_counter() - started)
    if remaining < 0.5:
        return give_fallback(relaxation_bound)
    remaining *= 0.9  # CP-SAT may overrun its limit a little (presolve, stopping workers)
    solver = _solver(settings, remaining)
    if remaining < 1.0:
        solver.parameters.max_time_in_seconds = remaining
    _report(settings, "Searching for a better plan", fallback.objective, relaxation_bound)
    status = (solver.solve(m, _Reporter(settings.progress, relaxation_bound))
              if settings.progress is not None else solver.solve(m))
    laps.lap("search")

    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # No solution within the limit: the starting plan (the greedy one whenever it
        # meets every placeable cadence rule), with whatever bound was proven.
        return give_fallback(relaxation_bound)
    # Continuity is a rule: a stand-in the usual clinician could replace in the solver's
    # answer (a search stopped by its limit) goes back to the usual clinician.
    chosen = keep_usual(instance, options,
                        {k for k, v in x.items() if solver.boolean_value(v)})
    tracks = {}
    for p in instance.participants:
        for t in p.tracks:
            yt = y[(p.id, t)]
            if isinstance(yt, int) or solver.boolean_value(yt):
                tracks[p.id] = t
                break
    bound = max(int(solver.best_objective_bound + 0.999), relaxation_bound)
    del m, solver
    plan = make_plan(instance, options, chosen, tracks, bound=bound,
                     status=(PlanStatus.OPTIMAL if status == cp_model.OPTIMAL
                             else PlanStatus.FEASIBLE),
                     seconds=0.0, method="cp-sat", gaps=gaps)
    plan.solve_seconds = time.perf_counter() - started
    plan.baseline = baseline
    laps.lap("plan")
    if not_worse(instance, plan, fallback):
        return laps.stamp(plan)
    return give_fallback(bound)


def _seats_first(
    instance: Instance, options: Options, seats: set[int], greedy: set[int], *,
    deadline: float,
) -> set[int] | None:
    """Greedy's appointments booked around the seats decided beforehand, the better of two
    orders (greedy's own, or people the seats bring to the minimum first), when it
    is strictly better than `greedy` and leaves no more due appointments unbooked (cadence
    comes first: a start that books fewer would leave them to the time left). Appointments
    booked around other seats than greedy's may need times past their shortlists' cut
    (greedy's own misses got their whole lists already): those get every candidate
    (options.widen, in place) and the appointments are booked again, a few rounds at
    most. Nothing new is started past `deadline`."""
    misses = len(unmet(options, greedy))
    best: tuple[tuple[int, int], set[int]] | None = None
    for seated_first in (False, True):
        if best is not None and time.perf_counter() > deadline:
            break
        staged = greedy_choice(instance, options, groups=seats, seated_first=seated_first,
                               deadline=deadline)
        for _round in range(3):
            missed = frozenset(unmet(options, staged)) - frozenset(unmet(options, greedy))
            if (not missed or time.perf_counter() > deadline
                    or not widen(instance, options, missed)):
                break
            staged = greedy_choice(instance, options, groups=seats, seated_first=seated_first,
                                   deadline=deadline)
        rank = (len(unmet(options, staged)), score_selection(instance, options, staged)[0])
        if (rank[0] <= misses and _strictly_better(instance, options, staged, greedy)
                and (best is None or rank < best[0])):
            best = (rank, staged)
    return best[1] if best is not None else None


def _strictly_better(instance: Instance, options: Options, a: set[int], b: set[int]) -> bool:
    """Selection `a` is not worse than `b` on the objective nor on participants at the
    minimum, and better on at least one."""
    (obj_a, _), (obj_b, _) = score_selection(instance, options, a), score_selection(instance, options, b)
    meet_a, meet_b = _meeting(instance, options, a), _meeting(instance, options, b)
    return obj_a <= obj_b and meet_a >= meet_b and (obj_a < obj_b or meet_a > meet_b)


def _meeting(instance: Instance, options: Options, chosen: set[int]) -> int:
    count = 0
    for p in instance.participants:
        minutes = options.fixed_minutes[p.id] + sum(o.counted for o in options.groups[p.id]
                                                    if o.key in chosen) + sum(
            o.counted for lst in options.appointments[p.id].values() for o in lst if o.key in chosen)
        count += minutes >= p.minimum_minutes
    return count


def not_worse(instance: Instance, plan: Plan, baseline: Plan) -> bool:
    """`plan` is at least as good as `baseline` on the objective and on how many
    participants reach their weekly minimum (the two measures the planner promises)."""
    return (plan.objective <= baseline.objective
            and plan.meeting_minimum(instance) >= baseline.meeting_minimum(instance))


def _start_from(options: Options, greedy: set[int], appointments: set[int]) -> set[int]:
    """A feasible first plan: the greedy groups plus the settled appointments (greedy's own
    when they are the same), dropping any unpinned group those appointments clash with."""
    greedy_appts = {o.key for lst in options.appointments.values() for opts in lst.values()
                    for o in opts if o.key in greedy}
    if greedy_appts == appointments:
        return set(greedy)
    clash: dict[int, set[int]] = defaultdict(set)
    for a, b in options.conflicts:
        clash[a].add(b)
        clash[b].add(a)
    pinned = {o.key for lst in options.groups.values() for o in lst if o.pinned}
    groups = {k for k in greedy - greedy_appts if k in pinned or not (clash[k] & appointments)}
    return groups | set(appointments)


def _build(
    instance: Instance, options: Options, greedy: set[int], *, shared: bool,
    hard: frozenset[str] = frozenset(), deadline: float | None = None,
) -> tuple[cp_model.CpModel, dict[int, cp_model.IntVar],
           dict[tuple[str, str], cp_model.IntVar | int], list[tuple[cp_model.IntVar, int]]]:
    """The model; with shared=False, only each participant's own terms and constraints
    (no seats, clinician time or rooms), whose optimum is a valid lower bound. Due
    appointments named in `hard` are booked exactly once; the others at most once."""
    m = cp_model.CpModel()
    x: dict[int, cp_model.IntVar] = {}
    for o in options.all_options():
        x[o.key] = m.new_bool_var(f"o{o.key}")
    greedy_index = {x[k].index for k in greedy}
    for a, b in options.conflicts:
        m.add_bool_or([x[a].Not(), x[b].Not()])

    terms: list[tuple[int, cp_model.LinearExprT]] = []
    seats = group_capacity(instance)
    session_takers: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    pinned_count: dict[str, int] = defaultdict(int)
    y: dict[tuple[str, str], cp_model.IntVar | int] = {}
    # Values of the auxiliary variables under the greedy plan, so the hint is complete and
    # CP-SAT starts from the greedy solution (it is never worse than the baseline).
    aux_hint: list[tuple[cp_model.IntVar, int]] = []
    greedy_tracks = {
        p.id: chosen_track(p, [o for o in options.groups[p.id] if o.key in greedy])
        for p in instance.participants
    }
    program_sessions: dict[str, set[str]] = defaultdict(set)

    for n_person, p in enumerate(instance.participants):
        if deadline is not None and n_person % 50 == 0 and time.perf_counter() > deadline:
            raise _OutOfTime
        gopts = options.groups[p.id]
        # Track choice: fixed when the participant has one track.
        if len(p.tracks) > 1:
            for t in p.tracks:
                chose = y[(p.id, t)] = m.new_bool_var(f"y{p.id}:{t}")
                aux_hint.append((chose, int(greedy_tracks[p.id] == t)))
            m.add_exactly_one([y[(p.id, t)] for t in p.tracks])
        elif p.tracks:
            y[(p.id, p.tracks[0])] = 1
        for o in gopts:
            yt = y[(p.id, o.track)]
            if o.pinned:
                m.add(x[o.key] == 1)
                pinned_count[o.session.id] += 1
                if not isinstance(yt, int):
                    m.add(yt == 1)
            elif not isinstance(yt, int):
                m.add_implication(x[o.key], yt)
            session_takers[o.session.id].append(x[o.key])
            program_sessions[p.program].add(o.session.id)
        # Skipped sessions of the chosen track, and continuity of track.
        if p.tracks:
            attend = sum(options.attendable.get((p.id, t), 0) * y[(p.id, t)] for t in p.tracks)
            terms.append((W_SKIPPED_GROUP, attend - sum(x[o.key] for o in gopts)))
            if len(p.tracks) > 1:
                terms.append((W_CONTINUITY, 1 - y[(p.id, p.tracks[0])]))

        # Appointments: at most one candidate per due need.
        appt_x: list[tuple[AppointmentOption, cp_model.IntVar]] = []
        for nid, lst in options.appointments[p.id].items():
            chosen = [x[o.key] for o in lst]
            if nid in hard:
                m.add_exactly_one(chosen)  # cadence rule: a hard constraint
            else:
                if chosen:
                    m.add_at_most_one(chosen)
                terms.append((W_UNMET_NEED, 1 - sum(chosen)))
            if lst and lst[0].need.preferred_clinician:
                others = [x[o.key] for o in lst if not o.preferred]
                if others:
                    terms.append((W_THERAPIST_CHANGE, sum(others)))
            if lst and lst[0].need.current:
                # Stability: an appointment already in the calendar stays where it is.
                terms.append((W_MOVED, 1 - sum(x[o.key] for o in lst if o.is_current)))
            appt_x.extend((o, x[o.key]) for o in lst)

        # Weekly minutes and the minimum.
        counted = [(o.counted, x[o.key]) for o in gopts if o.counted] + [
            (o.counted, v) for o, v in appt_x if o.counted
        ]
        fixed = options.fixed_minutes[p.id]
        best_case = fixed + sum(c for c, _ in counted)
        need = p.minimum_minutes
        if fixed >= need:
            pass
        elif best_case < need:
            terms.append((W_BELOW_MIN, 1))
            terms.append((W_SHORT_MINUTE, need - fixed - sum(c * v for c, v in counted)))
        else:
            short = m.new_int_var(0, need, f"short{p.id}")
            below = m.new_bool_var(f"below{p.id}")
            m.add(short >= need - fixed - sum(c * v for c, v in counted))
            m.add(short <= need * below)
            greedy_minutes = fixed + sum(c for c, v in counted if v.index in greedy_index)
            aux_hint.append((short, max(0, need - greedy_minutes)))
            aux_hint.append((below, int(greedy_minutes < need)))
            terms.append((W_BELOW_MIN, below))
            terms.append((W_SHORT_MINUTE, short))

        # Travel days.
        by_day: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for o in gopts:
            by_day[o.start // MINUTES_PER_DAY].append(x[o.key])
        for o, v in appt_x:
            by_day[o.start // MINUTES_PER_DAY].append(v)
        for day, lits in by_day.items():
            if day in options.fixed_days[p.id]:
                continue
            d = m.new_bool_var(f"d{p.id}:{day}")
            for lit in lits:
                m.add_implication(lit, d)
            m.add_bool_or([*lits, d.Not()])
            aux_hint.append((d, int(any(lit.index in greedy_index for lit in lits))))
            terms.append((W_TRAVEL_DAY, d))
        terms.append((W_TRAVEL_DAY, len(options.fixed_days[p.id])))

    if not shared:
        m.minimize(sum(w * t for w, t in terms))
        return m, x, y, aux_hint
    # Group capacity (seats never exceed the session's or the room's capacity).
    for sid, takers in session_takers.items():
        m.add(sum(takers) <= max(seats.get(sid, 0), pinned_count[sid]))

    # Balanced groups: the largest session of each program.
    for program, sids in program_sessions.items():
        cap = max((seats.get(s, 0) for s in sids), default=0)
        biggest = m.new_int_var(0, max(cap, max((pinned_count[s] for s in sids), default=0)),
                                f"bal{program}")
        for s in sids:
            m.add(biggest >= sum(session_takers[s]))
        aux_hint.append((biggest, max(
            (sum(1 for v in session_takers[s] if v.index in greedy_index) for s in sids), default=0)))
        terms.append((W_BALANCE, biggest))

    if deadline is not None and time.perf_counter() > deadline:
        raise _OutOfTime
    add_appointment_resources(m, instance, options, x)
    if deadline is not None and time.perf_counter() > deadline:
        raise _OutOfTime

    m.minimize(sum(w * t for w, t in terms))
    return m, x, y, aux_hint


def _solver(settings: SolveSettings, seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = settings.workers
    prm.random_seed = settings.seed
    prm.interleave_search = True
    prm.max_time_in_seconds = max(1.0, seconds)
    prm.max_deterministic_time = settings.deterministic_limit or max(1.0, seconds) * 0.8
    prm.relative_gap_limit = settings.relative_gap
    prm.log_search_progress = settings.log
    # Probing in presolve costs seconds per pass on 25k Booleans and finds little here:
    # the conflicts are pairwise clauses and at-most-ones already (measured, make bench).
    prm.cp_model_probing_level = 0
    prm.symmetry_level = 0
    return solver
