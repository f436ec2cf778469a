"""Reads for the jobs page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from .models import Job, SystemAlert

if TYPE_CHECKING:
    from uuid import UUID

    from openiop.accounts.models import User


def jobs_for(user: User) -> QuerySet[Job]:
    """The user's organization's jobs and the clinic-wide scheduled ones (no organization)."""
    org_id = user.staff_organization_id
    return (Job.objects.filter(Q(organization_id=org_id) | Q(organization__isnull=True))
            .select_related("started_by").order_by("-created_at"))


def jobs_started_by(user: User) -> QuerySet[Job]:
    return (Job.objects.filter(started_by=user).select_related("started_by")
            .order_by("-created_at"))


def job_for(user: User, code: UUID | str, *, directors: bool) -> Job | None:
    """A job the user started, or (for directors) any job of their organization."""
    jobs = jobs_for(user) if directors else jobs_started_by(user)
    return jobs.filter(code=code).first()


def open_alerts_for(user: User) -> QuerySet[SystemAlert]:
    org_id = user.staff_organization_id
    return SystemAlert.objects.filter(
        Q(organization_id=org_id) | Q(organization__isnull=True), resolved_at__isnull=True)
