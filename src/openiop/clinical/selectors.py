"""Read queries for clinical records, shared by pages, the API, the portal and reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet

from openiop.care.models import EpisodeOfCare

from .models import (
    Addendum,
    GroupNoteEntry,
    Note,
    NoteStatus,
    SafetyPlan,
    TreatmentGoal,
    TreatmentObjective,
    TreatmentPlan,
    TreatmentProblem,
)


def current_safety_plan(participant: Any) -> SafetyPlan | None:
    """The participant's latest safety-plan version, or None when there is none.

    Used by the staff chart and by the participant's portal. Does not audit: the caller
    (a view that already checked access) records the read.
    """
    return (
        SafetyPlan.objects.filter(participant=participant)
        .select_related("created_by")
        .order_by("-version")
        .first()
    )


def safety_plan_versions(participant: Any) -> QuerySet[SafetyPlan]:
    return SafetyPlan.objects.filter(participant=participant).select_related(
        "created_by"
    ).order_by("-version")


def note_queryset() -> QuerySet[Note]:
    return Note.objects.select_related(
        "program", "session", "participant", "author", "author__staff_profile", "signed_by",
        "cosigned_by",
    )


def note_detail_queryset() -> QuerySet[Note]:
    return note_queryset().prefetch_related(
        Prefetch("entries", queryset=GroupNoteEntry.objects.select_related(
            "participant", "attendance", "objective")),
        Prefetch("addenda", queryset=Addendum.objects.select_related("author")),
        "family_members",
        "objectives",
    )


def notes_for_participant(participant: Any) -> QuerySet[Note]:
    """Individual/family/medication notes about the participant and group notes they are in."""
    return (
        note_queryset()
        .filter(Q(participant=participant) | Q(entries__participant=participant))
        .distinct()
        .order_by("-session__starts_at", "-created_at")
    )


def treatment_plan_for(participant: Any) -> TreatmentPlan | None:
    """The participant's current plan (for the open episode if any, else the latest)."""
    objectives = TreatmentObjective.objects.prefetch_related("interventions__responsible")
    goals = TreatmentGoal.objects.prefetch_related(Prefetch("objectives", queryset=objectives))
    problems = TreatmentProblem.objects.prefetch_related(Prefetch("goals", queryset=goals))
    return (
        TreatmentPlan.objects.filter(participant=participant)
        .select_related("program", "episode", "created_by")
        .prefetch_related(Prefetch("problems", queryset=problems))
        .order_by("-episode__status", "-started_on", "-pk")
        .first()
    )


def open_objectives(participant: Any) -> QuerySet[TreatmentObjective]:
    return TreatmentObjective.objects.filter(
        goal__problem__plan__participant=participant, status=TreatmentObjective.Status.OPEN
    ).order_by("target_date")


def active_plan_objectives(participant_ids: Any) -> QuerySet[TreatmentObjective]:
    """Objectives of these participants' current treatment plans (the plan of an active
    episode), each annotated with `plan_participant_id`: one query for any number of people.
    """
    return (
        TreatmentObjective.objects.filter(
            goal__problem__plan__participant_id__in=list(participant_ids),
            goal__problem__plan__episode__status="active",
        )
        .annotate(plan_participant_id=F("goal__problem__plan__participant_id"))
        .order_by("target_date", "pk")
    )


def notes_awaiting_signature(user: Any) -> QuerySet[Note]:
    """Notes waiting for this person: their own drafts (to sign) and notes of the people
    they supervise that were signed and need a co-signature. Oldest first."""
    from openiop.accounts.models import StaffProfile

    supervisees = StaffProfile.objects.filter(supervisor__user=user).values("user_id")
    return (Note.objects.filter(
        Q(author=user, status=NoteStatus.DRAFT)
        | Q(author_id__in=supervisees, status=NoteStatus.SIGNED, needs_cosignature=True))
        .select_related("participant", "session", "author", "program")
        .order_by("created_at", "pk"))


def plan_reviews_due(*, organization_id: int, today: date, within_days: int = 7,
                     therapist_id: int | None = None) -> QuerySet[TreatmentPlan]:
    """Treatment plans of open episodes whose review is due within `within_days` days or
    overdue (of one primary therapist's participants when given), most overdue first."""
    qs = TreatmentPlan.objects.filter(
        program__organization_id=organization_id,
        episode__status__in=EpisodeOfCare.OPEN_STATUSES,
        next_review_due__lte=today + timedelta(days=within_days))
    if therapist_id is not None:
        qs = qs.filter(episode__primary_therapist_id=therapist_id)
    return qs.select_related("participant", "episode").order_by("next_review_due", "pk")
