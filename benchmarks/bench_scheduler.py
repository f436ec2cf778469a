"""Scheduler benchmark: CP-SAT next to the greedy baseline on hard generated weeks.

Variants (openiop.scheduling.engine.hard_weeks): contended clinicians and rooms, evening-heavy
adults with an acceptable alternative track, adolescents at school until 15:00, the week
after a closure; plus the plain generated week. Sizes 100, 300, 1,000 and 2,000
participants. Each (variant, size) runs in its own process, so its peak memory (the
process's maximum resident set, which includes OR-Tools' C++ memory) is its own.

For each row, next to greedy: share of participants at the weekly minimum, due
appointments booked, continuity kept (appointments with the usual clinician; a change the
usual clinician could have taken fails the row), wall time including options, settling,
model building and explanations, peak memory, the solver's bound, and an independent
upper bound on the share at the minimum (an exact seat and track model that ignores
clinicians, rooms for appointments and clashes with appointments).

The wall time is solve() and check_plan() together, as "Plan next week" runs them; the
seconds of each step inside (plan.phases: options, greedy, seats, rebooking, cadence, start,
model, relaxation, search, plan) and the peak memory when each ended are in the JSON, and
the rebooking step (greedy's appointments around the seats, moving one other appointment
for one left unbooked, widening shortlists) has its own column.

Targets per row (the "target met" column, computed from the row's measured figures; the
JSON names the ones missed): valid plans; never worse than greedy on the objective, the
people at the minimum and the due appointments booked; no avoidable therapist change;
wall time within the limit + 10 %; peak memory <= 1 GB up to 1,000 participants and
<= 2 GB above; on evening-heavy weeks of 300 and 1,000, within 2 points of the upper
bound. Exits 1 when any row misses a target (a run that dies is such a row). Run it alone
on a quiet machine; the load average is printed and stored.

    python benchmarks/bench_scheduler.py                       # everything (long)
    python benchmarks/bench_scheduler.py --sizes 100           # a quick check
    python benchmarks/bench_scheduler.py --sizes 300 --variants evening
    BENCH_SCHEDULER_SIZES=300,1000,2000 scripts/bench.sh scheduler
    python benchmarks/bench_scheduler.py --scaling --sizes 100,200,400 --limit 5
                                     # seconds per step as the week grows (no targets)
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ortools.sat.python import cp_model  # noqa: E402

from openiop.scheduling.engine import (  # noqa: E402
    Instance,
    Plan,
    SolveSettings,
    check_plan,
    solve,
    solve_greedy,
)
from openiop.scheduling.engine.generator import generate  # noqa: E402
from openiop.scheduling.engine.hard_weeks import VARIANTS, generate_hard  # noqa: E402
from openiop.scheduling.engine.options import build_options  # noqa: E402
from openiop.scheduling.engine.verify import avoidable_changes  # noqa: E402

SIZES = (100, 300, 1000, 2000)
LIMITS = {100: 20.0, 300: 30.0, 1000: 60.0, 2000: 120.0}
ALL_VARIANTS = ("plain", *VARIANTS)
SEED = 2026
GB = 1024 ** 3


def week(variant: str, n: int) -> Instance:
    return generate(n, seed=SEED) if variant == "plain" else generate_hard(n, variant, seed=SEED)


def seat_upper_bound(instance: Instance, seconds: float = 30.0) -> tuple[int, bool]:
    """Most participants who can reach the minimum when only group seats and the choice of
    one track limit them: every due appointment is assumed booked (no clinician limits,
    rooms or clashes). Any valid plan is a solution of this model, so its optimum (or the
    solver's proven bound) is an upper bound. Returns (bound, proven optimal).

    Written apart from the planner's own seat stage (tracks.py), so that a mistake there
    does not hide here. People share seats only with people whose tracks are linked to
    theirs (a person's tracks, and the sessions of those tracks), so the model is solved
    for each such group of tracks on its own and the bounds are added up: as one model
    over the week, the evening-heavy week of 300 stopped at a bound of 217 after 30 s
    without proving it; each group alone is proven in well under a second."""
    options = build_options(instance)
    capacity = {g.id: g.capacity for g in instance.groups}
    room_cap = {r.id: r.capacity for r in instance.rooms}
    for g in instance.groups:
        if g.room in room_cap:
            capacity[g.id] = min(capacity[g.id], room_cap[g.room])
    sessions_of: dict[str, list] = {}
    for g in instance.groups:
        sessions_of.setdefault(g.track, []).append(g)
    # Groups of linked tracks (union-find over each person's tracks).
    link: dict[str, str] = {}

    def top(t: str) -> str:
        while link.setdefault(t, t) != t:
            t = link[t]
        return t

    for p in instance.participants:
        for t in p.tracks[1:]:
            link[top(t)] = top(p.tracks[0])
    people: dict[str, list] = {}
    total, proven = 0, True
    for p in instance.participants:
        if p.tracks:
            people.setdefault(top(p.tracks[0]), []).append(p)
        else:  # no seat to give: reaches the minimum with its appointments or not at all
            total += _reaches_without_seats(options, p)
    started = time.perf_counter()
    for group in people.values():
        left = max(1.0, seconds - (time.perf_counter() - started))
        bound, optimal = _group_upper_bound(group, options, capacity, sessions_of, left)
        total += bound
        proven = proven and optimal
    return total, proven


def _reaches_without_seats(options, p) -> int:
    appt = sum(max((o.counted for o in lst), default=0)
               for lst in options.appointments[p.id].values())
    return int(options.fixed_minutes[p.id] + appt >= p.minimum_minutes)


def _group_upper_bound(group, options, capacity, sessions_of, seconds) -> tuple[int, bool]:
    """The bound for one group of linked tracks (see seat_upper_bound). Reaching the
    minimum is stated per track (r[p, t]: p reaches it with the seats of track t), and two
    cuts implied by the model are added so that the solver proves the optimum instead of
    returning its linear relaxation, which shares seats out fractionally and overstated
    the bound on contended tracks (adolescents after school: 92 % where 78 % is the
    optimum at 100 participants). For each track, the people reaching the minimum in it
    need, together,
      - at least their missing minutes in its seats: sum_p short_p * r[p, t] <=
        sum_s seats_s * minutes_s;
      - at least as many seats as the fewest of their attendable sessions whose minutes
        cover what they miss (largest first): sum_p fewest_p * r[p, t] <= sum_s seats_s.
    Both hold in every valid plan (a person books at most one seat per session), so the
    optimum is unchanged and still an upper bound."""
    m = cp_model.CpModel()
    takers: dict[str, list] = {}
    per_track: dict[str, list[tuple[int, int, object]]] = {}
    reach = []
    for p in group:
        appt = sum(max((o.counted for o in lst), default=0)
                   for lst in options.appointments[p.id].values())
        base = options.fixed_minutes[p.id] + appt
        if base >= p.minimum_minutes:
            reach.append(1)
            continue
        short = p.minimum_minutes - base
        y = {t: m.new_bool_var(f"y{p.id}{t}") for t in p.tracks}
        if y:
            m.add_exactly_one(y.values())
        seats: dict[str, list] = {}
        for o in options.groups[p.id]:
            s = m.new_bool_var(f"s{o.key}")
            m.add_implication(s, y[o.track])
            takers.setdefault(o.session.id, []).append(s)
            seats.setdefault(o.track, []).append((o.counted, s))
        ways = []
        for t, lst in seats.items():
            counted = sorted((c for c, _ in lst), reverse=True)
            if sum(counted) < short:
                continue
            r = m.new_bool_var(f"r{p.id}{t}")
            m.add_implication(r, y[t])
            m.add(sum(c * s for c, s in lst) >= short).only_enforce_if(r)
            fewest = next(i for i in range(1, len(counted) + 1) if sum(counted[:i]) >= short)
            per_track.setdefault(t, []).append((fewest, short, r))
            ways.append(r)
        if ways:
            z = m.new_bool_var(f"z{p.id}")
            m.add(sum(ways) == z)
            reach.append(z)
    for sid, lst in takers.items():
        m.add(sum(lst) <= capacity[sid])
    for t, lst in per_track.items():
        sessions = sessions_of.get(t, [])
        m.add(sum(k * r for k, _, r in lst) <= sum(capacity[g.id] for g in sessions))
        m.add(sum(short * r for _, short, r in lst)
              <= sum(capacity[g.id] * g.counted_minutes for g in sessions))
    m.maximize(sum(reach))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = SEED
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # Nothing proven: everyone in the group is counted as reaching the minimum.
        return len(group), False
    return int(solver.best_objective_bound + 1e-6), status == cp_model.OPTIMAL


def continuity(instance: Instance, plan: Plan) -> float:
    usual = {n.id: n.preferred_clinician for p in instance.participants for n in p.needs}
    with_usual = [a for a in plan.appointments if usual.get(a.need)]
    if not with_usual:
        return 1.0
    return sum(1 for a in with_usual if a.clinician == usual[a.need]) / len(with_usual)


def measure(variant: str, n: int, limit: float) -> dict:
    """One row, in its own process. The planner runs first, as "Plan next week" does
    (services.plans.plan_week: solve, then check_plan), so that its wall time and the
    process's peak memory are its own; greedy and the upper bound run after that."""
    instance = week(variant, n)
    t0 = time.perf_counter()
    plan = solve(instance, SolveSettings(seed=SEED, time_limit_seconds=limit, workers=2))
    solved = time.perf_counter()
    problems = check_plan(instance, plan)
    wall = time.perf_counter() - t0
    check_seconds = time.perf_counter() - solved
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    t0 = time.perf_counter()
    greedy = solve_greedy(instance)
    greedy_seconds = time.perf_counter() - t0
    ub, ub_proven = seat_upper_bound(instance)
    due = sum(len(p.needs) for p in instance.participants)
    people = len(instance.participants)
    valid = not problems and not check_plan(instance, greedy)
    phases = dict(plan.phases, check=round(check_seconds, 4))
    row = {
        "variant": variant,
        "participants": n,
        "time_limit_seconds": limit,
        "meeting_minimum": plan.meeting_minimum(instance),
        "greedy_meeting_minimum": greedy.meeting_minimum(instance),
        "upper_bound_meeting_minimum": ub,
        "share_meeting_minimum": round(plan.share_meeting_minimum(instance), 4),
        "greedy_share_meeting_minimum": round(greedy.share_meeting_minimum(instance), 4),
        "upper_bound_share_meeting_minimum": round(ub / people, 4),
        "upper_bound_proven": ub_proven,
        "due_appointments": due,
        "due_booked": len(plan.appointments),
        "greedy_due_booked": len(greedy.appointments),
        "continuity_kept": round(continuity(instance, plan), 4),
        "greedy_continuity_kept": round(continuity(instance, greedy), 4),
        "therapist_changes": len(plan.therapist_changes),
        "greedy_therapist_changes": len(greedy.therapist_changes),
        # Changes the usual clinician could have taken (the continuity rule, re-checked).
        "avoidable_changes": len(avoidable_changes(instance, plan)),
        "greedy_avoidable_changes": len(avoidable_changes(instance, greedy)),
        "objective": plan.objective,
        "greedy_objective": greedy.objective,
        "bound": plan.bound,
        "gap": round(plan.gap, 5),
        "status": plan.status,
        "method": plan.method,
        "track_moves": len(plan.track_moves(instance)),
        # Wall time of solve() and check_plan together: options, greedy, seats, rebooking,
        # cadence, model building, search, rooms, explanations and the plan check.
        "wall_seconds": round(wall, 2),
        # Seconds per step (plan.phases, then the check), and the process's peak memory
        # when each step ended: the rebooking step is "rebooking".
        "phase_seconds": phases,
        "phase_peak_mb": dict(plan.phase_peak_mb),
        "rebooking_seconds": round(plan.phases.get("rebooking", 0.0), 2),
        "rebooking_peak_mb": plan.phase_peak_mb.get("rebooking"),
        "greedy_seconds": round(greedy_seconds, 2),
        "peak_memory_mb": round(peak / 2 ** 20),
        "memory_cap_mb": round(memory_cap(n) / 2 ** 20),
        "valid": valid,
    }
    row["targets_missed"] = missed_targets(row)
    row["target_met"] = not row["targets_missed"]
    return row


def memory_cap(n: int) -> int:
    """Peak memory allowed: 1 GB up to 1,000 participants, 2 GB above (2,000)."""
    return 2 * GB if n > 1000 else 1 * GB


def missed_targets(row: dict) -> list[str]:
    """The targets a row misses, by name (empty when every target is met). Computed from
    the row's own measured figures, so that the JSON shows why a row failed."""
    n, limit = row["participants"], row["time_limit_seconds"]
    checks = {
        "valid plans": row["valid"],
        "objective not worse than greedy": row["objective"] <= row["greedy_objective"],
        "share at minimum not below greedy's":
            row["meeting_minimum"] >= row["greedy_meeting_minimum"],
        "due appointments not fewer than greedy's": row["due_booked"] >= row["greedy_due_booked"],
        "wall time within the limit + 10 %": row["wall_seconds"] <= limit * 1.1,
        "peak memory within the cap": row["peak_memory_mb"] <= row["memory_cap_mb"],
        "no avoidable therapist change": row["avoidable_changes"] == 0,
    }
    if row["variant"] == "evening" and n in (300, 1000):
        checks["within 2 points of the upper bound"] = (
            row["upper_bound_meeting_minimum"] - row["meeting_minimum"] <= 0.02 * n)
    return [name for name, ok in checks.items() if not ok]


HEADER = (f"{'variant':>9} {'n':>5} {'limit':>5} | {'share':>6} {'greedy':>6} {'upper':>6} | "
          f"{'booked':>11} {'greedy':>6} | {'same thr':>8} {'greedy':>6} {'avoid':>5} | {'gap':>6} "
          f"{'wall s':>7} {'rebook s':>8} {'MB':>6} {'status':>15} | target met")


def line(r: dict) -> str:
    if "error" in r:
        return (f"{r['variant']:>9} {r['participants']:>5} {r['time_limit_seconds']:>5.0f} | "
                f"{r['error']} | NO")
    return (f"{r['variant']:>9} {r['participants']:>5} {r['time_limit_seconds']:>5.0f} | "
            f"{r['share_meeting_minimum']:>6.1%} {r['greedy_share_meeting_minimum']:>6.1%} "
            f"{r['upper_bound_share_meeting_minimum']:>6.1%} | "
            f"{r['due_booked']:>5}/{r['due_appointments']:<5} {r['greedy_due_booked']:>6} | "
            f"{r['continuity_kept']:>8.1%} {r['greedy_continuity_kept']:>6.1%} "
            f"{r['avoidable_changes']:>5} | {r['gap']:>6.1%} "
            f"{r['wall_seconds']:>7.1f} {r['rebooking_seconds']:>8.2f} {r['peak_memory_mb']:>6} "
            f"{r['status']:>15} | "
            + ("yes" if r["target_met"] else "NO: " + "; ".join(r["targets_missed"])))


def steps(variant: str, n: int, limit: float) -> dict:
    """The planner's seconds per step and peak memory, without greedy or the bound."""
    instance = week(variant, n)
    plan = solve(instance, SolveSettings(seed=SEED, time_limit_seconds=limit, workers=2))
    t0 = time.perf_counter()
    check_plan(instance, plan)
    return {"variant": variant, "participants": n, "time_limit_seconds": limit,
            "phase_seconds": dict(plan.phases, check=round(time.perf_counter() - t0, 4)),
            "phase_peak_mb": dict(plan.phase_peak_mb)}


def run_row(variant: str, n: int, limit: float, task: Callable[[str, int, float], dict] = measure,
            ) -> dict:
    """`task` (measure) in a fresh process; a process that dies (out of memory, a crash) is
    a row that misses its targets, not the end of the run."""
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            return pool.submit(task, variant, n, limit).result()
    except BrokenProcessPool as exc:
        return {"variant": variant, "participants": n, "time_limit_seconds": limit,
                "error": f"the run died ({exc or 'killed'})", "target_met": False,
                "targets_missed": ["the run finished"]}


# Steps whose time is not capped by the time limit (the search and the relaxation are).
UNCAPPED_STEPS = ("options", "greedy", "seats", "rebooking", "cadence", "start", "model",
                  "plan", "check")


def scaling(variants: list[str], sizes: list[int], limit: float) -> int:
    """Seconds per step at growing sizes (a quick check for a step that grows faster than
    the week: doubling the participants should about double a linear step, a quadratic
    one quadruples). Prints the growth per doubling of the steps not capped by the limit;
    flags (without failing) a step that grows more than 3x per doubling above 0.2 s."""
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    flagged = []
    for variant in variants:
        rows = [run_row(variant, n, limit, steps) for n in sizes]
        print(f"{variant}: seconds per step at {', '.join(map(str, sizes))} participants "
              f"(limit {limit:g} s); growth per doubling of the size", flush=True)
        for step in UNCAPPED_STEPS:
            secs = [r.get("phase_seconds", {}).get(step, 0.0) for r in rows]
            growth = []
            for i in range(1, len(sizes)):
                (n0, s0), (n1, s1) = (sizes[i - 1], secs[i - 1]), (sizes[i], secs[i])
                per_doubling = (s1 / s0) ** (1 / math.log2(n1 / n0)) if s0 > 0.01 and n1 > n0 else None
                growth.append(per_doubling)
                if per_doubling and per_doubling > 3 and s1 > 0.2:
                    flagged.append(f"{variant} {step} {n0}->{n1}: x{per_doubling:.1f}")
            print(f"  {step:>10} " + " ".join(f"{x:>8.3f}" for x in secs) + "   "
                  + " ".join("    -" if g is None else f"x{g:>4.1f}" for g in growth), flush=True)
        for label, pick in (("after rebooking", lambda peaks: peaks.get("rebooking")),
                            ("at the end", lambda peaks: max(
                                (v for v in peaks.values() if v is not None), default=None))):
            mbs = [pick(r.get("phase_peak_mb", {})) for r in rows]
            print(f"  {'peak MB':>10} " + " ".join(f"{x or 0:>8}" for x in mbs)
                  + f"   ({label})", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    print("steps growing faster than 3x per doubling: " + (", ".join(flagged) or "none"))
    return 0


def _sizes(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.replace(",", " ").split()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=None,
                        help="participants per week, e.g. 300,1000,2000 (default: "
                             "BENCH_SCHEDULER_SIZES or 100,300,1000,2000)")
    parser.add_argument("--variants", nargs="+", default=None, choices=ALL_VARIANTS,
                        help="default: BENCH_SCHEDULER_VARIANTS or all")
    parser.add_argument("--limit", type=float, default=None,
                        help="time limit in seconds for every size (default: "
                             "BENCH_SCHEDULER_LIMIT or per size)")
    parser.add_argument("--scaling", action="store_true",
                        help="seconds per step at each size instead of the target table "
                             "(e.g. --scaling --sizes 100,200,400 --limit 5)")
    args = parser.parse_args(argv)
    sizes = args.sizes or _sizes(os.environ.get("BENCH_SCHEDULER_SIZES", "")) or list(SIZES)
    variants = args.variants or os.environ.get("BENCH_SCHEDULER_VARIANTS", "").replace(",", " ").split() \
        or list(ALL_VARIANTS)
    unknown = set(variants) - set(ALL_VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(sorted(unknown))}; choose from {', '.join(ALL_VARIANTS)}")
    fixed_limit = args.limit or (float(os.environ["BENCH_SCHEDULER_LIMIT"])
                                 if os.environ.get("BENCH_SCHEDULER_LIMIT") else None)
    if args.scaling:
        return scaling(variants, sizes, fixed_limit or 5.0)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    print(HEADER, flush=True)
    rows = []
    for n in sizes:
        for variant in variants:
            limit = fixed_limit or LIMITS.get(n, 60.0)
            row = run_row(variant, n, limit)
            rows.append(row)
            print(line(row), flush=True)
    load_after = os.getloadavg()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in load_after)}", flush=True)
    out = ROOT / "var" / "bench" / "scheduler.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"load_average": load_after, "cpus": os.cpu_count(),
                               "rows": rows}, indent=2) + "\n")
    met = sum(r["target_met"] for r in rows)
    print(f"targets met: {met} of {len(rows)}; wrote {out.relative_to(ROOT)}")
    return 0 if met == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
