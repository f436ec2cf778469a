"""Read queries for programs, tracks and episodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet

from .models import Enrollment, Program, Track

if TYPE_CHECKING:
    from openiop.participants.models import Participant


def tracks_with_openings(*, organization_id: int | None = None) -> QuerySet[Track]:
    """Tracks annotated with `enrolled` (active enrollments) and `waiting` (waitlist)."""
    qs = Track.objects.filter(is_active=True).select_related("program", "program__site")
    if organization_id is not None:
        qs = qs.filter(program__organization_id=organization_id)
    return qs.annotate(
        enrolled=Count("enrollments", filter=Q(enrollments__status=Enrollment.Status.ACTIVE)),
        waiting=Count("enrollments", filter=Q(enrollments__status=Enrollment.Status.WAITLISTED)),
    )


def programs_for_org(organization_id: int) -> QuerySet[Program]:
    return Program.objects.filter(organization_id=organization_id).select_related("site")


def episode_timeline(participant: Participant) -> list[dict]:
    """Every episode of a participant, newest first, with its events in date order:
    admission, level changes, discharge. Four queries whatever the number of episodes."""
    from django.db.models import Prefetch

    from .models import EpisodeOfCare, LevelOfCareChange

    episodes = (
        EpisodeOfCare.objects.filter(participant=participant)
        .select_related("program", "primary_therapist", "prescriber", "case_manager",
                        "family_therapist",
                        "discharge")
        .prefetch_related(
            Prefetch("level_changes", queryset=LevelOfCareChange.objects.select_related(
                "recorded_by", "to_track", "from_track").order_by("effective_on", "recorded_at")),
            Prefetch("enrollments", queryset=Enrollment.objects.select_related("track")),
        )
        .order_by("-admitted_on")
    )
    out = []
    for ep in episodes:
        changes = list(ep.level_changes.all())
        first_level = changes[0].from_level if changes else ep.level_of_care
        levels = [{"on": ep.admitted_on, "level": first_level}]
        levels += [{"on": c.effective_on, "level": c.to_level} for c in changes]
        discharge = getattr(ep, "discharge", None)
        end = discharge.discharged_on if discharge else None
        from django.utils import timezone

        levels.append({"on": end or timezone.localdate(), "level": levels[-1]["level"]})
        out.append({"episode": ep, "changes": changes, "discharge": discharge,
                    "enrollments": list(ep.enrollments.all()), "first_level": first_level,
                    "levels": levels})
    return out
