"""Weekly check-ins assigned by the program (PHQ-9, GAD-7 by default).

Scoring and safety-flag handling are not repeated here: `openiop.intake.instruments` scores
and `openiop.intake.measures.measure_record` stores the response and opens the care team's
safety task (PHQ-9 item 9 above 0; source in intake/instruments/data/phq9.json). This page
shows the person the crisis line when the response carries a safety flag
(intake.safety.CRISIS_LINE).

A program chooses its check-ins in `Program.settings["portal_checkins"]`; an instrument
is due when the participant has not completed it this week (Monday to Sunday).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import User
from openiop.care.models import EpisodeOfCare
from openiop.intake import instruments
from openiop.intake.measures import measure_record, measure_record_partial_safety
from openiop.intake.models import MeasureResponse
from openiop.intake.safety import CRISIS_LINE
from openiop.intake.safety_policy import response_hours
from openiop.participants.models import Participant

# Weekly check-ins are self-report symptom measures; the C-SSRS and the substance screens
# are clinician-administered at intake, so a program cannot put them in the portal.
PORTAL_INSTRUMENTS = frozenset({"phq9", "gad7"})

__all__ = ["CRISIS_LINE", "assigned_instruments", "checkin_overview", "due_checkins",
           "instrument_definition", "item_keys", "items_for_form", "safety_notice", "submit",
           "submit_partial"]


def _open_episode(participant: Participant) -> EpisodeOfCare | None:
    return (
        participant.episodes.filter(status=EpisodeOfCare.Status.ACTIVE)
        .select_related("program").order_by("-admitted_on").first()
    )


def assigned_instruments(participant: Participant) -> list[str]:
    episode = _open_episode(participant)
    if episode is None:
        return []
    chosen = episode.program.typed_settings.portal_checkins
    return [code for code in chosen if code in PORTAL_INSTRUMENTS]


def _week_start() -> datetime:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return datetime.combine(monday, datetime.min.time(), tzinfo=timezone.get_current_timezone())


def checkin_overview(participant: Participant) -> list[dict[str, Any]]:
    codes = assigned_instruments(participant)
    if not codes:
        return []
    latest: dict[str, MeasureResponse] = {}
    for response in (
        MeasureResponse.objects.filter(participant=participant, instrument__in=codes,
                                       status=MeasureResponse.Status.FINAL)
        .order_by("-completed_at")
    ):
        latest.setdefault(response.instrument, response)
        if len(latest) == len(codes):
            break
    since = _week_start()
    rows = []
    for code in codes:
        inst = instruments.get(code)
        last = latest.get(code)
        band_label = ""
        if last is not None:
            try:
                band_label = inst.band(last.band).label
            except KeyError:
                band_label = last.band
        rows.append({
            "code": code, "label": f"{inst.name} ({inst.measures.lower()})",
            "url": reverse("portal:checkin", kwargs={"instrument": code}),
            "due": last is None or last.completed_at < since,
            "last": last.total if last else None, "last_on": last.completed_at if last else None,
            "last_band": band_label,
        })
    return rows


def due_checkins(participant: Participant) -> list[dict[str, Any]]:
    return [row for row in checkin_overview(participant) if row["due"]]


def instrument_definition(code: str) -> instruments.Instrument:
    return instruments.get(code)


def item_keys(definition: instruments.Instrument) -> list[str]:
    return list(definition.item_ids)


def items_for_form(definition: instruments.Instrument, answers: dict[str, str],
                   errors: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"id": item.id, "number": item.number, "text": item.text,
         "options": [(str(value), label) for value, label in item.options],
         "value": answers.get(item.id, ""), "error": errors.get(item.id, "")}
        for item in definition.items
    ]


def submit(*, actor: User, participant: Participant, instrument: str, answers: dict[str, str],
           request: HttpRequest | None = None) -> MeasureResponse:
    """Score and store through the outcomes service (which raises the safety task)."""
    return measure_record(actor=actor, participant=participant, instrument=instrument, answers=answers,
                          context=MeasureResponse.Context.WEEKLY, request=request)


def submit_partial(*, actor: User, participant: Participant, instrument: str,
                   answers: dict[str, str], request: HttpRequest | None = None
                   ) -> MeasureResponse | None:
    """An incomplete form is kept (and the task raised) when an answer signals risk."""
    return measure_record_partial_safety(actor=actor, participant=participant,
                                         instrument=instrument, answers=answers,
                                         context=MeasureResponse.Context.WEEKLY, request=request)


def safety_notice(response: MeasureResponse) -> dict[str, Any]:
    """What the participant is told after a risk answer: the truth about who was told and
    when the program responds; 988 and 911 outside those hours.

    "Your care team has been told" only when a task exists and is assigned to a person.
    """
    task = response.safety_tasks.select_related("program__organization").first()
    program = task.program if task is not None else None
    if program is None and response.episode_id:
        program = response.episode.program
    hours = response_hours(program)
    due = task.acknowledge_due_at.astimezone(hours.tz) if task and task.acknowledge_due_at else None
    return {
        "told": bool(task and task.assigned_to_id),
        "program_name": program.name if program else "Your program",
        "hours": hours.label(),
        "due": due,
    }
