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

Targets per row (the "target met" column): never worse than greedy on the objective or the
share at minimum; no avoidable therapist change; wall time within the limit + 10 %; peak
memory <= 1 GB up to 1,000 participants and <= 2 GB at 2,000; on evening-heavy weeks of
300 and 1,000, within 2 points of the upper bound. Run it alone on a quiet machine; the load average is printed.

    python benchmarks/bench_scheduler.py                       # everything (long)
    python benchmarks/bench_scheduler.py --sizes 100           # a quick check
    python benchmarks/bench_scheduler.py --sizes 300 --variants evening
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
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
    does not hide here. Reaching the minimum is stated per track (r[p, t]: p reaches it
    with the seats of track t), and two cuts implied by the model are added so that the
    solver proves the optimum instead of returning its linear relaxation, which shares
    seats out fractionally and overstated the bound on contended tracks (adolescents
    after school: 92 % where 78 % is the optimum at 100 participants). For each track,
    the people reaching the minimum in it need, together,
      - at least their missing minutes in its seats: sum_p short_p * r[p, t] <=
        sum_s seats_s * minutes_s;
      - at least as many seats as the fewest of their attendable sessions whose minutes
        cover what they miss (largest first): sum_p fewest_p * r[p, t] <= sum_s seats_s.
    Both hold in every valid plan (a person books at most one seat per session), so the
    optimum is unchanged and still an upper bound."""
    options = build_options(instance)
    capacity = {g.id: g.capacity for g in instance.groups}
    room_cap = {r.id: r.capacity for r in instance.rooms}
    for g in instance.groups:
        if g.room in room_cap:
            capacity[g.id] = min(capacity[g.id], room_cap[g.room])
    m = cp_model.CpModel()
    takers: dict[str, list] = {}
    per_track: dict[str, list[tuple[int, int, object]]] = {}
    reach = []
    for p in instance.participants:
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
        sessions = [g for g in instance.groups if g.track == t]
        m.add(sum(k * r for k, _, r in lst) <= sum(capacity[g.id] for g in sessions))
        m.add(sum(short * r for _, short, r in lst)
              <= sum(capacity[g.id] * g.counted_minutes for g in sessions))
    m.maximize(sum(reach))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = SEED
    status = solver.solve(m)
    return int(solver.best_objective_bound + 1e-6), status == cp_model.OPTIMAL


def continuity(instance: Instance, plan: Plan) -> float:
    usual = {n.id: n.preferred_clinician for p in instance.participants for n in p.needs}
    with_usual = [a for a in plan.appointments if usual.get(a.need)]
    if not with_usual:
        return 1.0
    return sum(1 for a in with_usual if a.clinician == usual[a.need]) / len(with_usual)


def measure(variant: str, n: int, limit: float) -> dict:
    """One row, in its own process."""
    instance = week(variant, n)
    t0 = time.perf_counter()
    greedy = solve_greedy(instance)
    greedy_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    plan = solve(instance, SolveSettings(seed=SEED, time_limit_seconds=limit, workers=2))
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    ub, ub_proven = seat_upper_bound(instance)
    due = sum(len(p.needs) for p in instance.participants)
    people = len(instance.participants)
    valid = not check_plan(instance, plan) and not check_plan(instance, greedy)
    row = {
        "variant": variant,
        "participants": n,
        "time_limit_seconds": limit,
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
        "wall_seconds": round(wall, 2),
        "greedy_seconds": round(greedy_seconds, 2),
        "peak_memory_mb": round(peak / 2 ** 20),
        "valid": valid,
    }
    memory_cap = 2 * GB if n >= 2000 else 1 * GB
    checks = [
        valid,
        plan.objective <= greedy.objective,
        plan.meeting_minimum(instance) >= greedy.meeting_minimum(instance),
        wall <= limit * 1.1,
        peak <= memory_cap,
        row["avoidable_changes"] == 0,
    ]
    if variant == "evening" and n in (300, 1000):
        checks.append(row["upper_bound_share_meeting_minimum"] - row["share_meeting_minimum"] <= 0.02)
    row["target_met"] = all(checks)
    return row


HEADER = (f"{'variant':>9} {'n':>5} {'limit':>5} | {'share':>6} {'greedy':>6} {'upper':>6} | "
          f"{'booked':>11} {'greedy':>6} | {'same thr':>8} {'greedy':>6} {'avoid':>5} | {'gap':>6} "
          f"{'wall s':>7} {'MB':>6} {'status':>15} | target met")


def line(r: dict) -> str:
    return (f"{r['variant']:>9} {r['participants']:>5} {r['time_limit_seconds']:>5.0f} | "
            f"{r['share_meeting_minimum']:>6.1%} {r['greedy_share_meeting_minimum']:>6.1%} "
            f"{r['upper_bound_share_meeting_minimum']:>6.1%} | "
            f"{r['due_booked']:>5}/{r['due_appointments']:<5} {r['greedy_due_booked']:>6} | "
            f"{r['continuity_kept']:>8.1%} {r['greedy_continuity_kept']:>6.1%} "
            f"{r['avoidable_changes']:>5} | {r['gap']:>6.1%} "
            f"{r['wall_seconds']:>7.1f} {r['peak_memory_mb']:>6} {r['status']:>15} | "
            f"{'yes' if r['target_met'] else 'NO'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--variants", nargs="+", default=list(ALL_VARIANTS), choices=ALL_VARIANTS)
    parser.add_argument("--limit", type=float, default=None,
                        help="time limit in seconds for every size (default: per size)")
    args = parser.parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    print(HEADER, flush=True)
    rows = []
    context = multiprocessing.get_context("fork")
    for n in args.sizes:
        for variant in args.variants:
            limit = args.limit or LIMITS.get(n, 60.0)
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                row = pool.submit(measure, variant, n, limit).result()
            rows.append(row)
            print(line(row), flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    out = ROOT / "var" / "bench" / "scheduler.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"load_average": os.getloadavg(), "rows": rows}, indent=2) + "\n")
    met = sum(r["target_met"] for r in rows)
    print(f"targets met: {met} of {len(rows)}; wrote {out.relative_to(ROOT)}")
    return 0 if met == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
