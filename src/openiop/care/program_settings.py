"""A program's settings: every policy a program may change, with its default, in one place.

`Program.settings` stores only what the program set (JSON). `resolve(stored)` lays that over
the defaults below and validates it. A stored value that is not valid is not silently
replaced: the default is used for that value alone, and the problem is reported (in the log,
without clinical content, and on the director's program settings page, which names the
setting). Readers use `program.typed_settings` (a `ProgramSettings`), never the raw JSON.

These are program policies, not regulations; where a rule has a source it is cited in the
module that applies it (docs/clinical-rules.md, "Program policies").
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as SchemaError
from pydantic_core import ErrorDetails

logger = logging.getLogger("openiop.care.settings")

Weekday = Annotated[int, Field(ge=0, le=6)]
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoteTimeliness(_Part):
    """Hours after a session by which its note is due (the note timeliness report)."""

    group: int = Field(24, ge=1, le=720, title="Group note due within (hours)")
    individual: int = Field(72, ge=1, le=720, title="Individual note due within (hours)")
    family: int = Field(72, ge=1, le=720, title="Family note due within (hours)")
    medication: int = Field(72, ge=1, le=720, title="Medication note due within (hours)")


class AttendancePolicy(_Part):
    """An attendance concern is raised at `absences` absences within `period_days` days."""

    absences: int = Field(3, ge=0, le=50, title="Absences that raise a concern (0: never)")
    period_days: int = Field(14, ge=1, le=180, title="Within (days)")


class ResponseHours(_Part):
    """When the program answers safety tasks (intake.safety_policy)."""

    weekdays: tuple[Weekday, ...] = Field((0, 1, 2, 3, 4), title="Open on (0 Monday ... 6 Sunday)")
    start: time = Field(time(9), title="Opens at")
    end: time = Field(time(17), title="Closes at")

    @model_validator(mode="after")
    def _closes_after_it_opens(self) -> ResponseHours:
        if self.end <= self.start:
            raise ValueError("closing time must be after opening time")
        return self


class Deadline(_Part):
    acknowledge_minutes: int | None = Field(None, ge=1, le=1440,
                                            title="Acknowledge within (minutes of opening)")
    acknowledge: Literal["same_day"] | None = Field(None, title="Acknowledge by closing time")
    escalate_every_minutes: int = Field(60, ge=1, le=1440, title="Escalate every (minutes)")


class SafetyTaskDeadlines(_Part):
    emergent: Deadline = Deadline(acknowledge_minutes=15, escalate_every_minutes=15)
    urgent: Deadline = Deadline(acknowledge="same_day", escalate_every_minutes=60)


class ProgramSettings(_Part):
    """Every program setting, with its default."""

    note_timeliness_hours: NoteTimeliness = NoteTimeliness()
    treatment_plan_review_days: int = Field(30, ge=1, le=365,
                                            title="Treatment plan review every (days)")
    # Prescriber review every 2-4 weeks: program policy.
    medication_review_days: int = Field(28, ge=1, le=365,
                                        title="Medication review every (days)")
    attendance_policy: AttendancePolicy = AttendancePolicy()
    individual_per_week: int = Field(1, ge=0, le=7, title="Individual sessions per week")
    family_every_weeks: int = Field(2, ge=0, le=52,
                                    title="Family session every (weeks; 0: none planned)")
    # A C-SSRS this recent answers a suicide-risk flag before a level of care is decided
    # (openiop.intake.decisions; docs/safety-decisions.md).
    cssrs_window_days: int = Field(7, ge=1, le=90, title="A C-SSRS counts for (days)")
    contact_response_business_days: int = Field(
        1, ge=1, le=30, title="Finder contact requests answered within (business days)")
    # Only a certified opioid treatment program dispenses methadone for OUD (42 CFR 8.11).
    certified_otp: bool = Field(False, title="Certified opioid treatment program")
    portal_checkins: tuple[Annotated[str, Field(min_length=1, max_length=20)], ...] = Field(
        ("phq9", "gad7"), title="Weekly portal check-ins (instrument codes)")
    response_hours: ResponseHours = ResponseHours()
    safety_task_deadlines: SafetyTaskDeadlines = SafetyTaskDeadlines()


DEFAULTS: dict[str, Any] = ProgramSettings().model_dump(mode="json")


@dataclass(frozen=True)
class Problem:
    path: str  # "attendance_policy.absences"
    message: str
    value: Any


@dataclass(frozen=True)
class Resolved:
    settings: ProgramSettings
    # Each leaf's dotted path -> "set" (stored by the program) or "default".
    sources: dict[str, str]
    problems: tuple[Problem, ...] = field(default=())


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _leaves(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _leaves(value, f"{path}.")
        else:
            out[path] = value
    return out


def _take(data: dict[str, Any], path: tuple[str, ...]) -> tuple[bool, Any]:
    """Remove the value at `path` from `data`: (whether it was there, the value)."""
    node: Any = data
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    if isinstance(node, dict) and path[-1] in node:
        return True, node.pop(path[-1])
    return False, None


def _message(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "not a program setting"
    return str(error["msg"]).removeprefix("Value error, ")


def resolve(stored: Any) -> Resolved:
    """The program's settings from what it stored: defaults where it set nothing, and where
    what it stored is not valid (each such value reported as a Problem)."""
    own: dict[str, Any] = copy.deepcopy(stored) if isinstance(stored, dict) else {}
    problems: list[Problem] = []
    if stored not in (None, {}) and not isinstance(stored, dict):
        problems.append(Problem("", "program settings must be a JSON object", stored))
    for _ in range(50):
        try:
            settings = ProgramSettings.model_validate(_merge(DEFAULTS, own))
            break
        except SchemaError as exc:
            for error in exc.errors():
                loc = tuple(str(part) for part in error["loc"])
                # A bad item of a list: the whole list falls back (it has one default).
                while loc and loc[-1].isdigit():
                    loc = loc[:-1]
                found, value = _take(own, loc) if loc else (False, None)
                if not found and loc:
                    found, value = _take(own, loc[:1])
                    loc = loc[:1]
                if not found:  # nothing stored to blame: start again from the defaults
                    problems.append(Problem(".".join(loc), _message(error), own))
                    own = {}
                    break
                problems.append(Problem(".".join(loc), _message(error), value))
    else:  # pragma: no cover - each round drops at least one stored value
        settings = ProgramSettings()
    set_paths = set(_leaves(own))
    sources = {path: ("set" if path in set_paths or any(
        path.startswith(f"{p}.") for p in set_paths) else "default")
        for path in _leaves(DEFAULTS)}
    return Resolved(settings, sources, tuple(problems))


def for_program(program: Any) -> Resolved:
    """Resolve and report once per program instance (the result is kept on it)."""
    cached: tuple[Any, Resolved] | None = getattr(program, "_resolved_settings", None)
    if cached is not None and cached[0] is program.settings:
        return cached[1]
    resolved = resolve(program.settings)
    if resolved.problems:
        logger.warning("program %s: invalid settings %s; their defaults are used until a "
                       "director corrects them", program.pk,
                       ", ".join(p.path or "(all)" for p in resolved.problems))
    program._resolved_settings = (program.settings, resolved)
    return resolved


def normalized(stored: Any) -> Any:
    """What to store for `stored`: valid values in canonical form (numbers as numbers,
    times as HH:MM:SS), values that are not valid left as they are for a director to fix."""
    if not isinstance(stored, dict):
        return stored
    resolved = resolve(stored)
    dumped = resolved.settings.model_dump(mode="json")
    out: dict[str, Any] = {}

    def keep(path: tuple[str, ...], value: Any, into: dict[str, Any]) -> None:
        dotted = ".".join(path)
        if any(p.path == dotted or dotted.startswith(f"{p.path}.") for p in resolved.problems):
            into[path[-1]] = value
            return
        if isinstance(value, dict):
            child = into.setdefault(path[-1], {})
            for key, inner in value.items():
                keep((*path, key), inner, child)
            return
        node: Any = dumped
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        into[path[-1]] = node if node is not None else value

    for key, value in stored.items():
        keep((key,), value, out)
    return out


def parse_form(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Settings to store from the settings page: `values` maps the dotted path of each
    setting the program sets to its value (the others keep their defaults). Returns (what to
    store, errors by dotted path)."""
    own: dict[str, Any] = {}
    for path, value in values.items():
        node = own
        *parents, last = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    errors: dict[str, str] = {}
    try:
        ProgramSettings.model_validate(_merge(DEFAULTS, own))
    except SchemaError as exc:
        for error in exc.errors():
            loc = [str(p) for p in error["loc"] if not str(p).isdigit()]
            errors.setdefault(".".join(loc), _message(error))
    if errors:
        return own, errors
    return normalized(own), {}


def leaf_fields() -> list[tuple[str, Any]]:
    """(dotted path, pydantic FieldInfo) of every setting a page can edit, in order."""
    out: list[tuple[str, Any]] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{prefix}{name}.")
            else:
                out.append((f"{prefix}{name}", info))

    walk(ProgramSettings, "")
    return out
