"""Turning a set of chosen options into a Plan (rooms, minutes, objective, explanations)."""

from __future__ import annotations

from .continuity import therapist_changes
from .explain import explain
from .model import CadenceGap, Instance, Plan, PlanStatus
from .options import Options, chosen_track, score_selection
from .resources import assign_rooms


def make_plan(
    instance: Instance,
    options: Options,
    chosen: set[int],
    tracks: dict[str, str] | None,
    *,
    bound: int,
    status: PlanStatus,
    seconds: float,
    method: str,
    gaps: tuple[CadenceGap, ...] = (),
    missing_reason: str = "no room of its kind was left free at the time found for it",
) -> Plan:
    chosen = set(chosen)
    appt_opts = [o for p in instance.participants for lst in options.appointments[p.id].values()
                 for o in lst if o.key in chosen]
    appointments, failed = assign_rooms(instance, appt_opts)
    for o in failed:
        chosen.discard(o.key)
    group_bookings: dict[str, tuple[str, ...]] = {}
    minutes: dict[str, int] = {}
    track_of: dict[str, str] = {}
    for p in instance.participants:
        gsel = [o for o in options.groups[p.id] if o.key in chosen]
        group_bookings[p.id] = tuple(o.session.id for o in gsel)
        track_of[p.id] = (tracks or {}).get(p.id) or chosen_track(p, gsel)
        minutes[p.id] = options.fixed_minutes[p.id] + sum(o.counted for o in gsel) + sum(
            o.counted for lst in options.appointments[p.id].values() for o in lst if o.key in chosen
        )
    objective, _parts = score_selection(instance, options, chosen, track_of)
    unmet = tuple(
        nid for p in instance.participants for nid, lst in options.appointments[p.id].items()
        if not any(o.key in chosen for o in lst)
    )
    known = {g.need for g in gaps}
    gaps = tuple(g for g in gaps if g.need in unmet) + tuple(
        CadenceGap(n.id, p.id, n.kind, n.rule or f"{n.kind} appointment",
                   options.no_candidate.get(n.id, missing_reason),
                   "Re-plan, or book it by hand and pin it.", proven=n.id in options.no_candidate)
        for p in instance.participants for n in p.needs if n.id in unmet and n.id not in known
    )
    plan = Plan(
        group_bookings=group_bookings,
        appointments=tuple(sorted(appointments, key=lambda a: (a.start, a.participant, a.need))),
        chosen_track=track_of,
        minutes=minutes,
        unmet_needs=unmet,
        objective=objective,
        bound=min(bound, objective),
        status=status,
        solve_seconds=seconds,
        method=method,
        cadence_gaps=gaps,
    )
    plan.explanations = tuple(explain(instance, options, plan))
    plan.therapist_changes = therapist_changes(instance, options, plan.appointments, group_bookings)
    return plan
