"""Safety gates on level-of-care decisions, admission, step-down and discharge.

Two rules, both read-only here (the services that store a decision call them first):

1. A suicide-risk flag (PHQ-9 item 9 above 0, a C-SSRS with any risk, or an open
   emergent/urgent safety task) means no level of care is decided without a C-SSRS screen
   from the same referral (before admission) or the same episode, completed within the
   program's window (Program.settings["cssrs_window_days"], default 7 days) and not before
   the day of the flag. A C-SSRS from an earlier episode or older than the window does not
   count. Source: the PHQ-9 item 9 flag calls for prompt clinician follow-up
   (intake/instruments/data/phq9.json flags.self_harm_thoughts) and the C-SSRS screen
   version is the instrument that triages that risk (cssrs.json source); the 7-day window is
   OpenIOP's configurable default, a program setting a clinic sets to its policy.
2. While an emergent or urgent safety task is open, admission, step-down and discharge go
   ahead only with a documented decision (what was done about the risk and why the change
   is still right). Source: C-SSRS triage, high risk calls for safety precautions until a
   mental-health professional has evaluated the person (Columbia Lighthouse Project,
   C-SSRS Screen Version with triage points,
   https://cssrs.columbia.edu/the-columbia-scale-c-ssrs/triage-c-ssrs/); requiring the
   decision in writing is OpenIOP's program policy, not a published rule.

See docs/safety-decisions.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from openiop.care.program_settings import ProgramSettings

from .models import MeasureResponse, SafetyTask

if TYPE_CHECKING:
    from openiop.care.models import EpisodeOfCare
    from openiop.participants.models import Participant

URGENT_PRIORITIES = (SafetyTask.Priority.EMERGENT, SafetyTask.Priority.URGENT)


def cssrs_window_days(program: Any) -> int:
    """The program's window for a qualifying C-SSRS, in days (1 to 90; default 7)."""
    if not program:
        return ProgramSettings().cssrs_window_days
    return int(program.typed_settings.cssrs_window_days)


def scope_responses(participant: Participant, *, referral: Any = None, episode: EpisodeOfCare | None = None) -> QuerySet:
    """Final measure responses of one referral (completed since it was received) or one
    episode (linked to it, plus the pre-admission screens of the referral that led to it)."""
    qs = MeasureResponse.objects.filter(participant=participant,
                                        status=MeasureResponse.Status.FINAL)
    if episode is not None:
        scope = Q(episode=episode)
        if referral is None:
            referral = episode.referrals.order_by("-received_at").first()
        if referral is not None:
            scope |= Q(episode__isnull=True, completed_at__gte=referral.received_at)
        return qs.filter(scope)
    if referral is not None:
        return qs.filter(completed_at__gte=referral.received_at)
    return qs.none()


def open_urgent_tasks(participant: Participant | None) -> list[SafetyTask]:
    if participant is None:
        return []
    return list(SafetyTask.objects.filter(participant=participant,
                                          status=SafetyTask.Status.OPEN,
                                          priority__in=URGENT_PRIORITIES)
                .order_by("created_at"))


@dataclass(frozen=True)
class SafetyScreen:
    """What rule 1 found: the latest risk flag in scope and the C-SSRS that answers it."""

    trigger_label: str  # "" when no risk flag is in scope
    trigger_at: datetime | None
    cssrs: Any  # MeasureResponse or None
    window_days: int
    scope: str  # "referral" or "episode"

    @property
    def required(self) -> bool:
        return bool(self.trigger_label)

    @property
    def missing(self) -> bool:
        return self.required and self.cssrs is None

    def message(self) -> str:
        when = timezone.localtime(self.trigger_at).strftime("%b %-d, %Y") if self.trigger_at else ""
        return (f"A suicide-risk flag ({self.trigger_label}{', ' + when if when else ''}) "
                f"needs a C-SSRS screen from this {self.scope}, completed on or after that "
                f"day and within the last {self.window_days} days, before a level of care is "
                "decided. None is on file: record the C-SSRS first. An older C-SSRS or one "
                "from an earlier episode does not count.")


def safety_screen(*, participant: Participant, referral: Any = None, episode: EpisodeOfCare | None = None,
                  at: datetime | None = None) -> SafetyScreen:
    """Rule 1 for one decision about `participant` (scope: the episode when given, else the
    referral)."""
    at = at or timezone.now()
    program = (episode.program if episode is not None
               else getattr(referral, "program", None))
    window = cssrs_window_days(program)
    since = at - timedelta(days=window)
    rows = list(scope_responses(participant, referral=referral, episode=episode)
                .filter(instrument__in=("phq9", "cssrs"), completed_at__lte=at)
                .only("pk", "instrument", "safety_flag", "completed_at", "episode_id")
                .order_by("completed_at"))
    triggers: list[tuple[datetime, str]] = []
    phq9 = [r for r in rows if r.instrument == "phq9"]
    for r in rows:
        recent = r.completed_at >= since
        latest_phq9 = bool(phq9) and r is phq9[-1]
        if r.safety_flag and (recent or latest_phq9):
            label = "PHQ-9 item 9 above 0" if r.instrument == "phq9" else "C-SSRS risk"
            triggers.append((r.completed_at, label))
    tasks = open_urgent_tasks(participant)
    if tasks:
        triggers.append((tasks[-1].created_at, "an open safety task"))
    if not triggers:
        return SafetyScreen("", None, None, window, "episode" if episode else "referral")
    trigger_at, label = max(triggers, key=lambda t: t[0])
    trigger_day = timezone.localtime(trigger_at).date()
    qualifying = [r for r in rows if r.instrument == "cssrs" and r.completed_at >= since
                  and timezone.localtime(r.completed_at).date() >= trigger_day]
    return SafetyScreen(label, trigger_at, qualifying[-1] if qualifying else None, window,
                        "episode" if episode else "referral")


def require_safety_screen(**kwargs: Any) -> SafetyScreen:
    """Rule 1, or ValidationError on the field `cssrs`; nothing is written either way."""
    screen = safety_screen(**kwargs)
    if screen.missing:
        raise ValidationError({"cssrs": screen.message()})
    return screen


def require_safety_decision(*, participant: Participant, decision: str, action: str) -> str:
    """Rule 2: the documented decision (stripped) when an emergent or urgent task is open,
    "" when none is; ValidationError on `safety_decision` when one is open and no decision
    was written."""
    tasks = open_urgent_tasks(participant)
    if not tasks:
        return ""
    text = (decision or "").strip()
    if not text:
        n = len(tasks)
        worst = "emergent" if any(t.priority == SafetyTask.Priority.EMERGENT
                                  for t in tasks) else "urgent"
        raise ValidationError({"safety_decision": (
            f"{n} {worst} safety task{'s are' if n > 1 else ' is'} open for this person. "
            f"Write down the decision to go ahead with the {action} now (what was done about "
            "the risk, who agreed), or resolve the task first.")})
    return text
