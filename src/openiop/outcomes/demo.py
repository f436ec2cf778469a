"""Demo data for outcomes: weekly PHQ-9 and GAD-7 histories for every episode, starting
from the intake answers, ending with a discharge measure; a few safety follow-ups.

Trajectories are synthetic: most people improve (some reach response and remission),
some stay flat, a few worsen (the episodes stepped up in the care step).
"""

from __future__ import annotations

import math
from datetime import time, timedelta

from openiop.care.models import EpisodeOfCare
from openiop.demo.generator import DemoContext
from openiop.intake.demo import phq9_answers, spread
from openiop.intake.instruments import score
from openiop.intake.models import MeasureResponse, SafetyTask

MAX = {"phq9": 27, "gad7": 21}


def build(ctx: DemoContext) -> None:
    shared = rng = ctx.rng
    intake = ctx.extra.get("intake_answers", {})
    ctx.progress("weekly PHQ-9 and GAD-7 histories")
    rows: list[MeasureResponse] = []
    flagged: list[tuple[int, int]] = []  # (participant_id, index in rows)
    stepped_up = set(EpisodeOfCare.objects.filter(
        program__organization=ctx.organization, level_changes__direction="up",
        status=EpisodeOfCare.Status.ACTIVE).values_list("pk", flat=True))
    demo_person = ctx.extra.get("demo_participant")
    portal_person = demo_person.pk if demo_person is not None else None
    this_monday = ctx.today - timedelta(days=ctx.today.weekday())
    for i, ep in enumerate(ctx.episodes):
        rng = ctx.rng_for(ep.participant_id, default=shared)  # a featured persona's own
        base = intake.get(ep.pk)
        if base is None or ep.status == EpisodeOfCare.Status.WAITLIST:
            continue
        end = ep.discharged_on or ctx.today
        kind = ("worse" if ep.pk in stepped_up else
                rng.choices(["responder", "partial", "flat"], [62, 26, 12])[0])
        starts = {code: sum(score(code, base[code]).answers.values()) for code in MAX}
        week = 1
        while True:
            day = ep.admitted_on + timedelta(weeks=week)
            discharge = ep.discharged_on is not None and day >= ep.discharged_on
            if discharge:
                day = ep.discharged_on
            if day > end or day > ctx.today:
                break
            if ep.participant_id == portal_person and day >= this_monday:
                break  # the demo portal login still has this week's check-ins to do
            when = ctx.at(day, time(9 if week % 2 else 17, 30))
            for code in ("phq9", "gad7"):
                total = _trajectory(starts[code], week, kind, rng, MAX[code])
                item9 = 1 if code == "phq9" and rng.random() < 0.02 and total >= 8 else 0
                values = (phq9_answers(total, rng, item9=item9) if code == "phq9"
                          else spread(total, 7, 3, rng))
                result = score(code, values)
                rows.append(MeasureResponse(
                    participant_id=ep.participant_id, episode_id=ep.pk, instrument=code,
                    context="discharge" if discharge else "weekly",
                    source="portal" if i % 3 == 0 else "staff",
                    answers=dict(result.answers), total=result.total, band=result.band,
                    flags=[{"code": f.code, "level": f.level, "message": f.message}
                           for f in result.flags],
                    safety_flag=result.safety, completed_at=when,
                    recorded_by=None if i % 3 == 0 else ep.primary_therapist,
                ))
                if result.safety:
                    flagged.append((ep, len(rows) - 1))
            if discharge:
                break
            week += 1
    MeasureResponse.objects.bulk_create(rows, batch_size=2000)
    tasks = []
    for n, (ep, idx) in enumerate(flagged):
        row = rows[idx]
        recent = (ctx.today - row.completed_at.date()).days <= 7
        resolved = not (recent and n % 2 == 0)
        tasks.append(SafetyTask(
            organization=ctx.organization, participant_id=ep.participant_id,
            measure_response_id=row.pk, assigned_to=ep.primary_therapist, priority="urgent",
            title="Safety follow-up: PHQ-9 item 9 above 0",
            detail="Item 9 answered above 0: thoughts of death or self-harm.",
            status=SafetyTask.Status.RESOLVED if resolved else SafetyTask.Status.OPEN,
            resolved_at=row.completed_at + timedelta(hours=3) if resolved else None,
            resolved_by=ep.primary_therapist if resolved else None,
            resolution="Called the same day; safety plan reviewed; no current intent."
            if resolved else "",
        ))
    SafetyTask.objects.bulk_create(tasks, batch_size=1000)
    ctx.progress(f"{len(rows)} weekly and discharge measures; {len(tasks)} safety follow-ups "
                 f"({sum(1 for t in tasks if t.status == SafetyTask.Status.OPEN)} open)")


def _trajectory(start: int, week: int, kind: str, rng: object, top: int) -> int:
    if kind == "responder":
        value = 3 + (start - 3) * math.exp(-week / 3.2)
    elif kind == "partial":
        value = start * (1 - 0.3 * (1 - math.exp(-week / 3)))
    elif kind == "worse":
        value = start + min(week, 6) * 1.1
    else:
        value = start
    value += rng.uniform(-1.6, 1.6)
    return max(0, min(top - (3 if top == 27 else 0), round(value)))
