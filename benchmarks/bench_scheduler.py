"""Scheduler benchmark: CP-SAT against the greedy baseline on generated weeks.

Sizes 60, 300 and 1,000 participants (clinicians, rooms and tracks in proportion; see
openiop.scheduling.engine.generator). Prints the table and writes var/bench/scheduler.json.
Targets (the project's performance goals on a 2-core machine): 300 participants within
30 s with gap <= 2 % and never worse than greedy; 1,000 within 120 s.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from openiop.scheduling.engine import SolveSettings, check_plan, solve, solve_greedy  # noqa: E402
from openiop.scheduling.engine.generator import generate  # noqa: E402

SIZES = ((60, 10.0), (300, 30.0), (1000, 120.0))
SEED = 2026


def run() -> list[dict]:
    results = []
    print(f"{'size':>5} {'limit':>6} | {'cp share':>8} {'objective':>11} {'bound':>11} {'gap':>6} "
          f"{'secs':>6} | {'gr share':>8} {'gr objective':>12} {'secs':>5} | {'obj ratio':>9} "
          f"{'valid':>5}", flush=True)
    for n, limit in SIZES:
        instance = generate(n, seed=SEED)
        t0 = time.perf_counter()
        greedy = solve_greedy(instance)
        greedy_seconds = time.perf_counter() - t0
        plan = solve(instance, SolveSettings(seed=SEED, time_limit_seconds=limit, workers=2))
        valid = not check_plan(instance, plan) and not check_plan(instance, greedy)
        ratio = plan.objective / greedy.objective if greedy.objective else 1.0
        row = {
            "participants": n,
            "share_meeting_minimum": round(plan.share_meeting_minimum(instance), 4),
            "objective": plan.objective,
            "bound": plan.bound,
            "gap": round(plan.gap, 5),
            "solve_seconds": round(plan.solve_seconds, 2),
            "greedy_share_meeting_minimum": round(greedy.share_meeting_minimum(instance), 4),
            "greedy_objective": greedy.objective,
            "due_appointments": sum(len(p.needs) for p in instance.participants),
            "cadence_gaps": len(plan.cadence_gaps),
            "greedy_cadence_gaps": len(greedy.cadence_gaps),
        }
        results.append(row)
        print(f"{n:>5} {limit:>5.0f}s | {row['share_meeting_minimum']:>8.1%} {plan.objective:>11,} "
              f"{plan.bound:>11,} {plan.gap:>6.2%} {plan.solve_seconds:>6.1f} | "
              f"{row['greedy_share_meeting_minimum']:>8.1%} {greedy.objective:>12,} "
              f"{greedy_seconds:>5.1f} | {ratio:>9.4f} {'yes' if valid else 'NO':>5}", flush=True)
        print(f"      status {plan.status} ({plan.method}); below minimum: "
              f"{len(instance.participants) - plan.meeting_minimum(instance)}, "
              f"due appointments booked: {row['due_appointments'] - row['cadence_gaps']} of "
              f"{row['due_appointments']} (greedy: "
              f"{row['due_appointments'] - row['greedy_cadence_gaps']})", flush=True)
    return results


def main() -> None:
    results = run()
    out = ROOT / "var" / "bench" / "scheduler.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    t300 = next(r for r in results if r["participants"] == 300)
    t1000 = next(r for r in results if r["participants"] == 1000)
    print(f"targets: 300 in {t300['solve_seconds']} s (<= 30), gap {t300['gap']:.2%} (<= 2 %), "
          f"objective/greedy {t300['objective'] / max(t300['greedy_objective'], 1):.4f} (<= 1); "
          f"1000 in {t1000['solve_seconds']} s (<= 120)")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
