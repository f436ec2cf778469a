"""Seats and tracks first: a small exact model, then the greedy appointments.

Who reaches the weekly minimum is decided mostly by group seats: a person with a daytime
job reaches it only in an evening track, and when the evening track has fewer seats than
the people who need it, which people get them (and who moves to an acceptable alternative
track listed on their record) is the choice that matters. That choice does not depend on
clinicians, so it is made exactly on a model of only seats and tracks (a few variables per
person, linear in the week), and the greedy planner then books appointments around it.
The same holds with a single track whose sessions have fewer seats than the people who can
attend them (adolescents at school until 15:00 sharing an after-school track): which of
them sit in which sessions decides how many reach the minimum, where greedy gives every
session to the first ones and nothing to the rest.

Objective, in the same tiers as the main model (options.W_*): participants reaching the
minimum (every due appointment counted as booked, which the cadence rules require), then
sessions attended, then staying in the enrolled track; solved per group of linked tracks,
the first tier on its own first (seats_and_tracks). A move to another track is a
proposal shown to the director (Plan.track_moves); nothing is changed on the person's
enrollment by the engine.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ortools.sat.python import cp_model

from .model import Instance, Participant
from .options import W_BELOW_MIN, W_CONTINUITY, W_SKIPPED_GROUP, Options, chosen_track
from .resources import group_capacity


def seats_and_tracks(
    instance: Instance, options: Options, *, seconds: float, seed: int, workers: int,
    fallback: set[int] | None = None,
) -> set[int] | None:
    """Group option keys to book (pinned ones included), or None when there is no choice to
    make (nobody has a choice of track and no session has more people who can attend it
    than seats: greedy's seats are then as good as any) or nothing was found in time.

    Solved part by part: people whose tracks are linked (a person's enrolled and acceptable
    tracks, hence their sessions) share seats only with each other, so each part (in the
    generated weeks, one block of a program) is its own small model, proven optimal in a
    fraction of the time the whole week's model took to get near it (evening-heavy week of
    300: 209 people brought to the minimum in 1 s and 212 in 20 s as one model; each part
    is proven). The time is shared among the parts by their size, a part finishing early
    leaving its time to the others. A part with no answer in its time keeps the seats its
    people hold in `fallback` (greedy's selection; a part's sessions are its own, so those
    seats fit), or, without one, nothing is returned."""
    capacity = group_capacity(instance)
    if not _contended(instance.participants, options, capacity):
        return None
    parts = _parts(instance)
    per_track: dict[str, list[str]] = {}
    for g in instance.groups:
        per_track.setdefault(g.track, []).append(g.id)
    minutes = {g.id: g.counted_minutes for g in instance.groups}
    started = time.perf_counter()
    out: set[int] = set()
    contended = []
    for part in parts:
        if _contended(part, options, capacity):
            contended.append(part)
        else:  # everyone fits in every session they can attend: all of them are the seats
            out |= {o.key for p in part for o in options.groups[p.id]}
    left_people = sum(len(part) for part in contended)
    for part in contended:
        remaining = seconds - (time.perf_counter() - started)
        share = remaining * len(part) / max(1, left_people)
        left_people -= len(part)
        got = None
        if share > 0.05 or fallback is None:
            got = _solve_part(instance, options, part, capacity, per_track, minutes,
                              seconds=max(0.05, share), seed=seed, workers=workers,
                              start=fallback)
        if got is None:
            if fallback is None:
                return None
            got = {o.key for p in part for o in options.groups[p.id] if o.key in fallback}
        out |= got
    return out


def _parts(instance: Instance) -> list[list[Participant]]:
    """Participants grouped so that no two groups share a track (union of each person's
    tracks), largest first; people without a track are left out (they book no seat)."""
    parent: dict[str, str] = {}

    def root(t: str) -> str:
        while parent.setdefault(t, t) != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for p in instance.participants:
        for t in p.tracks[1:]:
            a, b = root(p.tracks[0]), root(t)
            if a != b:
                parent[b] = a
    groups: dict[str, list[Participant]] = {}
    for p in instance.participants:
        if p.tracks:
            groups.setdefault(root(p.tracks[0]), []).append(p)
    return sorted(groups.values(), key=lambda ps: (-len(ps), ps[0].id))


def _solve_part(
    instance: Instance, options: Options, people: list[Participant],
    capacity: dict[str, int], per_track: dict[str, list[str]], minutes: dict[str, int], *,
    seconds: float, seed: int, workers: int, start: set[int] | None = None,
) -> set[int] | None:
    """The seat model of one part (see seats_and_tracks); `per_track` lists each track's
    sessions and `minutes` their counted minutes. `start` (greedy's selection) is the
    complete hint: its seats, tracks and who they bring to the minimum, so that a part
    stopped by its time limit starts from greedy's seats rather than from nothing."""
    m = cp_model.CpModel()
    seat: dict[int, cp_model.IntVar] = {}
    takers: dict[str, list[cp_model.IntVar]] = {}
    pinned: dict[str, int] = {}
    terms = []
    hint: list[tuple[cp_model.IntVar, int]] = []
    # Per track: (sessions a reaching person needs at least, minutes they need from seats,
    # the person reaches the minimum in this track), for the seat-count cuts below.
    reaching: dict[str, list[tuple[int, int, cp_model.IntVar]]] = {}
    reaches: list[cp_model.IntVar] = []
    for p in people:
        gopts = options.groups[p.id]
        y = {t: m.new_bool_var(f"y{p.id}:{t}") for t in p.tracks}
        held = [o for o in gopts if start is not None and o.key in start]
        track = chosen_track(p, held)
        got = {t: sum(o.counted for o in held if o.track == t) for t in p.tracks}
        if y:
            m.add_exactly_one(y.values())
            hint.extend((v, int(t == track)) for t, v in y.items())
            terms.append((-W_CONTINUITY, 1 - y[p.tracks[0]]))
        for o in gopts:
            v = m.new_bool_var(f"s{o.key}")
            seat[o.key] = v
            m.add_implication(v, y[o.track])
            if o.pinned:
                m.add(v == 1)
                pinned[o.session.id] = pinned.get(o.session.id, 0) + 1
            takers.setdefault(o.session.id, []).append(v)
            terms.append((W_SKIPPED_GROUP, v))
            hint.append((v, int(o in held and o.track == track)))
        appt = sum(max((o.counted for o in lst), default=0)
                   for lst in options.appointments[p.id].values())
        base = options.fixed_minutes[p.id] + appt
        if base >= p.minimum_minutes:
            continue
        short = p.minimum_minutes - base
        # Reaching the minimum in track t: enough minutes in the seats of that track (the
        # seats of the other tracks are not booked, see the implications above).
        via = []
        for t in p.tracks:
            counted = sorted((o.counted for o in gopts if o.track == t), reverse=True)
            if sum(counted) < short:
                continue
            w = m.new_bool_var(f"w{p.id}:{t}")
            m.add_implication(w, y[t])
            m.add(sum(o.counted * seat[o.key] for o in gopts if o.track == t) >= short
                  ).only_enforce_if(w)
            fewest = next(i + 1 for i in range(len(counted)) if sum(counted[:i + 1]) >= short)
            reaching.setdefault(t, []).append((fewest, short, w))
            via.append(w)
            hint.append((w, int(t == track and got[t] >= short)))
        if not via:
            continue
        reach = m.new_bool_var(f"z{p.id}")
        m.add(sum(via) == reach)
        terms.append((W_BELOW_MIN, reach))
        reaches.append(reach)
        hint.append((reach, int(got.get(track, 0) >= short and any(
            t == track for t in p.tracks if sum(o.counted for o in gopts if o.track == t) >= short))))
    seats = {sid: max(capacity.get(sid, 0), pinned.get(sid, 0)) for sid in takers}
    for sid, lst in takers.items():
        m.add(sum(lst) <= seats[sid])
    # Cuts (implied by the constraints above, stated so the solver sees them at once): the
    # people reaching the minimum in a track need, together, at least their fewest sessions
    # and their missing minutes in its seats. Without them the solver's relaxation shares
    # seats out fractionally and a contended track (adolescents after school) is searched
    # blindly.
    for track, reachers in reaching.items():
        sids = per_track.get(track, [])
        m.add(sum(k * r for k, _, r in reachers) <= sum(seats.get(s, 0) for s in sids))
        m.add(sum(missing * r for _, missing, r in reachers)
              <= sum(seats.get(s, 0) * minutes[s] for s in sids))
    for v, value in hint:
        m.add_hint(v, value)
    started = time.perf_counter()
    # First who reaches the minimum alone (the tier that matters, which the cuts make quick
    # to prove), then, with that many held, the seats and tracks below it: as one weighted
    # sum, the solver spent its time on how leftover seats are shared out (symmetric and
    # slow to prove) and stopped with fewer people at the minimum than it could have had
    # (evening-heavy week, 44 people: not proven in 10 s).
    first = None
    if reaches:
        m.maximize(sum(reaches))
        solver = _solver(seed, workers, seconds / 2)
        status = solver.solve(m)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            first = {k for k, v in seat.items() if solver.boolean_value(v)}
            m.add(sum(reaches) >= round(solver.objective_value))
            m.clear_hints()  # type: ignore[no-untyped-call]  # untyped in OR-Tools
            for v in [*seat.values(), *reaches]:
                m.add_hint(v, solver.boolean_value(v))
    m.maximize(sum(w * t for w, t in terms))
    solver = _solver(seed, workers, max(0.05, seconds - (time.perf_counter() - started)))
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return first
    return {k for k, v in seat.items() if solver.boolean_value(v)}


def _solver(seed: int, workers: int, seconds: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = workers
    prm.random_seed = seed
    prm.max_time_in_seconds = seconds
    prm.max_deterministic_time = seconds
    return solver


def _contended(people: Sequence[Participant], options: Options,
               capacity: dict[str, int]) -> bool:
    """Someone has a choice of track, or a session has more people who can attend it
    than seats (then who sits where decides who reaches the minimum)."""
    if any(len(p.tracks) > 1 for p in people):
        return True
    wanting: dict[str, int] = {}
    for p in people:
        for o in options.groups[p.id]:
            wanting[o.session.id] = wanting.get(o.session.id, 0) + 1
    return any(n > capacity.get(sid, 0) for sid, n in wanting.items())
