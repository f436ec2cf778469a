"""Read queries for programs, tracks and episodes."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from .models import Enrollment, Program, Track


def tracks_with_openings(*, organization_id: int | None = None) -> QuerySet[Track]:
    """Tracks annotated with `enrolled` (active enrollments) and `openings`."""
    qs = Track.objects.filter(is_active=True).select_related("program", "program__site")
    if organization_id is not None:
        qs = qs.filter(program__organization_id=organization_id)
    return qs.annotate(
        enrolled=Count("enrollments", filter=Q(enrollments__status=Enrollment.Status.ACTIVE))
    )


def programs_for_org(organization_id: int) -> QuerySet[Program]:
    return Program.objects.filter(organization_id=organization_id).select_related("site")
