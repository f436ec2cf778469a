"""The weekly plan proposal's declared shape.

`PlanRun.result` stores a proposal as JSON; everything that reads it (the plan page, the
JSON API, applying the plan) goes through `PlanProposal.from_json` rather than indexing raw
dictionaries, and `plan_week` builds one and stores `to_json()`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from openiop.scheduling.engine.model import PlanStatus

# Within this share of the proven bound the page calls the plan "within N % of the best
# possible"; at 0 it is "the best possible plan".
NEAR_BEST_SHARE = 0.02


@dataclass(frozen=True)
class PlanMetrics:
    participants: int
    status: str
    method: str
    objective: int
    bound: int
    gap: float
    solve_seconds: float
    share_meeting_minimum: float
    greedy_share_meeting_minimum: float
    greedy_objective: int
    appointments: int
    due_appointments: int
    cadence_met: bool

    @property
    def best_possible(self) -> bool:
        """CP-SAT proved the plan optimal, or no better one can exist (no gap to the bound)."""
        return self.status == PlanStatus.OPTIMAL or self.gap <= 0

    @property
    def quality(self) -> str:
        """How good the plan is, in the clinic's words (the numbers stay in the API)."""
        if self.best_possible:
            return "The best possible plan was found."
        percent = max(1, round(self.gap * 100 + 0.4999))
        if self.gap <= NEAR_BEST_SHARE:
            return f"Within {percent} % of the best possible plan."
        return (f"A good plan, at most {percent} % from the best possible; the planner ran out "
                "of time before it could prove a better one does not exist.")


    @property
    def kept(self) -> str:
        """Which plan the planner kept: the solver's answer is kept only when it is at
        least as good as the starting plan (the quick first plan, or one built from it) on
        the objective and on people at their weekly minimum; otherwise the starting plan."""
        if self.method == "cp-sat":
            return "Kept the solver's plan: at least as good as the quick first plan."
        start = {
            "greedy": "the quick first plan",
            "seats-first": "a plan with seats and tracks decided first, better than the quick "
                           "first plan",
            "cadence-first": "a plan that books the due appointments the quick first plan "
                             "missed",
        }.get(self.method, "the quick first plan")
        return f"Kept {start}: the solver found nothing better in the time given."


@dataclass(frozen=True)
class CadenceGap:
    participant: str
    name: str
    code: str
    kind: str
    rule: str
    reason: str
    suggestion: str
    proven: bool


@dataclass(frozen=True)
class Explanation:
    participant: str
    name: str
    code: str
    planned_minutes: int
    minimum_minutes: int
    reason: str
    suggestion: str


@dataclass(frozen=True)
class ProposedAppointment:
    participant: str
    need: str
    kind: str
    clinician: str
    room: str | None
    site: str
    start: str
    end: str

    @property
    def starts_at(self) -> datetime:
        return datetime.fromisoformat(self.start)

    @property
    def ends_at(self) -> datetime:
        return datetime.fromisoformat(self.end)


@dataclass(frozen=True)
class DiffRow:
    participant: str
    name: str
    change: str  # "add" | "remove"
    what: str
    when: str

    @property
    def at(self) -> datetime:
        return datetime.fromisoformat(self.when)


@dataclass(frozen=True)
class TherapistChange:
    """An individual or family appointment the plan gives to someone other than the
    participant's usual clinician, and why (continuity is a rule: this is the exception)."""

    participant: str
    name: str
    what: str
    when: str
    usual: str
    assigned: str
    reason: str
    usual_role: str = ""  # how the care team names the usual clinician ("family therapist")

    @property
    def at(self) -> datetime:
        return datetime.fromisoformat(self.when)


@dataclass(frozen=True)
class TrackMove:
    """A person the plan seats in an acceptable other track of their program (listed on
    their enrollment) because their own does not serve them this week: a proposal the
    director accepts or declines when applying the plan."""

    participant: str  # engine id (the participant's pk)
    name: str
    code: str  # the participant's code (links to the chart)
    enrollment: str  # the enrollment's code when the plan was made
    from_track: str
    to_track: str
    from_code: str  # track codes
    to_code: str
    reason: str
    sessions: int  # group sessions of the other track the plan books for them


@dataclass(frozen=True)
class PlanProposal:
    fingerprint: str
    metrics: PlanMetrics
    cadence_gaps: list[CadenceGap] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    appointments: list[ProposedAppointment] = field(default_factory=list)
    minutes: dict[str, int] = field(default_factory=dict)
    minimum: dict[str, int] = field(default_factory=dict)
    explanations: list[Explanation] = field(default_factory=list)
    diff: list[DiffRow] = field(default_factory=list)
    therapist_changes: list[TherapistChange] = field(default_factory=list)
    track_moves: list[TrackMove] = field(default_factory=list)

    @property
    def adds(self) -> int:
        return sum(1 for r in self.diff if r.change == "add")

    @property
    def removes(self) -> int:
        return sum(1 for r in self.diff if r.change == "remove")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanProposal:
        return cls(
            fingerprint=data["fingerprint"],
            metrics=PlanMetrics(**data["metrics"]),
            cadence_gaps=[CadenceGap(**g) for g in data.get("cadence_gaps", [])],
            groups={k: list(v) for k, v in data.get("groups", {}).items()},
            appointments=[ProposedAppointment(**a) for a in data.get("appointments", [])],
            minutes=dict(data.get("minutes", {})),
            minimum=dict(data.get("minimum", {})),
            explanations=[Explanation(**e) for e in data.get("explanations", [])],
            diff=[DiffRow(**r) for r in data.get("diff", [])],
            therapist_changes=[TherapistChange(**t)
                               for t in data.get("therapist_changes", [])],
            track_moves=[TrackMove(**t) for t in data.get("track_moves", [])],
        )
