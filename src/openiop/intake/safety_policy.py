"""Safety-task deadlines and program response hours: a program policy, set per program.

Sources and what they do and do not fix:
- The Joint Commission, National Patient Safety Goal NPSG.15.01.01 (behavioral health care
  and human services; R3 Report no. 18, 2018,
  https://www.jointcommission.org/standards/r3-report/r3-report-issue-18-national-patient-safety-goal-for-suicide-prevention/):
  screen with a validated tool, and follow *written policies and procedures* for the
  immediate safety of a person found at risk (EP 4-6). The goal requires the written
  policy; it does not prescribe minutes.
- 988 Suicide & Crisis Lifeline (https://988lifeline.org): call or text 988, 24/7; 911 for
  immediate danger. That is what a person is told to use outside the program's hours.
So the numbers below are configurable program-policy defaults, not a regulation:
emergent (imminent risk) must be acknowledged within 15 minutes while the program is open,
urgent by the end of the program's day; an unacknowledged task escalates one step every
15 (emergent) or 60 (urgent) minutes. A program overrides them in
`Program.settings["safety_task_deadlines"]` and its hours in
`Program.settings["response_hours"]` (`{"weekdays": [0, 1, 2, 3, 4], "start": "09:00",
"end": "17:00"}`, Monday = 0). See docs/SAFETY_TASKS.md.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

DEFAULT_RESPONSE_HOURS = {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}
DEFAULT_DEADLINES = {
    "emergent": {"acknowledge_minutes": 15, "escalate_every_minutes": 15},
    "urgent": {"acknowledge": "same_day", "escalate_every_minutes": 60},
}
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class ResponseHours:
    weekdays: tuple[int, ...]
    start: time
    end: time
    tz: zoneinfo.ZoneInfo

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        return local.weekday() in self.weekdays and self.start <= local.time() < self.end

    def _at(self, day: date, t: time) -> datetime:
        return datetime.combine(day, t, tzinfo=self.tz)

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself when open, else the next moment the program opens."""
        if self.is_open(at):
            return at
        local = at.astimezone(self.tz)
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if day.weekday() in self.weekdays and self._at(day, self.start) > local:
                return self._at(day, self.start)
        return at  # no weekdays configured: treat as always open

    def closing_after(self, at: datetime) -> datetime:
        """The close of the program day that `at` falls in, or of the next open day."""
        opening = self.next_opening(at).astimezone(self.tz)
        return self._at(opening.date(), self.end)

    def label(self) -> str:
        days = sorted(self.weekdays)
        if days and days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
            day_text = f"{DAY_NAMES[days[0]]} to {DAY_NAMES[days[-1]]}"
        else:
            day_text = ", ".join(DAY_NAMES[d] for d in days) or "no days"
        return f"{day_text}, {_clock(self.start)} to {_clock(self.end)}"


def _clock(t: time) -> str:
    hour = t.hour % 12 or 12
    suffix = "a.m." if t.hour < 12 else "p.m."
    return f"{hour}:{t.minute:02d} {suffix}"


def _parse_time(value: Any, fallback: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        return time.fromisoformat(fallback)


def response_hours(program: Any) -> ResponseHours:
    tz = zoneinfo.ZoneInfo(program.organization.time_zone if program is not None
                           else "America/New_York")
    raw = (program.setting("response_hours", None) if program is not None else None) or {}
    merged = DEFAULT_RESPONSE_HOURS | (raw if isinstance(raw, dict) else {})
    days = tuple(d for d in merged.get("weekdays") or [] if isinstance(d, int) and 0 <= d <= 6)
    start = _parse_time(merged.get("start"), DEFAULT_RESPONSE_HOURS["start"])
    end = _parse_time(merged.get("end"), DEFAULT_RESPONSE_HOURS["end"])
    if end <= start:
        start, end = (time.fromisoformat(DEFAULT_RESPONSE_HOURS["start"]),
                      time.fromisoformat(DEFAULT_RESPONSE_HOURS["end"]))
    return ResponseHours(days, start, end, tz)


def deadlines(program: Any, priority: str) -> dict[str, Any]:
    raw = (program.setting("safety_task_deadlines", None) if program is not None else None) or {}
    own = raw.get(priority) if isinstance(raw, dict) else None
    return DEFAULT_DEADLINES[priority] | (own if isinstance(own, dict) else {})


def _minutes(value: Any, fallback: int) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return fallback
    return minutes if minutes > 0 else fallback


def acknowledge_deadline(program: Any, priority: str, created: datetime) -> datetime:
    """When the task must be acknowledged: emergent within N minutes of the program being
    open (at once when it is open), urgent by the close of the program's day."""
    hours = response_hours(program)
    rule = deadlines(program, priority)
    if rule.get("acknowledge") == "same_day":
        return hours.closing_after(created)
    minutes = _minutes(rule.get("acknowledge_minutes"), 15)
    return hours.next_opening(created) + timedelta(minutes=minutes)


def escalation_interval(program: Any, priority: str) -> timedelta:
    fallback = DEFAULT_DEADLINES[priority]["escalate_every_minutes"]
    return timedelta(minutes=_minutes(deadlines(program, priority).get("escalate_every_minutes"),
                                      fallback))
