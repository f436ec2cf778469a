"""The utilization-review packet for a payer's concurrent review of an authorization.

Gathers what a reviewer asks for from the apps that own it: attended hours per week against
the program minimum (scheduling), scores over time (outcomes), the current level-of-care
assessment with the rules that fired (intake), treatment-plan goals and objective status
(clinical) and medication changes (medications). Giving it to the payer is a disclosure:
it is decided and audited by participants.disclosure like every other channel: a 42 CFR
Part 2 record is released only under an active Part 2 consent for payment whose recipient
names the payer or a class that includes it (42 CFR 2.31(a)(4): a recipient by name or
general designation), with the program's 2.32 notice on the page and the PDF.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from openiop.accounts.models import User
from openiop.audit.vocabulary import ObjectType
from openiop.care.models import EpisodeOfCare
from openiop.clinical.selectors import treatment_plan_for
from openiop.intake.instruments import INSTRUMENTS
from openiop.intake.models import LevelOfCareAssessment
from openiop.medications.models import MedicationChange
from openiop.outcomes.selectors import CHARTED, participant_series
from openiop.participants import disclosure as dis
from openiop.participants.models import DisclosurePurpose
from openiop.scheduling.selectors import participant_hours

from .models import Authorization
from .selectors import authorization_usage

MAX_WEEKS = 26


def release(authorization: Authorization, *, actor: User, request: Any = None,
            audit: bool = True) -> dis.Decision:
    """The disclosure decision for giving this packet to the authorization's payer, for
    payment (utilization review is part of payment, 42 CFR 2.11 "Payment"; 45 CFR
    164.501): participants.disclosure, audited there with the payer as recipient."""
    participant = authorization.coverage.participant
    return dis.disclosure(actor, participant, [dis.Record("ur_packet", authorization)],
                          channel=dis.Channel.UR_PACKET,
                          recipient=dis.payer_recipient(authorization.coverage.payer),
                          purpose=DisclosurePurpose.PAYMENT, request=request,
                          object_type=ObjectType.UR_PACKET, object_id=authorization.code, audit=audit)


def packet(authorization: Authorization, *, today: date) -> dict[str, Any]:
    participant = authorization.coverage.participant
    episode = (EpisodeOfCare.objects.filter(participant=participant)
               .select_related("program").order_by("-admitted_on", "-pk").first())
    start = authorization.starts_on
    weeks = max(1, min(MAX_WEEKS, (today - start).days // 7 + 1))
    hours = [row | {"hours": round(row["minutes"] / 60, 1),
                    "minimum_hours": (round(row["minimum"] / 60, 1)
                                      if row.get("minimum") is not None else None)}
             for row in participant_hours(participant, weeks=weeks, today=today,
                                          episode=episode)]
    series = participant_series(participant)
    scores = [{"name": INSTRUMENTS[code].name,
               "points": [(r.completed_at.date(), r.total) for r in series[code]]}
              for code in CHARTED if series.get(code)]
    assessment = (LevelOfCareAssessment.objects.filter(participant=participant)
                  .select_related("assessed_by").order_by("-assessed_at", "-pk").first())
    plan = treatment_plan_for(participant)
    goals = []
    if plan is not None:
        for problem in plan.problems.all():
            for goal in problem.goals.all():
                goals.append({"text": goal.text, "objectives": [
                    {"text": o.text, "status": o.get_status_display(), "target": o.target_date}
                    for o in goal.objectives.all()]})
    changes = list(MedicationChange.objects.filter(
        order__participant=participant, effective_date__gte=start - timedelta(days=30),
        effective_date__lte=today).select_related("order").order_by("effective_date", "pk"))
    return {
        "authorization": authorization, "payer": authorization.coverage.payer,
        "participant": participant, "episode": episode,
        "usage": authorization_usage(authorization), "hours": hours, "scores": scores,
        "assessment": assessment, "plan": plan, "goals": goals, "med_changes": changes,
        "generated_on": today,
    }


def packet_pdf(data: dict[str, Any], *, notice: str = "",
               on_page: Callable[[int], None] | None = None) -> bytes:
    """The packet as a PDF (the clinical PDF helpers: DejaVu fonts, footer, and the
    42 CFR 2.32 notice appended for a Part 2 record)."""
    from openiop.clinical.pdf import _build, _p, _styles, participant_identity

    s = _styles()
    auth, usage = data["authorization"], data["usage"]
    story: list[Any] = [
        _p("Utilization review — concurrent review", s["title"]),
        _p(participant_identity(data["participant"]), s["body"]),
        _p(f"Payer: {data['payer'].name}. Authorization {auth.reference_number}: "
           f"{auth.get_level_of_care_display()}, {auth.starts_on} to {auth.ends_on}; "
           f"{usage.used} of {usage.approved} {auth.unit} used. Review date: "
           f"{auth.review_on or 'not set'}. Prepared {data['generated_on']}.", s["body"]),
        _p("Attendance and hours per week", s["h2"]),
    ]
    for row in data["hours"]:
        minimum = ("" if row["minimum_hours"] is None
                   else f" (program minimum {row['minimum_hours']} h)")
        story.append(_p(f"Week of {row['week']}: {row['hours']} h attended{minimum}", s["body"]))
    story.append(_p("Scores over time", s["h2"]))
    for series in data["scores"] or [{"name": "No scored measures", "points": []}]:
        points = "; ".join(f"{d}: {t}" for d, t in series["points"])
        story.append(_p(f"{series['name']}{': ' + points if points else ''}", s["body"]))
    story.append(_p("Level-of-care assessment", s["h2"]))
    a = data["assessment"]
    if a is None:
        story.append(_p("No level-of-care assessment recorded.", s["body"]))
    else:
        story.append(_p(f"{a.assessed_at:%Y-%m-%d}: recommended "
                        f"{a.get_recommended_level_display()}, decided "
                        f"{a.get_decided_level_display()} ({a.get_status_display()}).",
                        s["body"]))
        for rule in a.rules_fired or []:
            story.append(_p(f"• {rule.get('level') or 'advice'}: {rule.get('text', '')}",
                            s["body"]))
    story.append(_p("Treatment-plan goals and progress", s["h2"]))
    for goal in data["goals"] or [{"text": "No treatment plan recorded.", "objectives": []}]:
        story.append(_p(goal["text"], s["h3"]))
        for o in goal["objectives"]:
            story.append(_p(f"• {o['text']} — {o['status']}, target {o['target']}", s["body"]))
    story.append(_p("Medication changes", s["h2"]))
    for c in data["med_changes"]:
        story.append(_p(f"{c.effective_date}: {c.order.name} {c.get_kind_display().lower()} "
                        f"— {c.dose} {c.unit} {c.frequency} ({c.get_reason_display()})",
                        s["body"]))
    if not data["med_changes"]:
        story.append(_p("No medication changes in the period.", s["body"]))
    return _build("Utilization review packet", story, notice=notice, on_page=on_page)


def packet_size(data: dict[str, Any]) -> int:
    """Characters of content, roughly: decides whether the PDF is made in the background."""
    return (80 * len(data["hours"]) + sum(20 * len(x["points"]) + 40 for x in data["scores"])
            + sum(len(g["text"]) + sum(len(o["text"]) + 40 for o in g["objectives"])
                  for g in data["goals"])
            + 120 * len(data["med_changes"]) + 1500)


# A large packet made in the background (openiop.jobs.downloads): the worker renders it,
# and every download runs the page's check again (including the Part 2 release check: a
# consent revoked since is a 404).

def render_packet(*, authorization_id: int, on_page: Callable[[int], None],
                  notice: str = "") -> bytes:
    """`notice`: the 42 CFR 2.32 statement the disclosure decision chose when the job was
    started (the download check decides again)."""
    auth = Authorization.objects.select_related("coverage__payer", "coverage__participant").get(
        pk=authorization_id)
    data = packet(auth, today=timezone.localdate())
    return packet_pdf(data, notice=notice, on_page=on_page)


def check_packet(request: Any, *, authorization_id: int, notice: str = "") -> None:
    from django.http import Http404

    from .views.packet import _load

    auth = Authorization.objects.select_related("coverage__participant").filter(
        pk=authorization_id).first()
    if auth is None:
        raise Http404
    _load(request, auth.coverage.participant.code, auth.code)
    if not release(auth, actor=request.user, request=request, audit=False).released:
        raise Http404
