"""Plain dataclasses the scheduling engine reads and writes (no Django here).

Time is counted in minutes from Monday 00:00 of the planned week, in the organization's
local time zone: the Django adapter (`openiop.scheduling.planning`) converts dated
sessions to and from these numbers, so the engine never sees a time zone and a session
crossing midnight is simply an interval that spans two days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MINUTES_PER_DAY = 24 * 60
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class PlanStatus(StrEnum):
    """How a plan was found (stored as its value in a proposal's metrics)."""

    OPTIMAL = "OPTIMAL"  # CP-SAT proved it the best
    FEASIBLE = "FEASIBLE"  # CP-SAT's best within its time, not proven
    GREEDY = "GREEDY"  # the greedy baseline, asked for
    GREEDY_FALLBACK = "GREEDY_FALLBACK"  # CP-SAT found nothing in time: the greedy plan


@dataclass(frozen=True)
class Window:
    """A half-open interval [start, end) in minutes of the week, with a label for explanations."""

    start: int
    end: int
    label: str = ""

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"window {self.label or ''} must end after it starts "
                             f"({self.start} >= {self.end})")

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class Room:
    id: str
    site: str
    capacity: int
    kind: str = "office"  # office (individual, medication) | family | group


@dataclass(frozen=True)
class Clinician:
    id: str
    name: str
    credentials: frozenset[str]
    windows: tuple[Window, ...]  # when they work and can see people
    max_weekly_minutes: int = 40 * 60


@dataclass(frozen=True)
class GroupSession:
    """A dated group occurrence of a track (times fixed by the session template)."""

    id: str
    track: str
    kind: str
    start: int
    end: int
    site: str
    capacity: int
    counted_minutes: int  # minutes that count toward weekly hours (0 when they do not)
    room: str | None = None
    facilitator: str | None = None
    title: str = ""

    @property
    def minutes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Need:
    """An appointment due this week by a cadence rule (individual, family, medication)."""

    id: str
    kind: str  # individual | family | medication
    minutes: int
    credentials: frozenset[str]  # facilitator must hold at least one of these
    counted: bool = True
    preferred_clinician: str | None = None  # continuity: the usual therapist or prescriber
    room_kind: str = "office"
    rule: str = ""  # the cadence rule that made it due, in plain words
    # Where it is booked now (clinician, start), when an earlier plan or a person booked it
    # and did not pin it: re-planning keeps it there unless something better requires a move.
    current: tuple[str, int] | None = None
    # How the care team names the usual clinician, when it does (e.g. "family therapist"):
    # a change is then explained as that person of the care team not being able to take it.
    usual_role: str = ""


@dataclass(frozen=True)
class FixedAppointment:
    """An appointment kept as it is (pinned by hand or already in the calendar)."""

    id: str
    kind: str
    start: int
    end: int
    site: str
    clinician: str | None
    room: str | None
    counted_minutes: int


@dataclass(frozen=True)
class Participant:
    id: str
    label: str  # how staff refer to the person in explanations (never clinical content)
    program: str
    tracks: tuple[str, ...]  # enrolled track first; alternatives after it
    site: str
    minimum_minutes: int
    busy: tuple[Window, ...] = ()  # work, school and other commitments
    needs: tuple[Need, ...] = ()
    pinned_sessions: tuple[str, ...] = ()  # group sessions kept whatever the plan
    fixed: tuple[FixedAppointment, ...] = ()


@dataclass(frozen=True)
class Track:
    id: str
    program: str
    label: str  # e.g. "Evening (Mon/Tue/Thu 18:00-21:00)"


@dataclass(frozen=True)
class Instance:
    participants: tuple[Participant, ...]
    clinicians: tuple[Clinician, ...]
    rooms: tuple[Room, ...]
    groups: tuple[GroupSession, ...]
    tracks: tuple[Track, ...] = ()
    travel_minutes: dict[tuple[str, str], int] = field(default_factory=dict)
    default_travel_minutes: int = 30
    slot_step: int = 30
    # Appointments are offered between these minutes of the day (local time).
    day_start: int = 7 * 60
    day_end: int = 21 * 60
    label: str = ""

    def travel(self, a: str, b: str) -> int:
        if a == b:
            return 0
        return self.travel_minutes.get((a, b), self.travel_minutes.get((b, a),
                                                                        self.default_travel_minutes))


@dataclass(frozen=True)
class Appointment:
    need: str
    participant: str
    kind: str
    clinician: str
    room: str
    site: str
    start: int
    end: int


@dataclass(frozen=True)
class CadenceGap:
    """A due appointment (a cadence rule) that no plan can book this week, and why."""

    need: str
    participant: str
    kind: str
    rule: str
    reason: str
    suggestion: str
    proven: bool  # the solver proved no plan books every due appointment


@dataclass(frozen=True)
class TherapistChange:
    """A due appointment booked with someone other than the participant's usual clinician
    (continuity is a rule: this only happens when that clinician cannot take it), and why."""

    need: str
    participant: str
    kind: str
    usual: str  # clinician id of the primary therapist / family therapist / prescriber
    assigned: str  # clinician id who takes it this week
    reason: str
    usual_role: str = ""  # how the care team names the usual clinician (Need.usual_role)


@dataclass(frozen=True)
class Explanation:
    participant: str
    minutes_planned: int
    minimum_minutes: int
    reason: str
    suggestion: str


@dataclass
class Plan:
    """The engine's answer. `objective` is a penalty (lower is better)."""

    group_bookings: dict[str, tuple[str, ...]]  # participant -> group session ids
    appointments: tuple[Appointment, ...]
    chosen_track: dict[str, str]
    minutes: dict[str, int]  # participant -> counted minutes planned
    unmet_needs: tuple[str, ...]
    objective: int
    bound: int
    status: PlanStatus
    solve_seconds: float
    explanations: tuple[Explanation, ...] = ()
    method: str = "cp-sat"
    # Cadence rules are hard: every due appointment is booked except these, each with the
    # reason no placement exists (an infeasible week is explained, never silently thinned).
    cadence_gaps: tuple[CadenceGap, ...] = ()
    # Appointments given to another clinician than the usual one, each with the reason.
    therapist_changes: tuple[TherapistChange, ...] = ()
    # The greedy baseline on the same week, measured inside solve() so callers need not
    # run greedy again: objective, meeting_minimum, share_meeting_minimum, appointments.
    baseline: dict[str, float] = field(default_factory=dict)
    # Where solve() spent its time: seconds per step (options, greedy, seats, rebooking,
    # cadence, start, model, relaxation, search, plan), in order, and the process's peak
    # resident memory in MB when each step ended (None where the platform cannot say).
    # Measured, never used to decide anything; the benchmark reports them.
    phases: dict[str, float] = field(default_factory=dict)
    phase_peak_mb: dict[str, int | None] = field(default_factory=dict)

    @property
    def cadence_met(self) -> bool:
        return not self.cadence_gaps

    @property
    def infeasible_needs(self) -> dict[str, str]:
        return {g.need: g.reason for g in self.cadence_gaps}

    @property
    def gap(self) -> float:
        if self.objective <= 0:
            return 0.0
        return max(0.0, (self.objective - self.bound) / self.objective)

    def track_moves(self, instance: Instance) -> list[tuple[str, str, str]]:
        """(participant, enrolled track, proposed track) for everyone the plan places in an
        alternative track: a proposal for the director, not a change of enrollment."""
        return [(p.id, p.tracks[0], self.chosen_track[p.id]) for p in instance.participants
                if p.tracks and self.chosen_track.get(p.id, p.tracks[0]) != p.tracks[0]]

    def meeting_minimum(self, instance: Instance) -> int:
        return sum(1 for p in instance.participants if self.minutes.get(p.id, 0) >= p.minimum_minutes)

    def share_meeting_minimum(self, instance: Instance) -> float:
        n = len(instance.participants)
        return self.meeting_minimum(instance) / n if n else 1.0


def fmt_clock(minute_of_week: int) -> str:
    m = minute_of_week % MINUTES_PER_DAY
    return f"{m // 60}:{m % 60:02d}" if m % 60 else f"{m // 60}"


def fmt_day(minute_of_week: int) -> str:
    return DAY_NAMES[(minute_of_week // MINUTES_PER_DAY) % 7]


def fmt_hours(minutes: int) -> str:
    h, m = divmod(int(minutes), 60)
    return f"{h} h" if not m else f"{h} h {m:02d}"
