"""De-identified outcomes a program on this instance publishes beside its listing.

Small-cell suppression: no statistic is shown when it rests on fewer than 11 people, and a
rate is also withheld when the people it counts, or the people it leaves out, number 1-10
(otherwise the small count could be worked out from the rate and the total). This follows
the CMS cell-size suppression policy (cells of 1 to 10 are not released):
ResDAC (CMS's research data assistance center), "CMS Cell Size Suppression Policy",
https://resdac.org/articles/cms-cell-size-suppression-policy

Definitions (computed from what the instance records):
- Completion rate: of the program's closed episodes of care (finished or cancelled, FHIR
  EpisodeOfCare.status, https://hl7.org/fhir/R4/valueset-episode-of-care-status.html), the
  share that completed the program: the discharge record's reason is "completed"; an episode
  closed without a discharge record counts by its status (finished = completed, cancelled =
  not).
- Meeting weekly hours: of the people booked into the program's sessions in the last four
  complete weeks, the share whose attended hours per booked week averaged at least the
  program's weekly minimum (ASAM 2.1 minimums, care/levels.py).
- Median change in PHQ-9 / GAD-7: per episode with two or more final scores, last minus
  first; the median over episodes (negative = fewer symptoms). Instrument scoring and
  LOINC codes: the instrument data files (intake/instruments/data/) and docs/clinical-rules.md.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from openiop.care.models import EpisodeOfCare, Program
from openiop.scheduling.models import Booking

MIN_CELL = 11
HOURS_WINDOW_WEEKS = 4


@dataclass(frozen=True)
class Stat:
    label: str
    value: str | None  # None when suppressed or not measured
    people: int
    note: str

    @property
    def suppressed(self) -> bool:
        return self.value is None and self.people > 0


def rate_stat(label: str, numerator: int, denominator: int) -> Stat:
    """A percentage, or suppressed per the small-cell rule above."""
    if denominator == 0:
        return Stat(label, None, 0, "Not measured yet")
    small = denominator < MIN_CELL or 0 < numerator < MIN_CELL or (
        0 < denominator - numerator < MIN_CELL)
    if small:
        return Stat(label, None, denominator,
                    "Not shown: fewer than 11 people in a group (privacy rule)")
    return Stat(label, f"{round(100 * numerator / denominator)}%", denominator,
                f"{denominator} people")


def median_stat(label: str, changes: list[int]) -> Stat:
    if not changes:
        return Stat(label, None, 0, "Not measured yet")
    if len(changes) < MIN_CELL:
        return Stat(label, None, len(changes),
                    "Not shown: fewer than 11 people (privacy rule)")
    median = statistics.median(changes)
    text = f"{median:+.1f}".replace(".0", "") + " points"
    return Stat(label, text, len(changes), f"{len(changes)} people")


def completion(program: Program) -> Stat:
    closed_statuses = (EpisodeOfCare.Status.FINISHED, EpisodeOfCare.Status.CANCELLED)
    counts = EpisodeOfCare.objects.filter(program=program, status__in=closed_statuses).aggregate(
        closed=Count("pk"),
        completed=Count("pk", filter=Q(discharge__reason="completed") | Q(
            discharge__isnull=True, status=EpisodeOfCare.Status.FINISHED)),
    )
    return rate_stat("Completed the program", counts["completed"], counts["closed"])


def weekly_hours(program: Program, *, today: datetime | None = None) -> Stat:
    now = today or timezone.now()
    local = timezone.localtime(now)
    monday = local.date() - timedelta(days=local.weekday())
    end = timezone.make_aware(datetime.combine(monday, time.min))
    start = end - timedelta(weeks=HOURS_WINDOW_WEEKS)
    rows = (
        Booking.objects.filter(
            session__program=program, session__counts_toward_hours=True,
            session__starts_at__gte=start, session__starts_at__lt=end,
            status=Booking.Status.BOOKED,
        )
        .annotate(week=TruncWeek("session__starts_at"))
        .values("participant_id", "week")
        .annotate(minutes=Coalesce(Sum("attendance__minutes_attended"), 0))
    )
    per_person: dict[int, list[int]] = {}
    for row in rows:
        per_person.setdefault(row["participant_id"], []).append(row["minutes"])
    minimum = Decimal(program.weekly_hour_minimum) * 60
    met = sum(1 for weeks in per_person.values() if Decimal(sum(weeks)) / len(weeks) >= minimum)
    hours = f"{Decimal(program.weekly_hour_minimum).normalize():f}"
    return rate_stat(f"Met the {hours} hours a week minimum", met, len(per_person))


def score_change(program: Program, instrument: str, label: str) -> Stat:
    try:
        response_model = apps.get_model("intake", "MeasureResponse")
    except LookupError:
        return Stat(label, None, 0, "Not measured yet")
    rows = (
        response_model.objects.filter(episode__program=program, instrument=instrument,
                                      status=response_model.Status.FINAL,
                                      total__isnull=False)
        .order_by("episode_id", "completed_at")
        .values_list("episode_id", "total")
    )
    series: dict[int, list[int]] = {}
    for episode_id, total in rows:
        series.setdefault(episode_id, []).append(total)
    return median_stat(label, [s[-1] - s[0] for s in series.values() if len(s) >= 2])


def program_outcomes(program: Program) -> list[Stat]:
    """The published, de-identified outcomes of one program (4 small aggregate queries)."""
    return [
        completion(program),
        weekly_hours(program),
        score_change(program, "phq9", "Median change in PHQ-9 (depression)"),
        score_change(program, "gad7", "Median change in GAD-7 (anxiety)"),
    ]
