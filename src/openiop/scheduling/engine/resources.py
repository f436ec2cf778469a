"""Shared resource bookkeeping: capacities, clinician time, room counts and room assignment."""

from __future__ import annotations

import heapq
from collections import defaultdict

from ortools.sat.python import cp_model

from .model import MINUTES_PER_DAY, Appointment, Instance
from .options import AppointmentOption, GroupOption, Options


def group_capacity(instance: Instance) -> dict[str, int]:
    """Seats per group session: the session's capacity, never more than its room holds."""
    rooms = {r.id: r for r in instance.rooms}
    out = {}
    for g in instance.groups:
        cap = g.capacity
        if g.room and g.room in rooms:
            cap = min(cap, rooms[g.room].capacity)
        out[g.id] = cap
    return out


def room_pools(instance: Instance) -> dict[tuple[str, str], list[str]]:
    pools: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in sorted(instance.rooms, key=lambda r: r.id):
        pools[(r.site, r.kind)].append(r.id)
    return pools


def fixed_room_use(instance: Instance) -> dict[tuple[str, str], list[tuple[int, int, str]]]:
    """Rooms already taken by fixed appointments, per (site, kind) pool."""
    kind_of = {r.id: (r.site, r.kind) for r in instance.rooms}
    used: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
    for p in instance.participants:
        for fa in p.fixed:
            if fa.room and fa.room in kind_of:
                used[kind_of[fa.room]].append((fa.start, fa.end, fa.room))
    return used


def assign_rooms(
    instance: Instance, chosen: list[AppointmentOption]
) -> tuple[list[Appointment], list[AppointmentOption]]:
    """Give each chosen appointment a room of its kind at its site.

    Interval partitioning in start order: with at most `len(pool)` appointments at any
    moment (a constraint of both planners) every appointment finds a room. Rooms held by
    fixed appointments are reserved first. Returns the appointments and any that could not
    be placed (only possible when fixed appointments fragment a pool).
    """
    pools = room_pools(instance)
    fixed = fixed_room_use(instance)
    placed: list[Appointment] = []
    failed: list[AppointmentOption] = []
    by_pool: dict[tuple[str, str], list[AppointmentOption]] = defaultdict(list)
    for o in chosen:
        by_pool[(o.site, o.need.room_kind)].append(o)
    for pool_key, opts in sorted(by_pool.items()):
        if not fixed.get(pool_key):
            _partition(pools.get(pool_key, []), opts, placed, failed)
            continue
        busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for s, e, rid in fixed.get(pool_key, []):
            busy[rid].append((s, e))
        for o in sorted(opts, key=lambda o: (o.start, o.key)):
            room = next(
                (rid for rid in pools.get(pool_key, [])
                 if not any(s < o.end and o.start < e for s, e in busy[rid])),
                None,
            )
            if room is None:
                failed.append(o)
                continue
            busy[room].append((o.start, o.end))
            placed.append(Appointment(o.need.id, o.participant, o.need.kind, o.clinician, room,
                                      o.site, o.start, o.end))
    return placed, failed


def _partition(rooms: list[str], opts: list[AppointmentOption], placed: list[Appointment],
               failed: list[AppointmentOption]) -> None:
    """Interval partitioning for a pool without fixed bookings, in O(k log k): in start
    order, a room is free exactly when its last appointment has ended; the first free room
    in pool order is taken (the same rooms the scan over every room would choose)."""
    free = list(range(len(rooms)))  # a heap of room indexes
    in_use: list[tuple[int, int]] = []  # a heap of (end, room index)
    for o in sorted(opts, key=lambda o: (o.start, o.key)):
        while in_use and in_use[0][0] <= o.start:
            heapq.heappush(free, heapq.heappop(in_use)[1])
        if not free:
            failed.append(o)
            continue
        index = heapq.heappop(free)
        heapq.heappush(in_use, (o.end, index))
        placed.append(Appointment(o.need.id, o.participant, o.need.kind, o.clinician, rooms[index],
                                  o.site, o.start, o.end))


WEEK = 7 * MINUTES_PER_DAY


class Ledger:
    """Incremental feasibility checks used by the greedy planner.

    A clinician's booked times are kept per day (an appointment never spans midnight, the
    grid lies inside the clinic's day), so a check reads one day of one clinician, not
    their whole week: the rebooking pass asks this many times per unbooked appointment."""

    def __init__(self, instance: Instance, options: Options) -> None:
        self.instance = instance
        self.seats = group_capacity(instance)
        self.taken: dict[str, int] = defaultdict(int)
        # (clinician, day) -> booked (start, end) that day.
        self.clin_busy: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        self.clin_load: dict[str, int] = dict(options.clinician_fixed_minutes)
        self.max_load = {c.id: c.max_weekly_minutes for c in instance.clinicians}
        self.pool_size = {k: len(v) for k, v in room_pools(instance).items()}
        # Rooms in use per minute of the week, per (site, kind) pool.
        self.pool_use: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * WEEK)
        for k, lst in fixed_room_use(instance).items():
            for s, e, _ in lst:
                self._mark(k, s, e)

    def _mark(self, pool: tuple[str, str], start: int, end: int, step: int = 1) -> None:
        use = self.pool_use[pool]
        for t in range(max(start, 0), min(end, WEEK)):
            use[t] += step

    def group_ok(self, o: GroupOption) -> bool:
        return o.pinned or self.taken[o.session.id] < self.seats[o.session.id]

    def take_group(self, o: GroupOption) -> None:
        self.taken[o.session.id] += 1

    @staticmethod
    def _days(o: AppointmentOption) -> range:
        return range(o.start // MINUTES_PER_DAY, (o.end - 1) // MINUTES_PER_DAY + 1)

    def clinician_busy(self, o: AppointmentOption) -> list[tuple[int, int]]:
        """The clinician's booked times on the days `o` spans."""
        days = self._days(o)
        if len(days) == 1:
            return self.clin_busy.get((o.clinician, days[0]), [])
        return [t for d in days for t in self.clin_busy.get((o.clinician, d), [])]

    def appointment_ok(self, o: AppointmentOption) -> bool:
        if any(s < o.end and o.start < e for s, e in self.clinician_busy(o)):
            return False
        if self.clin_load.get(o.clinician, 0) + (o.end - o.start) > self.max_load.get(o.clinician, 0):
            return False
        pool = (o.site, o.need.room_kind)
        # Peak use of the pool during [start, end) must stay below its number of rooms.
        use = self.pool_use[pool]
        return max(use[max(o.start, 0):min(o.end, WEEK)], default=0) < self.pool_size.get(pool, 0)

    def take_appointment(self, o: AppointmentOption) -> None:
        for d in self._days(o):
            self.clin_busy[(o.clinician, d)].append((o.start, o.end))
        self.clin_load[o.clinician] = self.clin_load.get(o.clinician, 0) + (o.end - o.start)
        self._mark((o.site, o.need.room_kind), o.start, o.end)

    def release_appointment(self, o: AppointmentOption) -> None:
        for d in self._days(o):
            self.clin_busy[(o.clinician, d)].remove((o.start, o.end))
        self.clin_load[o.clinician] -= o.end - o.start
        self._mark((o.site, o.need.room_kind), o.start, o.end, -1)


def add_appointment_resources(
    m: cp_model.CpModel, instance: Instance, options: Options, x: dict[int, cp_model.IntVar]
) -> None:
    """Clinicians (no double booking, maximum weekly load) and rooms (never more
    appointments at once than the pool has rooms) for the appointment options in `x`."""
    per_clinician: dict[str, list[tuple[cp_model.IntervalVar, int, cp_model.IntVar]]] = (
        defaultdict(list))
    per_pool: dict[tuple[str, str], list[cp_model.IntervalVar]] = defaultdict(list)
    for p in instance.participants:
        for lst in options.appointments[p.id].values():
            for o in lst:
                if o.key not in x:
                    continue
                iv = m.new_optional_fixed_size_interval_var(o.start, o.end - o.start, x[o.key],
                                                            f"i{o.key}")
                per_clinician[o.clinician].append((iv, o.end - o.start, x[o.key]))
                per_pool[(o.site, o.need.room_kind)].append(iv)
    max_load = {c.id: c.max_weekly_minutes for c in instance.clinicians}
    for cid, held in per_clinician.items():
        m.add_no_overlap([iv for iv, _, _ in held])
        room_left = max(0, max_load.get(cid, 0) - options.clinician_fixed_minutes.get(cid, 0))
        m.add(sum(mins * v for _, mins, v in held) <= room_left)
    pools = room_pools(instance)
    fixed_use = fixed_room_use(instance)
    for pool, ivs in per_pool.items():
        fixed_ivs = [m.new_fixed_size_interval_var(s, e - s, f"f{pool}{s}{rid}")
                     for s, e, rid in fixed_use.get(pool, [])]
        capacity = max(len(pools.get(pool, [])), len(fixed_ivs) and peak_use(fixed_use[pool]))
        m.add_cumulative(ivs + fixed_ivs, [1] * (len(ivs) + len(fixed_ivs)), capacity)


def peak_use(intervals: list[tuple[int, int, str]]) -> int:
    events = sorted([(s, 1) for s, _, _ in intervals] + [(e, -1) for _, e, _ in intervals])
    peak = cur = 0
    for _, d in events:
        cur += d
        peak = max(peak, cur)
    return peak
