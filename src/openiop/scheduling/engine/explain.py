"""Plain-words reasons for each participant the plan leaves below the weekly minimum.

The reasons come from the instance itself (which commitments block which sessions, which
sessions were full, which due appointments found no clinician), and the suggestion from
trying the other tracks of the same program against the person's commitments.
"""

from __future__ import annotations

from collections import defaultdict

from .model import (
    DAY_NAMES,
    MINUTES_PER_DAY,
    Explanation,
    GroupSession,
    Instance,
    Participant,
    Plan,
    Window,
    fmt_clock,
    fmt_hours,
)
from .options import Options

# A track's week as (start, end, counted minutes) of each group session.
Timetable = tuple[tuple[int, int, int], ...]

DASH = "\u2013"  # en dash between times and days


def describe_windows(windows: tuple[Window, ...] | list[Window]) -> str:
    """'work 9-17 Mon-Fri, caregiving 9-13 Sat' from weekly windows."""
    by_span: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    for w in windows:
        day = w.start // MINUTES_PER_DAY
        by_span[(w.label or "commitment", w.start - day * MINUTES_PER_DAY,
                 w.end - day * MINUTES_PER_DAY)].append(day)
    parts = []
    for (label, s, e), days in sorted(by_span.items(), key=lambda kv: min(kv[1])):
        parts.append(f"{label} {fmt_clock(s)}{DASH}{fmt_clock(e)} {describe_days(days)}")
    return ", ".join(parts)


def describe_days(days: list[int]) -> str:
    days = sorted(set(days))
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{DAY_NAMES[days[0]]}{DASH}{DAY_NAMES[days[-1]]}"
    return "/".join(DAY_NAMES[d % 7] for d in days)


def describe_sessions(sessions: list[GroupSession]) -> str:
    """'the Tue 18-21 sessions' from group sessions, merged per day."""
    per_day: dict[int, list[GroupSession]] = defaultdict(list)
    for s in sessions:
        per_day[s.start // MINUTES_PER_DAY].append(s)
    bits = []
    for day in sorted(per_day):
        lst = per_day[day]
        bits.append(f"{DAY_NAMES[day % 7]} {fmt_clock(min(s.start for s in lst))}{DASH}"
                    f"{fmt_clock(max(s.end for s in lst))}")
    return ", ".join(bits)


def _track_fit(sessions: list[GroupSession], p: Participant) -> int:
    """Counted minutes of a track's sessions the participant's commitments leave free."""
    return sum(
        g.counted_minutes for g in sessions
        if g.counted_minutes and not any(w.overlaps(g.start, g.end) for w in p.busy)
    )


def explain(instance: Instance, options: Options, plan: Plan) -> list[Explanation]:
    """One explanation per participant left below the minimum or with a due appointment
    unbooked. Linear in the week's size: sessions are indexed by track and tracks by
    program once, so each participant only looks at their own program's sessions."""
    tracks = {t.id: t for t in instance.tracks}
    by_track: dict[str, list[GroupSession]] = defaultdict(list)
    for g in instance.groups:
        by_track[g.track].append(g)
    for lst in by_track.values():
        lst.sort(key=lambda g: g.start)
    # Tracks with the same timetable (parallel groups of one program) fit a person equally:
    # each program's tracks are grouped by timetable, keeping the two highest ids of each
    # (the suggestion's tie-break), so a person is compared with a few timetables, not
    # with every track of the program.
    def timetable(track_id: str) -> Timetable:
        return tuple((g.start, g.end, g.counted_minutes) for g in by_track.get(track_id, []))

    timetables: dict[str, dict[Timetable, list[str]]] = defaultdict(lambda: defaultdict(list))
    for t in instance.tracks:
        timetables[t.program][timetable(t.id)].append(t.id)
    for per_program in timetables.values():
        for sig, ids in per_program.items():
            per_program[sig] = sorted(ids, reverse=True)[:2]
    gaps = {g.need: g for g in plan.cadence_gaps}
    # Commitments repeat (the same work hours for many people): a timetable's fit is
    # computed once per distinct set of commitments, not once per person.
    fit_cache: dict[tuple[Timetable, tuple[Window, ...]], int] = {}

    def fit_of(sig: Timetable, track_id: str, p: Participant) -> int:
        key = (sig, p.busy)
        if key not in fit_cache:
            fit_cache[key] = _track_fit(by_track.get(track_id, []), p)
        return fit_cache[key]

    def best_alternative(p: Participant, current: str) -> tuple[int, str] | None:
        best = None
        for sig, ids in timetables.get(p.program, {}).items():
            other = next((i for i in ids if i != current), None)
            if other is not None:
                best = max(best or (-1, ""), (fit_of(sig, other, p), other))
        return best

    out: list[Explanation] = []
    unmet = set(plan.unmet_needs)
    for p in instance.participants:
        got = plan.minutes.get(p.id, 0)
        if got >= p.minimum_minutes and not any(n.id in unmet for n in p.needs):
            continue
        track = plan.chosen_track.get(p.id) or (p.tracks[0] if p.tracks else "")
        sessions = by_track.get(track, [])
        counted_sessions = [g for g in sessions if g.counted_minutes]
        free = [g for g in counted_sessions if not any(w.overlaps(g.start, g.end) for w in p.busy)]
        free_ids = {g.id for g in free}
        blocked = [g for g in counted_sessions if g.id not in free_ids]
        booked = set(plan.group_bookings.get(p.id, ()))
        full = [g for g in free if g.id not in booked]
        name = tracks[track].label if track in tracks else "their track"
        need_text = fmt_hours(got) + " of " + fmt_hours(p.minimum_minutes)
        reasons: list[str] = []
        if not sessions:
            reasons.append(f"{name} has no group sessions this week")
        elif blocked:
            labels = {w.label for w in p.busy if any(w.overlaps(g.start, g.end) for g in blocked)}
            blockers = [w for w in p.busy if w.label in labels]
            if free:
                reasons.append(f"{describe_windows(blockers)} leaves only {describe_sessions(free)} "
                               f"of {name}")
            else:
                reasons.append(f"{describe_windows(blockers)} overlaps every session of {name}")
        total_track = sum(g.counted_minutes for g in counted_sessions)
        if sessions and total_track < p.minimum_minutes and not blocked:
            reasons.append(f"{name} offers only {fmt_hours(total_track)} a week")
        if full:
            reasons.append(f"{len(full)} session(s) it fits were full or clashed: "
                           f"{describe_sessions(full)}")
        for need in p.needs:
            if need.id in unmet:
                gap = gaps.get(need.id)
                why = gap.reason if gap else options.no_candidate.get(
                    need.id, "every candidate time was taken")
                rule = f" ({need.rule})" if need.rule else ""
                reasons.append(f"{need.kind} appointment{rule} not booked because {why}")
        reason = "; ".join(reasons) or "the week's sessions did not add up to the minimum"
        reason = f"{reason[0].upper()}{reason[1:]} ({need_text})."

        suggestion = ""
        alternative = best_alternative(p, track)
        current_fit = fit_of(timetable(track), track, p) if track else 0
        if alternative is not None and alternative[0] > current_fit:
            fit, best = alternative[0], tracks[alternative[1]]
            enough = "enough for the minimum" if fit >= p.minimum_minutes else "more than now"
            suggestion = (f"Offer {best.label}: it fits around these commitments "
                          f"({fmt_hours(fit)} a week, {enough}).")
        elif blocked:
            day = DAY_NAMES[(blocked[0].start // MINUTES_PER_DAY) % 7]
            suggestion = (f"Ask whether a commitment can move on {day}, or add an individual "
                          "session on a free day; otherwise review the level of care.")
        elif any(n.id in gaps for n in p.needs):
            suggestion = next(gaps[n.id].suggestion for n in p.needs if n.id in gaps)
        elif any(n.id in unmet for n in p.needs):
            suggestion = "Free a clinician's hour outside the participant's commitments, or use telehealth."
        else:
            suggestion = "Add a session to the track or review the level of care."
        out.append(Explanation(p.id, got, p.minimum_minutes, reason, suggestion))
    return out
