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
15 (emergent) or 60 (urgent) minutes. A program changes them in its
settings `safety_task_deadlines` and its hours in `response_hours` (Monday = 0), declared
with their defaults in care.program_settings. See docs/SAFETY_TASKS.md.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from openiop.care.program_settings import Deadline, ProgramSettings
from openiop.organizations.models import Organization

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


def _typed(program: Any) -> ProgramSettings:
    return program.typed_settings if program is not None else ProgramSettings()


def response_hours(program: Any) -> ResponseHours:
    # Without a program: the zone a new organization starts with.
    tz = (program.organization if program is not None else Organization()).zone
    hours = _typed(program).response_hours
    return ResponseHours(tuple(hours.weekdays), hours.start, hours.end, tz)


def deadlines(program: Any, priority: str) -> Deadline:
    rules = _typed(program).safety_task_deadlines
    return rules.emergent if priority == "emergent" else rules.urgent


def acknowledge_deadline(program: Any, priority: str, created: datetime) -> datetime:
    """When the task must be acknowledged: emergent within N minutes of the program being
    open (at once when it is open), urgent by the close of the program's day."""
    hours = response_hours(program)
    rule = deadlines(program, priority)
    if rule.acknowledge == "same_day" or rule.acknowledge_minutes is None:
        return hours.closing_after(created)
    return hours.next_opening(created) + timedelta(minutes=rule.acknowledge_minutes)


def escalation_interval(program: Any, priority: str) -> timedelta:
    return timedelta(minutes=deadlines(program, priority).escalate_every_minutes)
