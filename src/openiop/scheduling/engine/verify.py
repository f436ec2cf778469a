"""An independent check of a plan against the hard constraints, straight from the instance.

Used by the tests (every constraint violated on purpose must never appear in a plan) and
by the Django adapter before a plan is offered for applying.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from .model import Instance, Plan


def check_plan(instance: Instance, plan: Plan) -> list[str]:
    """Every broken hard constraint, in words; an empty list means the plan is valid."""
    problems: list[str] = []
    groups = {g.id: g for g in instance.groups}
    rooms = {r.id: r for r in instance.rooms}
    clinicians = {c.id: c for c in instance.clinicians}
    people = {p.id: p for p in instance.participants}
    # (start, end, site, what) per participant
    items: dict[str, list[tuple[int, int, str, str]]] = defaultdict(list)
    seats: dict[str, int] = defaultdict(int)
    for pid, sids in plan.group_bookings.items():
        p = people[pid]
        for sid in sids:
            g = groups[sid]
            seats[sid] += 1
            if g.track not in p.tracks:
                problems.append(f"{pid} booked into {sid} of a track they are not offered")
            if sid not in p.pinned_sessions and any(w.overlaps(g.start, g.end) for w in p.busy):
                problems.append(f"{pid} booked into {sid} during a busy window")
            items[pid].append((g.start, g.end, g.site, sid))
        for fa in p.fixed:
            items[pid].append((fa.start, fa.end, fa.site, fa.id))
    pinned_count: dict[str, int] = defaultdict(int)
    for p in instance.participants:
        for sid in set(p.pinned_sessions):
            pinned_count[sid] += 1
    for sid, n in seats.items():
        g = groups[sid]
        pinned = pinned_count[sid]
        cap = g.capacity if not g.room or g.room not in rooms else min(g.capacity, rooms[g.room].capacity)
        if n > max(cap, pinned):
            problems.append(f"group session {sid} has {n} people for {cap} seats")
    clin_items: dict[str, list[tuple[int, int]]] = defaultdict(list)
    room_items: dict[str, list[tuple[int, int]]] = defaultdict(list)
    fixed_load: dict[str, int] = defaultdict(int)
    for g in instance.groups:
        if g.facilitator:
            clin_items[g.facilitator].append((g.start, g.end))
            fixed_load[g.facilitator] += g.end - g.start
    for p in instance.participants:
        for fa in p.fixed:
            if fa.clinician:
                clin_items[fa.clinician].append((fa.start, fa.end))
                fixed_load[fa.clinician] += fa.end - fa.start
            if fa.room:
                room_items[fa.room].append((fa.start, fa.end))
    needs = {n.id: (p, n) for p in instance.participants for n in p.needs}
    seen_needs: set[str] = set()
    for a in plan.appointments:
        p, need = needs[a.need]
        if a.need in seen_needs:
            problems.append(f"need {a.need} booked twice")
        seen_needs.add(a.need)
        c = clinicians[a.clinician]
        if need.credentials and not (c.credentials & need.credentials):
            problems.append(f"{a.clinician} lacks a credential for {a.need}")
        if not any(w.start <= a.start and a.end <= w.end for w in c.windows):
            problems.append(f"{a.need} is outside {a.clinician}'s working hours")
        if any(w.overlaps(a.start, a.end) for w in p.busy):
            problems.append(f"{a.need} falls in a busy window of {p.id}")
        room = rooms[a.room]
        if room.site != a.site or room.kind != need.room_kind:
            problems.append(f"{a.need} got room {a.room} of the wrong kind or site")
        clin_items[a.clinician].append((a.start, a.end))
        room_items[a.room].append((a.start, a.end))
        items[p.id].append((a.start, a.end, a.site, a.need))
    # Cadence rules are hard: every due appointment is booked, or the plan names it as a
    # gap with the reason no placement exists.
    declared = plan.infeasible_needs
    for nid, (p, _need) in needs.items():
        if nid not in seen_needs and nid not in declared:
            problems.append(f"cadence: {nid} of {p.id} is due and neither booked nor explained")
    for nid in declared:
        if nid in seen_needs:
            problems.append(f"cadence: {nid} is booked and also reported as impossible")
    # Only what the plan adds is judged: clashes already present in the fixed input (groups
    # a clinic scheduled by hand) are not the plan's doing.
    planned_clin: dict[str, list[tuple[int, int]]] = defaultdict(list)
    planned_room: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for a in plan.appointments:
        planned_clin[a.clinician].append((a.start, a.end))
        planned_room[a.room].append((a.start, a.end))
    for cid, mine in planned_clin.items():
        if _clashes(mine, clin_items[cid]):
            problems.append(f"clinician {cid} is double-booked")
        clin = clinicians.get(cid)
        if clin and sum(e - s for s, e in clin_items[cid]) > max(clin.max_weekly_minutes,
                                                               fixed_load[cid]):
            problems.append(f"clinician {cid} is over the maximum weekly load")
    for rid, mine in planned_room.items():
        if _clashes(mine, room_items[rid]):
            problems.append(f"room {rid} is double-booked")
    for pid, lst in items.items():
        lst.sort()
        for i, (s1, e1, site1, w1) in enumerate(lst):
            for s2, e2, site2, w2 in lst[i + 1:]:
                gap = instance.travel(site1, site2)
                if s2 < e1 + gap and s1 < e2 + gap:
                    problems.append(f"{pid} double-booked or without travel time: {w1} and {w2}")
    return problems


def _clashes(mine: list[tuple[int, int]], everything: list[tuple[int, int]]) -> bool:
    """True when a planned interval overlaps any other interval of the same resource.

    `everything` holds each planned interval (`mine`) once, plus the fixed ones; two
    fixed intervals that clash are not the plan's doing. One sweep in start order: an
    interval overlaps an earlier one exactly when it starts before that one's end."""
    planned = Counter(mine)
    items = []
    for s, e in everything:
        own = planned[(s, e)] > 0
        if own:
            planned[(s, e)] -= 1
        items.append((s, e, own))
    items.sort()
    end_all = end_planned = -1
    for s, e, own in items:
        if (own and end_all > s) or (not own and end_planned > s):
            return True
        end_all = max(end_all, e)
        if own:
            end_planned = max(end_planned, e)
    return False


def avoidable_changes(instance: Instance, plan: Plan) -> list[str]:
    """Therapist changes the usual clinician could have taken, in words; empty when the
    continuity rule holds.

    Continuity is a rule: an appointment goes to someone else only when the usual
    clinician has no time this week that is free for both of them in this plan. Checked
    straight from the instance, every start on the appointment grid: the usual clinician
    works then and holds the credential, leads no group and sees nobody else then, stays
    under the weekly maximum, a room of the kind is free at the site; and the participant
    is outside their commitments and away from everything else booked for them (the
    groups the plan gives them included, with the travel time between sites).
    """
    clinicians = {c.id: c for c in instance.clinicians}
    groups = {g.id: g for g in instance.groups}
    needs = {n.id: (p, n) for p in instance.participants for n in p.needs}
    pool_size: dict[tuple[str, str], int] = defaultdict(int)
    room_pool = {r.id: (r.site, r.kind) for r in instance.rooms}
    for r in instance.rooms:
        pool_size[(r.site, r.kind)] += 1
    busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    load: dict[str, int] = defaultdict(int)
    pool_use: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    own: dict[str, list[tuple[int, int, str, str]]] = defaultdict(list)
    for g in instance.groups:
        if g.facilitator:
            busy[g.facilitator].append((g.start, g.end))
            load[g.facilitator] += g.end - g.start
    for p in instance.participants:
        for fa in p.fixed:
            own[p.id].append((fa.start, fa.end, fa.site, fa.id))
            if fa.clinician:
                busy[fa.clinician].append((fa.start, fa.end))
                load[fa.clinician] += fa.end - fa.start
            if fa.room in room_pool:
                pool_use[room_pool[fa.room]].append((fa.start, fa.end))
    for pid, sids in plan.group_bookings.items():
        for sid in sids:
            g = groups[sid]
            own[pid].append((g.start, g.end, g.site, sid))
    for a in plan.appointments:
        busy[a.clinician].append((a.start, a.end))
        load[a.clinician] += a.end - a.start
        pool_use[(a.site, needs[a.need][1].room_kind)].append((a.start, a.end))
        own[a.participant].append((a.start, a.end, a.site, a.need))

    def overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> int:
        return sum(1 for s, e in spans if s < end and start < e)

    problems = []
    for a in plan.appointments:
        p, need = needs[a.need]
        usual = clinicians.get(need.preferred_clinician or "")
        if usual is None or a.clinician == usual.id:
            continue
        if need.credentials and not (usual.credentials & need.credentials):
            continue
        if load[usual.id] + need.minutes > usual.max_weekly_minutes:
            continue
        pool = (a.site, need.room_kind)
        others = [(s, e, site) for s, e, site, what in own[p.id] if what != a.need]
        for w in usual.windows:
            day = w.start // 1440 * 1440
            start = max(w.start, day + instance.day_start)
            start += -(start - day) % instance.slot_step
            while start + need.minutes <= min(w.end, day + instance.day_end):
                end = start + need.minutes
                gone = (a.start, a.end)  # the appointment moves: its room is free again
                use = overlaps(start, end, pool_use[pool]) - (gone[0] < end and start < gone[1])
                if (not overlaps(start, end, busy[usual.id])
                        and not any(b.overlaps(start, end) for b in p.busy)
                        and not any(s < end + instance.travel(a.site, site)
                                    and start < e + instance.travel(a.site, site)
                                    for s, e, site in others)
                        and use < pool_size[pool]):
                    problems.append(f"{a.need} went to {a.clinician} although {usual.id} and "
                                    f"{p.id} are both free at minute {start}")
                    break
                start += instance.slot_step
            else:
                continue
            break
    return problems
