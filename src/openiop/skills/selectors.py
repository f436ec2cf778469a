"""Read queries for the curriculum, progress, logs and holistic sessions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db.models import Avg, Count, Max, Prefetch, QuerySet
from django.utils import timezone

from openiop.care.models import EpisodeOfCare, Program
from openiop.participants.models import Participant
from openiop.scheduling.models import HOLISTIC_KINDS, Attendance, Booking, Session

from .models import (
    CravingLog,
    Homework,
    Module,
    RelapsePreventionPlan,
    Rotation,
    RotationItem,
    SessionModule,
    Skill,
    SkillPractice,
)

MISSED = (Attendance.Status.ABSENT, Attendance.Status.EXCUSED)
MAKEUP_LIMIT = 2


def module_library() -> QuerySet[Module]:
    return Module.objects.filter(is_active=True).prefetch_related("skills").order_by("topic", "title")


def skills_catalog() -> QuerySet[Skill]:
    return Skill.objects.filter(is_active=True).order_by("name")


def rotations_for_program(program: Program) -> list[Rotation]:
    return list(
        Rotation.objects.filter(program=program).prefetch_related(
            Prefetch("items", queryset=RotationItem.objects.select_related("module").order_by("position"))
        )
    )


def programs_with_rotations(organization_id: int) -> list[Program]:
    return list(
        Program.objects.filter(organization_id=organization_id, is_active=True)
        .prefetch_related(
            Prefetch(
                "rotations",
                queryset=Rotation.objects.prefetch_related(
                    Prefetch("items", queryset=RotationItem.objects.select_related("module").order_by("position"))
                ),
            )
        )
        .order_by("name")
    )


def program_episode(participant: Participant) -> EpisodeOfCare | None:
    """The open episode, else the most recent one (progress stays readable after discharge)."""
    episodes = list(participant.episodes.select_related("program").order_by("-admitted_on")[:5])
    for ep in episodes:
        if ep.is_open:
            return ep
    return episodes[0] if episodes else None


class Delivery(StrEnum):
    """Where a participant stands with one module of a rotation (derived, never stored)."""

    COVERED = "covered"
    MISSED = "missed"
    UPCOMING = "upcoming"
    UNRECORDED = "unrecorded"
    NOT_YET = "not_yet"


@dataclass
class ModuleStatus:
    module: Module
    position: int
    status: Delivery = Delivery.NOT_YET
    on: datetime | None = None
    makeups: list[Session] = field(default_factory=list)

    @property
    def label(self) -> str:
        return {
            Delivery.COVERED: "Covered", Delivery.MISSED: "Missed",
            Delivery.UPCOMING: "Scheduled", Delivery.UNRECORDED: "Attendance not recorded",
            Delivery.NOT_YET: "Not yet reached",
        }[self.status]

    @property
    def badge(self) -> str:
        return {Delivery.COVERED: "ok", Delivery.MISSED: "danger",
                Delivery.UPCOMING: "info"}.get(self.status, "")


@dataclass
class RotationProgress:
    rotation: Rotation
    rows: list[ModuleStatus]

    @property
    def covered(self) -> int:
        return sum(1 for r in self.rows if r.status == Delivery.COVERED)

    @property
    def missed(self) -> int:
        return sum(1 for r in self.rows if r.status == Delivery.MISSED)

    @property
    def percent(self) -> int:
        return round(100 * self.covered / len(self.rows)) if self.rows else 0


def _delivery_status(bookings: Iterable[Booking],
                     now: datetime) -> dict[int, tuple[Delivery, datetime]]:
    """module id -> (best status, when): covered beats upcoming beats unrecorded beats missed."""
    rank = {Delivery.COVERED: 4, Delivery.UPCOMING: 3, Delivery.UNRECORDED: 2, Delivery.MISSED: 1}
    best: dict[int, tuple[Delivery, datetime]] = {}
    for b in bookings:
        session = b.session
        module_id = session.delivered_module.module_id
        attendance = getattr(b, "attendance", None)
        status: Delivery | None
        if b.status == Booking.Status.CANCELLED or session.status == Session.Status.CANCELLED:
            status = Delivery.MISSED if session.ends_at < now else None
        elif session.ends_at >= now:
            status = Delivery.UPCOMING
        elif attendance is None:
            status = Delivery.UNRECORDED
        elif attendance.status in Attendance.ATTENDED:
            status = Delivery.COVERED
        else:
            status = Delivery.MISSED
        if status is None:
            continue
        current = best.get(module_id)
        if current is None or rank[status] > rank[current[0]]:
            best[module_id] = (status, session.starts_at)
    return best


def participant_progress(participant: Participant, *, now: datetime | None = None) -> list[RotationProgress]:
    """Covered and missed modules of the participant's program rotations, with make-ups.

    A module counts as covered when the participant attended (present, late or left
    early) a session that delivered it; missed when every delivery they were booked for
    passed without attendance. Make-ups are upcoming sessions of the same program that
    deliver the missed module. Queries: a constant handful, whatever the history length.
    """
    now = now or timezone.now()
    episode = program_episode(participant)
    if episode is None:
        return []
    rotations = rotations_for_program(episode.program)
    bookings = (
        Booking.objects.filter(participant=participant, session__delivered_module__isnull=False)
        .select_related("session__delivered_module", "attendance")
    )
    best = _delivery_status(bookings, now)
    result: list[RotationProgress] = []
    missed_ids: set[int] = set()
    for rotation in rotations:
        rows = []
        for item in rotation.items.all():
            row = ModuleStatus(module=item.module, position=item.position)
            if item.module_id in best:
                row.status, row.on = best[item.module_id]
            if row.status == Delivery.MISSED:
                missed_ids.add(item.module_id)
            rows.append(row)
        result.append(RotationProgress(rotation=rotation, rows=rows))
    if missed_ids:
        makeups: dict[int, list[Session]] = defaultdict(list)
        for sm in (
            SessionModule.objects.filter(
                module_id__in=missed_ids, session__program=episode.program,
                session__starts_at__gte=now, session__status=Session.Status.SCHEDULED,
            )
            .select_related("session", "session__track")
            .order_by("session__starts_at")
        ):
            if len(makeups[sm.module_id]) < MAKEUP_LIMIT:
                makeups[sm.module_id].append(sm.session)
        for progress in result:
            for row in progress.rows:
                if row.status == Delivery.MISSED:
                    row.makeups = makeups.get(row.module.pk, [])
    return result


def cohort_progress(
    program: Program, participants: list[Participant], *, now: datetime | None = None
) -> tuple[list[RotationItem], dict[int, dict[int, str]]]:
    """A participants x modules matrix for one program's rotations (3 queries)."""
    now = now or timezone.now()
    items = list(
        RotationItem.objects.filter(rotation__program=program)
        .select_related("module", "rotation")
        .order_by("rotation__kind", "position")
    )
    matrix: dict[int, dict[int, str]] = {p.pk: {} for p in participants}
    bookings = (
        Booking.objects.filter(
            participant__in=participants, session__delivered_module__isnull=False,
            session__program=program,
        )
        .select_related("session__delivered_module", "attendance")
    )
    by_participant: dict[int, list[Booking]] = defaultdict(list)
    for b in bookings:
        by_participant[b.participant_id].append(b)
    for pid, rows in by_participant.items():
        matrix[pid] = {mid: st for mid, (st, _) in _delivery_status(rows, now).items()}
    return items, matrix


def craving_logs(participant: Participant, limit: int = 50) -> list[CravingLog]:
    return list(CravingLog.objects.filter(participant=participant).order_by("-occurred_at")[:limit])


def skill_practices(participant: Participant, limit: int = 50) -> list[SkillPractice]:
    return list(
        SkillPractice.objects.filter(participant=participant)
        .select_related("skill")
        .order_by("-practiced_at")[:limit]
    )


def skill_summary(participant: Participant) -> list[Mapping[str, Any]]:
    rows: list[Mapping[str, Any]] = list(
        SkillPractice.objects.filter(participant=participant)
        .values("skill__name")
        .annotate(times=Count("id"), helpful=Avg("helpfulness"), last=Max("practiced_at"))
        .order_by("-times", "skill__name")
    )
    return rows


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def craving_trend(participant: Participant, *, weeks: int = 8, today: date | None = None) -> dict[str, Any]:
    """A chart spec: weekly average and peak craving intensity, and the number logged."""
    today = today or timezone.localdate()
    first = _week_start(today) - timedelta(weeks=weeks - 1)
    tz = timezone.get_current_timezone()
    since = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    buckets: dict[date, list[int]] = {first + timedelta(weeks=i): [] for i in range(weeks)}
    for occurred, intensity in CravingLog.objects.filter(
        participant=participant, occurred_at__gte=since
    ).values_list("occurred_at", "intensity"):
        week = _week_start(timezone.localtime(occurred, tz).date())
        if week in buckets:
            buckets[week].append(intensity)
    labels = [f"{w:%b} {w.day}" for w in buckets]
    avg = [round(sum(v) / len(v), 1) if v else None for v in buckets.values()]
    peak = [max(v) if v else None for v in buckets.values()]
    counts = [len(v) for v in buckets.values()]
    return {
        "type": "line",
        "labels": labels,
        "datasets": [
            {"label": "Average intensity", "data": avg, "color": "#0f5e73"},
            {"label": "Strongest", "data": peak, "color": "#c2571a"},
        ],
        "y": {"min": 0, "max": 10, "title": "Intensity (0-10)"},
        "bands": [
            {"from": 7, "to": 10, "label": "strong", "color": "rgba(179,38,30,0.07)"},
        ],
        "counts": counts,
        "total": sum(counts),
    }


def homework_for(participant: Participant) -> list[Homework]:
    return list(
        Homework.objects.filter(participant=participant)
        .select_related("module", "assigned_by", "reviewed_by")
        .order_by("status", "due_on", "-assigned_at")
    )


def relapse_plan_for(participant: Participant) -> RelapsePreventionPlan | None:
    return RelapsePreventionPlan.objects.filter(participant=participant).select_related("updated_by").first()


def holistic_sessions(organization_id: int, *, start: date, end: date) -> QuerySet[Session]:
    """Mindfulness, yoga, art and exercise sessions in a date range, with note and roster size."""
    return (
        Session.objects.filter(
            program__organization_id=organization_id, kind__in=sorted(HOLISTIC_KINDS),
            starts_at__date__gte=start, starts_at__date__lte=end,
        )
        .select_related("program", "track", "facilitator", "room", "holistic_note")
        .annotate(booked=Count("bookings"))
        .order_by("starts_at")
    )
