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
sessions attended, then staying in the enrolled track. A move to another track is a
proposal shown to the director (Plan.track_moves); nothing is changed on the person's
enrollment by the engine.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from .model import Instance
from .options import W_BELOW_MIN, W_CONTINUITY, W_SKIPPED_GROUP, Options
from .resources import group_capacity


def seats_and_tracks(
    instance: Instance, options: Options, *, seconds: float, seed: int, workers: int,
) -> set[int] | None:
    """Group option keys to book (pinned ones included), or None when there is no choice to
    make (nobody has a choice of track and no session has more people who can attend it
    than seats: greedy's seats are then as good as any) or nothing was found in time."""
    capacity = group_capacity(instance)
    if not _contended(instance, options, capacity):
        return None
    m = cp_model.CpModel()
    seat: dict[int, cp_model.IntVar] = {}
    takers: dict[str, list[cp_model.IntVar]] = {}
    pinned: dict[str, int] = {}
    terms = []
    hint: list[tuple[cp_model.IntVar, int]] = []
    # Per track: (sessions a reaching person needs at least, minutes they need from seats,
    # the person reaches the minimum in this track), for the seat-count cuts below.
    reaching: dict[str, list[tuple[int, int, cp_model.IntVar]]] = {}
    for p in instance.participants:
        gopts = options.groups[p.id]
        y = {t: m.new_bool_var(f"y{p.id}:{t}") for t in p.tracks}
        if y:
            m.add_exactly_one(y.values())
            hint.extend((v, int(t == p.tracks[0])) for t, v in y.items())
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
        if not via:
            continue
        reach = m.new_bool_var(f"z{p.id}")
        m.add(sum(via) == reach)
        terms.append((W_BELOW_MIN, reach))
    seats = {sid: max(capacity.get(sid, 0), pinned.get(sid, 0)) for sid in takers}
    for sid, lst in takers.items():
        m.add(sum(lst) <= seats[sid])
    # Cuts (implied by the constraints above, stated so the solver sees them at once): the
    # people reaching the minimum in a track need, together, at least their fewest sessions
    # and their missing minutes in its seats. Without them the solver's relaxation shares
    # seats out fractionally and a contended track (adolescents after school) is searched
    # blindly.
    per_track: dict[str, list[str]] = {}
    for g in instance.groups:
        per_track.setdefault(g.track, []).append(g.id)
    minutes = {g.id: g.counted_minutes for g in instance.groups}
    for track, people in reaching.items():
        sids = per_track.get(track, [])
        m.add(sum(k * r for k, _, r in people) <= sum(seats.get(s, 0) for s in sids))
        m.add(sum(missing * r for _, missing, r in people)
              <= sum(seats.get(s, 0) * minutes[s] for s in sids))
    m.maximize(sum(w * t for w, t in terms))
    for v, value in hint:
        m.add_hint(v, value)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = workers
    prm.random_seed = seed
    prm.max_time_in_seconds = max(0.5, seconds)
    prm.max_deterministic_time = max(0.5, seconds)
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return {k for k, v in seat.items() if solver.boolean_value(v)}


def _contended(instance: Instance, options: Options, capacity: dict[str, int]) -> bool:
    """Someone has a choice of track, or a session has more people who can attend it
    than seats (then who sits where decides who reaches the minimum)."""
    if any(len(p.tracks) > 1 for p in instance.participants):
        return True
    wanting: dict[str, int] = {}
    for lst in options.groups.values():
        for o in lst:
            wanting[o.session.id] = wanting.get(o.session.id, 0) + 1
    return any(n > capacity.get(sid, 0) for sid, n in wanting.items())
