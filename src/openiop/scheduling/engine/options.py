"""The choices the engine may make, shared by the CP-SAT model and the greedy baseline.

Decomposition that keeps 1,000 participants tractable: group membership is mostly fixed by
enrollment (a participant is offered only the sessions of their own track, or of an
alternative track listed on their record), so the combinatorial part is the appointments.
Each due appointment gets a bounded list of candidate (clinician, start) pairs, ranked so
that the usual clinician and days the participant already comes in are tried first.
Everything that can be decided without search (busy windows, clinician's own groups,
fixed appointments) is filtered out here, before any variable exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from .model import (
    MINUTES_PER_DAY,
    Clinician,
    GroupSession,
    Instance,
    Need,
    Participant,
    Window,
)

# Objective weights, in priority order (participants meeting their minimum, then
# continuity, then fewer travel days, then balanced groups). Each tier's weight exceeds
# what the tiers below can add up to for one participant.
W_UNMET_NEED = 1_000_000  # a cadence appointment left unbooked
W_BELOW_MIN = 100_000  # a participant below the weekly minimum
# Continuity of care is a rule: an individual, family or medication appointment goes to
# the participant's usual clinician (primary therapist, the care team's family therapist,
# the prescriber) unless that clinician cannot take it this week. The weight sits just
# below a participant's weekly minimum and above everything else, so the usual clinician
# is only replaced to book a due appointment at all or to keep someone at the minimum;
# every replacement is listed in the plan with the reason (plan.therapist_changes).
# Continuity of the therapeutic relationship predicts outcome (Flückiger et al., "The
# alliance in adult psychotherapy: a meta-analytic synthesis", Psychotherapy 55(4), 2018).
W_THERAPIST_CHANGE = 50_000
W_SHORT_MINUTE = 100  # each minute short of the minimum
W_SKIPPED_GROUP = 500  # an attendable session of the chosen track left unbooked
W_CONTINUITY = 40  # another track than the enrolled one
W_MOVED = 40  # an appointment already in the calendar moved to another time or clinician
W_TRAVEL_DAY = 10  # each day the participant has to come in
W_BALANCE = 1  # the largest group of a program (keeps parallel groups even)

MAX_PREFERRED_CANDIDATES = 32
MAX_OTHER_CANDIDATES = 16
MAX_OTHER_CLINICIANS = 4  # alternatives to the usual clinician, per appointment
MAX_SCANNED_CLINICIANS = 16
# A need the shortlist could not place gets every candidate, up to this many (the usual
# clinician's first): enough to place it in practice, while a clinic of thousands does not
# turn one unplaced need into tens of thousands of variables. A need whose list was cut
# here is never reported as *proven* impossible (Options.truncated).
MAX_UNCAPPED_CANDIDATES = 400


@dataclass(frozen=True)
class GroupOption:
    key: int
    participant: str
    session: GroupSession
    track: str
    pinned: bool

    @property
    def start(self) -> int:
        return self.session.start

    @property
    def end(self) -> int:
        return self.session.end

    @property
    def site(self) -> str:
        return self.session.site

    @property
    def counted(self) -> int:
        return self.session.counted_minutes


@dataclass(frozen=True)
class AppointmentOption:
    key: int
    participant: str
    need: Need
    clinician: str
    start: int
    end: int
    site: str
    preferred: bool

    @property
    def counted(self) -> int:
        return self.need.minutes if self.need.counted else 0

    @property
    def is_current(self) -> bool:
        return self.need.current == (self.clinician, self.start)


@dataclass
class Options:
    groups: dict[str, list[GroupOption]]  # participant -> options
    appointments: dict[str, dict[str, list[AppointmentOption]]]  # participant -> need -> options
    conflicts: list[tuple[int, int]]  # option keys that cannot both be chosen
    fixed_minutes: dict[str, int]  # counted minutes of fixed appointments per participant
    fixed_days: dict[str, set[int]]
    clinician_fixed_minutes: dict[str, int]
    attendable: dict[tuple[str, str], int]  # (participant, track) -> attendable sessions
    no_candidate: dict[str, str]  # need id -> why no candidate exists
    truncated: frozenset[str] = frozenset()  # uncapped needs whose candidates were cut
    # Free starts of the usual clinician past the shortlist's cut, per need (best first):
    # not in the model, but continuity.keep_usual may take one for a stand-in appointment.
    usual_reserve: dict[str, list[int]] = field(default_factory=dict)
    next_key: int = 0  # the key a candidate added later gets

    def all_options(self) -> list[GroupOption | AppointmentOption]:
        out: list[GroupOption | AppointmentOption] = []
        for p in sorted(self.groups):
            out.extend(self.groups[p])
        for p in sorted(self.appointments):
            for n in sorted(self.appointments[p]):
                out.extend(self.appointments[p][n])
        return out


def _day(minute: int) -> int:
    return minute // MINUTES_PER_DAY


def build_options(instance: Instance, uncapped: frozenset[str] = frozenset(),
                  usual_uncapped: frozenset[str] = frozenset(),
                  only: frozenset[str] | None = None) -> Options:
    """Every choice of the week. Needs named in `uncapped` get every candidate (each
    eligible clinician at every free start) instead of the ranked shortlist, so that a
    need the shortlist cannot place is proved unplaceable, not merely unlucky. Needs named
    in `usual_uncapped` keep the shortlist of others but get every free start of their
    usual clinician: a change of clinician is then never due to the shortlist's cut.
    With `only` (participant ids), only those participants' options are built (what the
    others' fixed appointments take from clinicians still counts)."""
    groups_by_track: dict[str, list[GroupSession]] = defaultdict(list)
    for g in instance.groups:
        groups_by_track[g.track].append(g)
    for lst in groups_by_track.values():
        lst.sort(key=lambda g: (g.start, g.id))
    # What each clinician already does this week: facilitated groups and fixed appointments.
    clinician_busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    clinician_fixed: dict[str, int] = defaultdict(int)
    for g in instance.groups:
        if g.facilitator:
            clinician_busy[g.facilitator].append((g.start, g.end))
            clinician_fixed[g.facilitator] += g.minutes
    for p in instance.participants:
        for fa in p.fixed:
            if fa.clinician:
                clinician_busy[fa.clinician].append((fa.start, fa.end))
                clinician_fixed[fa.clinician] += fa.end - fa.start
    room_kinds_at_site = {(r.site, r.kind) for r in instance.rooms}

    key = 0
    groups: dict[str, list[GroupOption]] = {}
    appts: dict[str, dict[str, list[AppointmentOption]]] = {}
    conflicts: list[tuple[int, int]] = []
    fixed_minutes: dict[str, int] = {}
    fixed_days: dict[str, set[int]] = {}
    attendable: dict[tuple[str, str], int] = {}
    no_candidate: dict[str, str] = {}
    truncated: set[str] = set()
    usual_reserve: dict[str, list[int]] = {}

    starts_cache: dict[tuple[str, int], list[int]] = {}
    eligible_cache: dict[frozenset[str], list[Clinician]] = {}
    position: dict[frozenset[str], dict[str, int]] = {}
    clinicians = {c.id: c for c in instance.clinicians}

    def free_starts(cid: str, minutes: int) -> list[int]:
        """Grid start times when the clinician works and facilitates nothing."""
        cached = starts_cache.get((cid, minutes))
        if cached is not None:
            return cached
        out = []
        cbusy = clinician_busy.get(cid, [])
        for w in clinicians[cid].windows:
            day = _day(w.start)
            lo = max(w.start, day * MINUTES_PER_DAY + instance.day_start)
            hi = min(w.end, day * MINUTES_PER_DAY + instance.day_end)
            start = lo + (-(lo - day * MINUTES_PER_DAY)) % instance.slot_step
            while start + minutes <= hi:
                if not any(s < start + minutes and start < e for s, e in cbusy):
                    out.append(start)
                start += instance.slot_step
        starts_cache[(cid, minutes)] = out
        return out

    for p_index, p in enumerate(instance.participants):
        if only is not None and p.id not in only:
            continue
        busy = p.busy
        fixed = [(fa.start, fa.end, fa.site) for fa in p.fixed]
        fixed_minutes[p.id] = sum(fa.counted_minutes for fa in p.fixed)
        fixed_days[p.id] = {_day(fa.start) for fa in p.fixed}
        pinned = set(p.pinned_sessions)

        def blocked(start: int, end: int, site: str, *, _busy: tuple[Window, ...] = busy,
                    _fixed: list[tuple[int, int, str]] = fixed) -> bool:
            if any(w.overlaps(start, end) for w in _busy):
                return True
            return any(
                s < end + instance.travel(site, fs) and start < e + instance.travel(site, fs)
                for s, e, fs in _fixed
            )

        gopts: list[GroupOption] = []
        for t in p.tracks:
            count = 0
            for g in groups_by_track.get(t, []):
                if g.id in pinned or not blocked(g.start, g.end, g.site):
                    gopts.append(GroupOption(key, p.id, g, t, g.id in pinned))
                    key += 1
                    count += 1
            attendable[(p.id, t)] = count
        groups[p.id] = gopts
        # Days and times the participant comes in for groups: appointments next to them
        # save a trip (objective tier 3).
        track_sessions = [o.session for o in gopts if o.track == p.tracks[0]] if p.tracks else []
        group_days = {_day(s.start) for s in track_sessions} | fixed_days[p.id]
        sessions_by_day: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
        for s in track_sessions:
            sessions_by_day[_day(s.start)].append((s.start, s.end, s.site))

        appts[p.id] = {}
        for need in p.needs:
            if (p.site, need.room_kind) not in room_kinds_at_site:
                no_candidate[need.id] = f"the participant's site has no {need.room_kind} room"
                appts[p.id][need.id] = []
                continue
            eligible = eligible_cache.get(need.credentials)
            if eligible is None:
                eligible = eligible_cache[need.credentials] = [
                    c for c in instance.clinicians
                    if not need.credentials or c.credentials & need.credentials]
                position[need.credentials] = {c.id: i for i, c in enumerate(eligible)}
            if not eligible:
                creds = " or ".join(sorted(need.credentials))
                no_candidate[need.id] = f"no clinician holds {creds}"
                appts[p.id][need.id] = []
                continue
            ranked: list[tuple[tuple[bool, int, int, int, str], str, int]] = []
            # The usual clinician, then a few others, rotated by participant so that the
            # alternatives spread over the team instead of all naming the same person.
            # Lazily, so that a shortlist of a few clinicians costs a few steps, not a pass
            # over the whole (possibly very large) team for every need.
            considered = _rotated(eligible, position[need.credentials].get(
                need.preferred_clinician or ""), p_index)
            with_room = 0
            capped = need.id not in uncapped
            for n_scanned, c in enumerate(considered):
                if capped and c.id != need.preferred_clinician and (
                    with_room >= MAX_OTHER_CLINICIANS or n_scanned > MAX_SCANNED_CLINICIANS
                ):
                    break
                if not capped and len(ranked) >= 2 * MAX_UNCAPPED_CANDIDATES:
                    truncated.add(need.id)
                    break
                found = 0
                starts = free_starts(c.id, need.minutes)
                if need.current and need.current[0] == c.id and need.current[1] not in starts \
                        and _fits(clinicians[c.id], clinician_busy.get(c.id, []),
                                  need.current[1], need.minutes):
                    starts = [need.current[1], *starts]  # off the grid, where it is booked now
                for start in starts:
                    end = start + need.minutes
                    if blocked(start, end, p.site):
                        continue
                    day = start // MINUTES_PER_DAY
                    same_day = sessions_by_day.get(day, ())
                    near = min((min(abs(start - s_end), abs(s_start - end))
                                for s_start, s_end, _ in same_day), default=MINUTES_PER_DAY)
                    clash = any(s_start < end + instance.travel(p.site, s_site)
                                and start < s_end + instance.travel(p.site, s_site)
                                for s_start, s_end, s_site in same_day)
                    ranked.append(((clash, 0 if day in group_days else 1, near, start, c.id),
                                   c.id, start))
                    found += 1
                if found and c.id != need.preferred_clinician:
                    with_room += 1
            # Where it is booked now comes first, when that time is still possible.
            current = [r for r in ranked if (r[1], r[2]) == need.current]
            ranked = [r for r in ranked if (r[1], r[2]) != need.current]
            preferred = sorted(r for r in ranked if r[1] == need.preferred_clinician)
            others = sorted(r for r in ranked if r[1] != need.preferred_clinician)
            if not capped and len(preferred) + len(others) > MAX_UNCAPPED_CANDIDATES:
                truncated.add(need.id)
            n_preferred = (len(preferred) if need.id in usual_uncapped
                           else MAX_PREFERRED_CANDIDATES)
            if capped and len(preferred) > n_preferred:
                usual_reserve[need.id] = [start for _s, _c, start in preferred[n_preferred:]]
            chosen = current + (
                preferred[:n_preferred] + others[:MAX_OTHER_CANDIDATES]
                if capped else (preferred + others)[:MAX_UNCAPPED_CANDIDATES])
            if not chosen:
                no_candidate[need.id] = _no_time_reason(p, eligible)
            candidates: list[AppointmentOption] = []
            for _score, cid, start in chosen:
                candidates.append(AppointmentOption(key, p.id, need, cid, start, start + need.minutes,
                                             p.site, cid == need.preferred_clinician))
                key += 1
            appts[p.id][need.id] = candidates

        # Conflicts between this participant's own options (overlap or too little travel
        # time between sites). Options of the same need are exclusive anyway.
        items: list[tuple[int, int, str, int, str]] = [
            (o.start, o.end, o.site, o.key, "g") for o in gopts
        ]
        for nid, need_opts in appts[p.id].items():
            items.extend((o.start, o.end, o.site, o.key, nid) for o in need_opts)
        items.sort()
        max_travel = max([instance.default_travel_minutes, *instance.travel_minutes.values()])
        for i, (s1, e1, site1, k1, n1) in enumerate(items):
            for s2, e2, site2, k2, n2 in items[i + 1:]:
                if s2 >= e1 + max_travel:
                    break
                if n1 == n2 and n1 != "g":
                    continue
                gap = instance.travel(site1, site2)
                if s2 < e1 + gap and s1 < e2 + gap:
                    conflicts.append((k1, k2))

    return Options(groups, appts, conflicts, fixed_minutes, fixed_days, dict(clinician_fixed),
                   attendable, no_candidate, frozenset(truncated), usual_reserve, key)


def widen(instance: Instance, options: Options, need_ids: frozenset[str]) -> int:
    """Give the named needs every candidate, as `build_options(uncapped=need_ids)` would,
    in place: candidates their lists lack are appended with new keys (the keys already
    chosen by any selection stay valid) and with their conflicts with the participant's
    other options. Returns how many were added."""
    if not need_ids:
        return 0
    people = frozenset(pid for pid, needs in options.appointments.items()
                       if any(nid in need_ids for nid in needs))
    full = build_options(instance, uncapped=need_ids, only=people)
    added = 0
    for pid, needs in full.appointments.items():
        for nid, wide in needs.items():
            if nid not in need_ids:
                continue
            lst = options.appointments[pid][nid]
            have = {(o.clinician, o.start) for o in lst}
            mine: list[GroupOption | AppointmentOption] = [
                *options.groups[pid],
                *(x for other, xs in options.appointments[pid].items() if other != nid
                  for x in xs)]
            for c in wide:
                if (c.clinician, c.start) in have:
                    continue
                new = replace(c, key=options.next_key)
                options.next_key += 1
                lst.append(new)
                have.add((c.clinician, c.start))
                for x in mine:
                    gap = instance.travel(new.site, x.site)
                    if x.start < new.end + gap and new.start < x.end + gap:
                        options.conflicts.append((x.key, new.key))
                added += 1
            # The usual clinician's starts now listed leave the reserve (keep_usual).
            listed = {o.start for o in lst if o.preferred}
            if nid in options.usual_reserve:
                options.usual_reserve[nid] = [t for t in options.usual_reserve[nid]
                                              if t not in listed]
    options.truncated = options.truncated | (full.truncated & need_ids)
    return added


def _rotated(eligible: list[Clinician], usual: int | None, shift: int) -> Iterator[Clinician]:
    """The usual clinician (at index `usual`, when eligible) first, then the others
    starting at `shift` (mod their number) and wrapping around: alternatives spread over
    the team instead of all naming the same person. Same order as rotating the list of
    the others, produced one at a time."""
    if usual is not None:
        yield eligible[usual]
    n_others = len(eligible) - (usual is not None)
    if not n_others:
        return
    start = shift % n_others
    # Index among the others -> index in `eligible` (skipping the usual clinician).
    skip = usual if usual is not None else len(eligible)
    for k in range(n_others):
        i = (start + k) % n_others
        yield eligible[i + 1 if i >= skip else i]


def _fits(c: Clinician, busy: list[tuple[int, int]], start: int, minutes: int) -> bool:
    """The clinician works the whole interval and leads nothing during it."""
    end = start + minutes
    return any(w.start <= start and end <= w.end for w in c.windows) and not any(
        s < end and start < e for s, e in busy)


def _no_time_reason(p: Participant, eligible: list[Clinician]) -> str:
    from .explain import describe_windows  # explain imports this module

    names = ", ".join(c.name for c in eligible[:3]) + (" and others" if len(eligible) > 3 else "")
    text = f"no clinician who may provide it ({names}) works at a time the participant is free"
    if p.busy:
        text += f" outside {describe_windows(p.busy)}"
    return text + " and away from their other sessions"


def score_selection(
    instance: Instance, options: Options, chosen: set[int], tracks: dict[str, str] | None = None
) -> tuple[int, dict[str, int]]:
    """The objective (a penalty) of a set of chosen option keys, and its parts.

    The CP-SAT model encodes exactly this function; the greedy baseline and the tests use
    it directly, so both are measured on the same scale.
    """
    parts: defaultdict[str, int] = defaultdict(int)
    program_sizes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in instance.participants:
        gsel = [o for o in options.groups[p.id] if o.key in chosen]
        asel = [o for lst in options.appointments[p.id].values() for o in lst if o.key in chosen]
        minutes = options.fixed_minutes[p.id] + sum(o.counted for o in gsel) + sum(
            o.counted for o in asel)
        short = max(0, p.minimum_minutes - minutes)
        if short:
            parts["below_minimum"] += 1
            parts["short_minutes"] += short
        track = chosen_track(p, gsel) if tracks is None else tracks.get(p.id, "")
        if track and p.tracks and track != p.tracks[0]:
            parts["continuity"] += 1
        if track:
            parts["skipped_groups"] += options.attendable.get((p.id, track), 0) - sum(
                1 for o in gsel if o.track == track)
        for nid, lst in options.appointments[p.id].items():
            picked = [o for o in lst if o.key in chosen]
            if not picked:
                parts["unmet_needs"] += 1
            elif not picked[0].preferred and picked[0].need.preferred_clinician:
                parts["therapist_changes"] += 1
            if lst and lst[0].need.current and not (picked and picked[0].is_current):
                parts["moved"] += 1
            del nid
        days = {_day(o.start) for o in gsel} | {_day(o.start) for o in asel} | options.fixed_days[p.id]
        parts["travel_days"] += len(days)
        for o in gsel:
            program_sizes[p.program][o.session.id] += 1
    parts["balance"] = sum(max(s.values(), default=0) for s in program_sizes.values())
    total = (
        W_UNMET_NEED * parts["unmet_needs"]
        + W_BELOW_MIN * parts["below_minimum"]
        + W_SHORT_MINUTE * parts["short_minutes"]
        + W_SKIPPED_GROUP * parts["skipped_groups"]
        + W_THERAPIST_CHANGE * parts["therapist_changes"]
        + W_CONTINUITY * parts["continuity"]
        + W_MOVED * parts["moved"]
        + W_TRAVEL_DAY * parts["travel_days"]
        + W_BALANCE * parts["balance"]
    )
    return total, dict(parts)


def chosen_track(p: Participant, gsel: list[GroupOption]) -> str:
    """The track a selection places the participant in (the enrolled one when no group)."""
    used = {o.track for o in gsel}
    if used:
        return min(used, key=p.tracks.index)
    return p.tracks[0] if p.tracks else ""
