"""Read queries shared by pages, API, the dashboard and chart flags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Max, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone

from openiop.access.decisions import scope
from openiop.access.policy import Kind
from openiop.care.models import EpisodeOfCare
from openiop.care.program_settings import ProgramSettings
from openiop.participants.models import Participant

from . import interactions, rules
from .models import (
    AdherenceCheck,
    Administration,
    Allergy,
    AllergyStatement,
    DrugScreen,
    DrugScreenResult,
    MedicationChange,
    MedicationOrder,
    MedicationReview,
    NaloxoneCheck,
    SideEffectReport,
    UseDisorder,
)

if TYPE_CHECKING:
    from openiop.accounts.models import User

UNEXPECTED_SCREEN_WINDOW_DAYS = 30


def review_days(episode: EpisodeOfCare | None) -> int:
    """The program's medication_review_days (care.program_settings)."""
    if episode is None:
        return ProgramSettings().medication_review_days
    return episode.program.typed_settings.medication_review_days


def orders_for(participant: Participant) -> QuerySet[MedicationOrder]:
    return (MedicationOrder.objects.filter(participant=participant)
            .select_related("prescriber")
            .prefetch_related(
                Prefetch("changes", queryset=MedicationChange.objects.select_related("changed_by")),
                "acknowledgements",
                Prefetch("administrations",
                         queryset=Administration.objects.select_related("administered_by")))
            .order_by("status", "name"))


def has_open_oud(participant: Participant) -> bool:
    return UseDisorder.objects.filter(participant=participant, substance="opioid",
                                      resolved_on__isnull=True).exists()


def review_status(participant: Participant, episode: EpisodeOfCare | None,
                  today: date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    last = (MedicationReview.objects.filter(participant=participant)
            .aggregate(d=Max("reviewed_on"))["d"])
    cadence = review_days(episode)
    due = rules.review_due(last_review=last, admitted_on=episode.admitted_on if episode else None,
                           cadence_days=cadence)
    # Reviews are the clinic prescriber's: an episode without one has no cadence to miss.
    return {"last": last, "due": due, "cadence": cadence,
            "overdue": bool(episode and episode.prescriber_id and due and due < today)}


def naloxone_status(participant: Participant) -> dict[str, Any]:
    latest = NaloxoneCheck.objects.filter(participant=participant).first()
    return {"needed": has_open_oud(participant), "latest": latest,
            "on_hand": bool(latest and latest.on_hand)}


def dose_timeline_specs(orders: list[MedicationOrder], today: date | None = None
                        ) -> list[dict[str, Any]]:
    """One stepped-line chart per medication, each on its own dose scale.

    A 250 mg and a 1 mg medication on one axis would flatten the small one to the floor,
    so every medication gets its own chart (id, spec, label). All share one time axis: a
    point every week from the first start to today, plus every date a dose changed; each
    line holds its dose until the next change and is blank outside its active period.
    """
    today = today or timezone.localdate()
    series = []
    days: set[date] = {today}
    for order in orders:
        changes = list(order.changes.all())
        if not changes:
            continue
        points = [(c.effective_date, None if c.kind == MedicationChange.Kind.STOP else c.dose)
                  for c in changes]
        days.update(d for d, _ in points)
        series.append((order, points))
    if series:
        first = min(days)
        step = max(1, (today - first).days // 40 // 7 + 1) * 7  # at most ~40 weekly points
        day = first
        while day < today:
            days.add(day)
            day += timedelta(days=step)
    labels = sorted(d for d in days if d <= today)
    charts = []
    for order, points in series:
        data: list[float | None] = []
        for day in labels:
            value: Decimal | None = None
            for when, dose in points:
                if when <= day:
                    value = dose
            data.append(float(value) if value is not None else None)
        unit = order.get_unit_display()
        charts.append({
            "id": f"dose-{order.code}", "label": f"Dose of {order.name} over time ({unit})",
            "name": order.name,
            "spec": {"type": "line", "labels": [d.strftime("%b %d") for d in labels],
                     "datasets": [{"label": f"{order.name} ({unit})", "data": data,
                                   "stepped": True}],
                     "y": {"min": 0, "title": unit}},
        })
    return charts


def allergy_status(participant: Participant) -> dict[str, Any]:
    """Active allergies, the latest "no known drug allergies" statement, and whether the
    chart has an allergy statement at all."""
    active = list(Allergy.objects.filter(participant=participant, status=Allergy.Status.ACTIVE))
    nkda = AllergyStatement.objects.filter(participant=participant).first()
    return {"active": active, "nkda": None if active else nkda,
            "on_file": bool(active or nkda)}


def participant_summary(participant: Participant, episode: EpisodeOfCare | None) -> dict[str, Any]:
    orders = list(orders_for(participant))
    active = [o for o in orders if o.status == MedicationOrder.Status.ACTIVE]
    screens = list(DrugScreen.objects.filter(participant=participant)
                   .prefetch_related("results")[:12])
    labels = rules.screen_substances()
    for screen in screens:
        for r in screen.results.all():
            r.label = labels.get(r.substance, r.substance)  # type: ignore[attr-defined]  # for display
    catalog = rules.catalog()
    return {
        "orders": orders,
        "active_orders": active,
        "past_orders": [o for o in orders if o.status != MedicationOrder.Status.ACTIVE],
        "catalog_entries": {o.pk: catalog.get(o.catalog_key) for o in orders},
        "timelines": dose_timeline_specs(orders),
        "allergy": allergy_status(participant),
        "adherence": list(AdherenceCheck.objects.filter(participant=participant)
                          .select_related("order", "recorded_by")[:10]),
        "side_effects": list(SideEffectReport.objects.filter(participant=participant)
                             .select_related("order")[:10]),
        "screens": screens,
        "reviews": list(MedicationReview.objects.filter(participant=participant)
                        .select_related("reviewer")[:5]),
        "review": review_status(participant, episode),
        "naloxone": naloxone_status(participant),
        "use_disorders": list(UseDisorder.objects.filter(participant=participant)),
        "reconciliations": list(participant.med_reconciliations.select_related("performed_by")[:6]),
        "expected_substances": sorted(rules.expected_substances(o.catalog_key for o in active)),
    }


# --- organization-wide lists (the Medications dashboard) ------------------------------

def _open_episodes(org_id: int) -> QuerySet[EpisodeOfCare]:
    return (EpisodeOfCare.objects.filter(program__organization_id=org_id,
                                         status__in=EpisodeOfCare.OPEN_STATUSES)
            .select_related("participant", "program", "prescriber"))


def _scoped(qs: QuerySet[Any], actor: User | None, kind: Kind) -> QuerySet[Any]:
    """Rows whose `kind` the actor may open (the chart's own decision, as a filter: a Part 2
    participant's rows only for the care team or a break-the-glass grant); every row when
    no actor is given (background work, counts)."""
    return qs if actor is None else scope(qs, actor, kind)


def overdue_reviews(org_id: int, today: date | None = None,
                    prescriber_id: int | None = None, *, actor: User | None = None
                    ) -> list[dict[str, Any]]:
    """Participants in an open episode with a clinic prescriber, on at least one active
    medication, whose medication review is past due (a fixed number of queries, whatever
    the clinic size); only those whose medications `actor` may open, when given."""
    today = today or timezone.localdate()
    last = (MedicationReview.objects.filter(participant=OuterRef("participant_id"))
            .order_by("-reviewed_on").values("reviewed_on")[:1])
    on_meds = set(MedicationOrder.objects.filter(
        participant__organization_id=org_id, status=MedicationOrder.Status.ACTIVE)
        .values_list("participant_id", flat=True))
    rows = []
    episodes = _scoped(_open_episodes(org_id).filter(prescriber__isnull=False), actor,
                       Kind.MEDICATIONS)
    if prescriber_id is not None:
        episodes = episodes.filter(prescriber_id=prescriber_id)
    for ep in episodes.annotate(last_review=Subquery(last)):
        if ep.participant_id not in on_meds:
            continue
        due = rules.review_due(last_review=ep.last_review, admitted_on=ep.admitted_on,
                               cadence_days=review_days(ep))
        if due and due < today:
            rows.append({"participant": ep.participant, "episode": ep, "due": due,
                         "last": ep.last_review, "days_overdue": (today - due).days})
    rows.sort(key=lambda r: -r["days_overdue"])
    return rows


def naloxone_gaps(org_id: int, *, actor: User | None = None) -> list[dict[str, Any]]:
    """Everyone with an open opioid use disorder whose latest check says no naloxone (or
    who was never asked); only those whose problem list `actor` may open, when given."""
    latest = (NaloxoneCheck.objects.filter(participant=OuterRef("participant_id"))
              .order_by("-checked_on", "-pk"))
    rows = (UseDisorder.objects.filter(participant__organization_id=org_id, substance="opioid",
                                       resolved_on__isnull=True,
                                       participant__episodes__status__in=EpisodeOfCare.OPEN_STATUSES)
            .annotate(on_hand=Subquery(latest.values("on_hand")[:1]),
                      checked_on=Subquery(latest.values("checked_on")[:1]))
            .select_related("participant").distinct())
    rows = _scoped(rows, actor, Kind.PROBLEMS)
    return [{"participant": r.participant, "checked_on": r.checked_on,
             "never_checked": r.on_hand is None}
            for r in rows if not r.on_hand]


def unexpected_screens(org_id: int, today: date | None = None,
                       days: int = UNEXPECTED_SCREEN_WINDOW_DAYS,
                       participant_ids: Any = None, *, actor: User | None = None
                       ) -> Sequence[DrugScreen]:
    """Screens of the last `days` days with an unexpected result, newest first (at most 200);
    `participant_ids` (ids or a values() queryset) narrows them to a caseload, `actor` to
    the screens that person may open."""
    today = today or timezone.localdate()
    qs = DrugScreen.objects.filter(participant__organization_id=org_id, has_unexpected=True,
                                   collected_on__gte=today - timedelta(days=days))
    if participant_ids is not None:
        qs = qs.filter(participant_id__in=participant_ids)
    qs = _scoped(qs, actor, Kind.DRUG_SCREENS)
    screens = list(
        qs
        .select_related("participant")
        .prefetch_related(Prefetch("results", queryset=DrugScreenResult.objects.exclude(
            interpretation__startswith="expected"), to_attr="unexpected_results"))
        .order_by("-collected_on")[:200])
    labels = rules.screen_substances()
    for s in screens:
        for r in s.unexpected_results:
            r.label = labels.get(r.substance, r.substance)  # type: ignore[attr-defined]  # for display
    return screens


def unacknowledged_interactions(org_id: int, prescriber_id: int | None = None,
                                limit: int = 200, *, actor: User | None = None
                                ) -> list[dict[str, Any]]:
    """Interaction warnings among a participant's active medications that no order of the
    participant has acknowledged (by rule), for participants in an open episode (of one
    prescriber when given). Two queries; the rules run in memory."""
    episodes = _open_episodes(org_id)
    if prescriber_id is not None:
        episodes = episodes.filter(prescriber_id=prescriber_id)
    orders = list(_scoped(MedicationOrder.objects.filter(
        participant_id__in=episodes.values("participant_id"),
        status=MedicationOrder.Status.ACTIVE), actor, Kind.MEDICATIONS)
        .select_related("participant")
        .prefetch_related("acknowledgements").order_by("participant_id", "pk"))
    by_participant: dict[int, list[MedicationOrder]] = {}
    for order in orders:
        by_participant.setdefault(order.participant_id, []).append(order)
    rows: list[dict[str, Any]] = []
    for group in by_participant.values():
        if len(group) < 2:
            continue
        done = {a.rule_id for o in group for a in o.acknowledgements.all()}
        facts = [interactions.facts_for(ref=str(o.code), name=o.name, catalog_key=o.catalog_key,
                                        contains_alcohol=o.contains_alcohol) for o in group]
        seen: set[str] = set()
        for candidate in facts:
            for warning in interactions.interaction_warnings(candidate, facts):
                if warning.rule_id in done or warning.rule_id in seen:
                    continue
                seen.add(warning.rule_id)
                rows.append({"participant": group[0].participant, "warning": warning})
        if len(rows) >= limit:
            break
    return rows[:limit]


# --- chart header flags ----------------------------------------------------------------

def chart_flags(participant: Participant, episode: EpisodeOfCare | None) -> list:
    from openiop.core.chart import Flag

    flags = []
    if episode is not None and MedicationOrder.objects.filter(
            participant=participant, status=MedicationOrder.Status.ACTIVE).exists():
        review = review_status(participant, episode)
        if review["overdue"]:
            flags.append(Flag("Medication review overdue", "warn",
                              f"Review was due {review['due']:%b %d, %Y} "
                              f"(every {review['cadence']} days)."))
    nal = naloxone_status(participant)
    if nal["needed"] and not nal["on_hand"]:
        flags.append(Flag("No naloxone on hand", "danger",
                          "Opioid use disorder on the problem list and no naloxone kit recorded."))
    since = timezone.localdate() - timedelta(days=UNEXPECTED_SCREEN_WINDOW_DAYS)
    if DrugScreen.objects.filter(participant=participant, has_unexpected=True,
                                 collected_on__gte=since).exists():
        flags.append(Flag("Unexpected drug screen", "warn",
                          f"A screen in the past {UNEXPECTED_SCREEN_WINDOW_DAYS} days did not "
                          "match what is prescribed."))
    return flags
