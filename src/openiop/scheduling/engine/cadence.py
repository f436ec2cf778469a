"""Cadence rules as hard constraints: which due appointments every plan must book.

The cadence rules are hard constraints (individual therapy weekly, a family session every
two weeks when family involvement is consented, medication review at the prescriber's
cadence: program policies with defaults in scheduling/planning.py). A hard constraint that
cannot be met makes the week infeasible, and an infeasible week must be explained, not
planned around in silence. So the engine settles cadence first:

1. Due appointments without a single candidate (no credentialed clinician, no room of the
   kind, no clinician time outside the participant's commitments) are infeasible on their
   face.
2. When the greedy baseline books every other due appointment, all of them are hard.
3. Otherwise a CP-SAT model of the appointments alone (every candidate of the unplaced
   needs, clinicians' time and load, rooms, each person's own clashes and pinned sessions)
   finds the largest set of due appointments that fit together. When it proves that set
   optimal, the rest are infeasible in any plan; each gets a plain-words reason built from
   what blocks every one of its candidate times.

The main model then requires every appointment of the kept set exactly once.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from .explain import describe_windows
from .model import MINUTES_PER_DAY, CadenceGap, Clinician, Instance, Need, Participant, fmt_hours
from .options import AppointmentOption, Options
from .resources import add_appointment_resources, fixed_room_use, peak_use, room_pools


@dataclass
class CadenceSettlement:
    keep: frozenset[str]  # need ids every plan must book
    gaps: tuple[CadenceGap, ...]  # the due appointments no plan can book, explained
    start: set[int] = field(default_factory=set)  # appointment keys that book `keep`
    proven: bool = True
    seconds: float = 0.0


def unmet(options: Options, chosen: set[int]) -> list[str]:
    return [nid for p in sorted(options.appointments) for nid, lst in options.appointments[p].items()
            if not any(o.key in chosen for o in lst)]


def settle(
    instance: Instance,
    options: Options,
    greedy: set[int],
    *,
    seed: int,
    workers: int,
    seconds: float,
    deterministic: float | None = None,
) -> CadenceSettlement:
    """Decide which due appointments are hard and explain the ones that cannot be met."""
    started = time.perf_counter()
    people = {p.id: p for p in instance.participants}
    needs = {n.id: (people[pid], n) for pid in sorted(options.appointments) for n in people[pid].needs}
    faceless = {nid for pid in options.appointments
                for nid, lst in options.appointments[pid].items() if not lst}
    gaps = [_gap(needs[nid], options.no_candidate.get(nid, "no candidate time"),
                 _face_suggestion(options.no_candidate.get(nid, "")), proven=True)
            for nid in sorted(faceless)]
    left = [nid for nid in unmet(options, greedy) if nid not in faceless]
    placeable = frozenset(nid for nid in needs if nid not in faceless)
    greedy_appts = {o.key for pid in options.appointments for lst in options.appointments[pid].values()
                    for o in lst if o.key in greedy}
    if not left:
        return CadenceSettlement(placeable, tuple(gaps), greedy_appts, True,
                                 time.perf_counter() - started)

    # Which appointment options each person's pinned sessions rule out (pinned groups are
    # kept whatever the plan, so those candidate times are gone).
    pinned_keys = {o.key for lst in options.groups.values() for o in lst if o.pinned}
    blocked_by_pin: set[int] = set()
    clash: dict[int, set[int]] = defaultdict(set)
    for a, b in options.conflicts:
        clash[a].add(b)
        clash[b].add(a)
        if a in pinned_keys:
            blocked_by_pin.add(b)
        if b in pinned_keys:
            blocked_by_pin.add(a)

    status, solved = (_solve_appointments(instance, options, greedy_appts, blocked_by_pin, seed=seed,
                                          workers=workers, deadline=started + seconds,
                                          deterministic=deterministic)
                      if seconds > 0 else (cp_model.UNKNOWN, set()))
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        # Nothing better than the greedy baseline was found in time: its misses are reported
        # as gaps, and said to be unproven.
        chosen = greedy_appts
        proven = False
    else:
        chosen = solved
        proven = status == cp_model.OPTIMAL
        if len(unmet(options, chosen)) >= len(unmet(options, greedy)):
            chosen = greedy_appts  # no more needs met than greedy: keep its week intact
    missed = [nid for nid in unmet(options, chosen) if nid not in faceless]
    total = len(needs)
    fitted = total - len(missed) - len(faceless)
    context = _WhyContext.build(instance, options, chosen) if missed else None
    for nid in missed:
        p, need = needs[nid]
        reason, suggestion = _why(context, options, p, need, chosen, clash, blocked_by_pin)
        if proven and options.truncated:
            # Some candidate lists were cut (options.MAX_UNCAPPED_CANDIDATES): the solver's
            # answer is optimal for the candidates it saw, not a proof about the week.
            reason += " (not placed among the times tried; not proven impossible)"
            gaps.append(_gap((p, need), reason, suggestion, proven=False))
            continue
        if proven:
            reason += (f" (the solver proved that at most {fitted} of the week's {total} due "
                       "appointments can be booked together)")
        else:
            reason += " (not placed within the time limit; not proven impossible)"
        gaps.append(_gap((p, need), reason, suggestion, proven=proven))
    return CadenceSettlement(placeable - set(missed), tuple(gaps), chosen, proven,
                             time.perf_counter() - started)


def _solve_appointments(
    instance: Instance, options: Options, greedy_appts: set[int], blocked_by_pin: set[int], *,
    seed: int, workers: int, deadline: float, deterministic: float | None,
) -> tuple[cp_model.CpSolverStatus | int, set[int]]:
    """The appointments-only model: the most due appointments that fit together. Building
    it counts against the step's time: the solver gets what is left before `deadline`
    (on the school week of 300, building and solving took 9.8 s of a 6 s share, and the
    full model then had no time left), and nothing is solved when building used it up."""
    m = cp_model.CpModel()
    x: dict[int, cp_model.IntVar] = {}
    per_need: dict[str, list[cp_model.IntVar]] = {}
    for pid in sorted(options.appointments):
        for nid, lst in options.appointments[pid].items():
            vs = []
            for o in lst:
                if o.key in blocked_by_pin:
                    continue
                x[o.key] = m.new_bool_var(f"a{o.key}")
                vs.append(x[o.key])
            per_need[nid] = vs
            if vs:
                m.add_at_most_one(vs)
    for a, b in options.conflicts:
        if a in x and b in x:
            m.add_bool_or([x[a].Not(), x[b].Not()])
    add_appointment_resources(m, instance, options, x)
    met = [m.new_bool_var(f"met{nid}") for nid in sorted(per_need)]
    for lit, nid in zip(met, sorted(per_need), strict=True):
        m.add(sum(per_need[nid]) >= 1).only_enforce_if(lit)
    m.maximize(sum(met))
    for key, var in x.items():
        m.add_hint(var, key in greedy_appts)

    seconds = deadline - time.perf_counter()
    if seconds < 0.2:
        return cp_model.UNKNOWN, set()
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = workers
    prm.random_seed = seed
    prm.interleave_search = True
    prm.max_time_in_seconds = seconds
    prm.max_deterministic_time = deterministic or seconds * 0.8
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return status, set()
    return status, {k for k, v in x.items() if solver.boolean_value(v)}


def _gap(pn: tuple[Participant, Need], reason: str, suggestion: str, *, proven: bool) -> CadenceGap:
    p, need = pn
    rule = need.rule or f"{need.kind} appointment"
    return CadenceGap(need.id, p.id, need.kind, rule, reason, suggestion, proven)


def _face_suggestion(reason: str) -> str:
    if reason.startswith("no clinician holds"):
        return "Give a clinician with that credential hours at this site, or refer out."
    if reason.startswith("the participant's site has no"):
        return "Add a room of that kind at the participant's site, or use telehealth."
    return ("Ask whether a commitment can move, add clinician hours when the participant is "
            "free, or use telehealth.")


@dataclass
class _WhyContext:
    """What the chosen appointments occupy, indexed once (per clinician, per room pool and
    per day) so that explaining each missed appointment costs only its own candidates."""

    clinicians: dict[str, Clinician]
    load: dict[str, int]
    by_clinician_day: dict[tuple[str, int], list[AppointmentOption]]
    pools: dict[tuple[str, str], list[str]]
    pool_busy_day: dict[tuple[str, str, int], list[tuple[int, int]]]

    @classmethod
    def build(cls, instance: Instance, options: Options, chosen: set[int]) -> _WhyContext:
        load: dict[str, int] = dict(options.clinician_fixed_minutes)
        by_clinician_day: dict[tuple[str, int], list[AppointmentOption]] = defaultdict(list)
        pool_busy_day: dict[tuple[str, str, int], list[tuple[int, int]]] = defaultdict(list)
        for (site, kind), fixed in fixed_room_use(instance).items():
            for s, e, _ in fixed:
                for day in range(s // MINUTES_PER_DAY, (e - 1) // MINUTES_PER_DAY + 1):
                    pool_busy_day[(site, kind, day)].append((s, e))
        for pid in options.appointments:
            for lst in options.appointments[pid].values():
                for o in lst:
                    if o.key not in chosen:
                        continue
                    load[o.clinician] = load.get(o.clinician, 0) + o.end - o.start
                    for day in range(o.start // MINUTES_PER_DAY, (o.end - 1) // MINUTES_PER_DAY + 1):
                        by_clinician_day[(o.clinician, day)].append(o)
                        pool_busy_day[(o.site, o.need.room_kind, day)].append((o.start, o.end))
        return cls({c.id: c for c in instance.clinicians}, load, by_clinician_day,
                   room_pools(instance), pool_busy_day)


def _why(
    ctx: _WhyContext | None,
    options: Options,
    p: Participant,
    need: Need,
    chosen: set[int],
    clash: dict[int, set[int]],
    blocked_by_pin: set[int],
) -> tuple[str, str]:
    """What blocks every candidate time of an unplaceable need, in plain words."""
    assert ctx is not None
    clinicians, load, pools = ctx.clinicians, ctx.load, ctx.pools
    candidates = [o for o in options.appointments[p.id][need.id]]
    names = sorted({clinicians[o.clinician].name for o in candidates if o.clinician in clinicians})
    others: set[str] = set()
    full_load: dict[str, int] = {}
    own = rooms = displaced = 0
    for o in candidates:
        if o.key in blocked_by_pin or clash[o.key] & chosen:
            own += 1
            continue
        c = clinicians.get(o.clinician)
        if c and load.get(o.clinician, 0) + o.end - o.start > c.max_weekly_minutes:
            full_load[c.name] = c.max_weekly_minutes
            continue
        day = o.start // MINUTES_PER_DAY
        taken = [a for a in ctx.by_clinician_day.get((o.clinician, day), ())
                 if a.start < o.end and o.start < a.end]
        if taken:
            others.update(a.need.id for a in taken)
            continue
        pool = (o.site, need.room_kind)
        if _peak_between(ctx.pool_busy_day.get((o.site, need.room_kind, day), []), o.start,
                         o.end) >= len(pools.get(pool, [])):
            rooms += 1
        else:
            displaced += 1  # it fits only in place of another due appointment
    who = _join(names) or "No clinician"
    outside = f" outside {describe_windows(p.busy)}" if p.busy else ""
    parts = []
    if others:
        n = len(others)
        parts.append(f"the times that suit both are taken by {n} other due appointment"
                     f"{'s' if n != 1 else ''}")
    if len(full_load) == 1:
        ((name, mx),) = full_load.items()
        parts.append(f"{name}'s weekly maximum of {fmt_hours(mx)} is reached")
    elif full_load:
        parts.append(f"the weekly maximum of {_join(sorted(full_load))} is reached")
    if own:
        parts.append("times clash with the participant's own pinned or booked sessions")
    if rooms:
        parts.append(f"no {need.room_kind} room is free at the times left")
    if displaced:
        parts.append("the times left would push out another due appointment")
    reason = (f"{who} cannot see the participant at any time{outside} this week: "
              + ("; ".join(parts) or "every time is taken"))
    if full_load:
        suggestion = f"Raise {_join(sorted(full_load))}'s weekly maximum or move a group they run."
    elif others:
        suggestion = (f"Add hours for {who} when the participant is free, let another "
                      "credentialed clinician take it, or use telehealth.")
    elif rooms:
        suggestion = f"Free a {need.room_kind} room or use telehealth."
    else:
        suggestion = "Unpin a clashing session or move a commitment."
    return reason, suggestion


def _peak_between(intervals: list[tuple[int, int]], start: int, end: int) -> int:
    """Most intervals overlapping at once within [start, end)."""
    return peak_use([(max(s, start), min(e, end), "") for s, e in intervals
                     if s < end and start < e])


def _join(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:2]) + f" and {len(names) - 2} other(s)"
