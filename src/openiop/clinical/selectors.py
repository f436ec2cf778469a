"""Read queries for clinical records, shared by pages, the API, the portal and reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import F, Prefetch, Q, QuerySet

from openiop.access.decisions import scope
from openiop.access.policy import Kind
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

if TYPE_CHECKING:
    from openiop.accounts.models import User
    from openiop.participants.models import Participant


def current_safety_plan(participant: Participant) -> SafetyPlan | None:
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


def safety_plan_versions(participant: Participant) -> QuerySet[SafetyPlan]:
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
        Prefetch("addenda", queryset=Addendum.objects.select_related("author", "participant")),
        "family_members",
        "objectives",
    )


def addenda_for(note: Note, participant_ids: set[int] | None = None) -> list[Addendum]:
    """The note's addenda a reader of these attendees' entries sees: whole-note addenda,
    and those for one attendee only when that attendee is in `participant_ids` (None: all).
    Uses the prefetched addenda of note_detail_queryset()."""
    return [a for a in note.addenda.all()
            if a.participant_id is None or participant_ids is None
            or a.participant_id in participant_ids]


def notes_for_participant(participant: Participant) -> QuerySet[Note]:
    """Individual/family/medication notes about the participant and group notes they are in."""
    # The group notes as a subquery, not an OR across a join of the entries (which needs
    # DISTINCT over every note of the chart and cannot use either index alone).
    in_group = GroupNoteEntry.objects.filter(participant=participant).values("note_id")
    return (
        note_queryset()
        .filter(Q(participant=participant) | Q(pk__in=in_group))
        .order_by("-session__starts_at", "-created_at", "-pk")
    )


def plan_signature_record(plan: TreatmentPlan) -> dict[str, Any]:
    """Who signs a printed plan and what the record already holds: the clinician (the
    episode's primary therapist, else the author of the current revision), the current
    revision's author and state, the last review, the participant's acknowledgment."""
    from django.utils import timezone

    from .services.notes import signature_label

    revision = plan.revisions.select_related("created_by__staff_profile").filter(
        number=plan.revision).first()
    review = plan.reviews.select_related("reviewed_by__staff_profile").first()
    therapist = getattr(plan.episode, "primary_therapist", None) if plan.episode_id else None
    clinician = therapist or (revision.created_by if revision else plan.created_by)
    lines = []
    if revision is not None:
        when = timezone.localtime(revision.updated_at or revision.created_at)
        state = "draft, not finished" if revision.is_draft else "final"
        lines.append(f"Revision {revision.number} ({state}) prepared by "
                     f"{signature_label(revision.created_by)}, last changed {when:%Y-%m-%d}.")
    if review is not None:
        lines.append(f"Last reviewed {review.reviewed_on:%Y-%m-%d} by "
                     f"{signature_label(review.reviewed_by)} (at revision "
                     f"{review.revision_number}).")
    if plan.acknowledged_revision:
        lines.append(
            f"Participant acknowledged revision {plan.acknowledged_revision} on "
            f"{timezone.localtime(plan.acknowledged_at):%Y-%m-%d} "
            f"({plan.acknowledgment_method})."
            + ("" if plan.acknowledged_current else
               f" The plan has changed since (now revision {plan.revision})."))
    else:
        lines.append("Not yet acknowledged by the participant.")
    return {"clinician": signature_label(clinician), "lines": lines}


def treatment_plan_for(participant: Participant, *, tree: bool = True) -> TreatmentPlan | None:
    """The participant's current plan (for the open episode if any, else the latest).

    With `tree`, its problems, goals, objectives and interventions come along in one query
    per level, in the models' order (what `plan_snapshot(plan, loaded=True)` reads); a
    request that changes the plan or reads a stored revision leaves them out."""
    qs = (TreatmentPlan.objects.filter(participant=participant)
          .select_related("program", "episode", "created_by")
          .order_by("-episode__status", "-started_on", "-pk"))
    if tree:
        objectives = TreatmentObjective.objects.prefetch_related("interventions__responsible")
        goals = TreatmentGoal.objects.prefetch_related(
            Prefetch("objectives", queryset=objectives))
        problems = TreatmentProblem.objects.prefetch_related(Prefetch("goals", queryset=goals))
        qs = qs.prefetch_related(Prefetch("problems", queryset=problems))
    return qs.first()


def open_objectives(participant: Participant) -> QuerySet[TreatmentObjective]:
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
            goal__problem__plan__episode__status=EpisodeOfCare.Status.ACTIVE,
        )
        .annotate(plan_participant_id=F("goal__problem__plan__participant_id"))
        .order_by("target_date", "pk")
    )


def notes_awaiting_signature(user: User) -> QuerySet[Note]:
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
                     therapist_id: int | None = None, actor: User | None = None
                     ) -> QuerySet[TreatmentPlan]:
    """Treatment plans of open episodes whose review is due within `within_days` days or
    overdue (of one primary therapist's participants when given; of the plans `actor` may
    open, when given: the care team's, as the plan page decides), most overdue first."""
    qs = TreatmentPlan.objects.filter(
        program__organization_id=organization_id,
        episode__status__in=EpisodeOfCare.OPEN_STATUSES,
        next_review_due__lte=today + timedelta(days=within_days))
    if therapist_id is not None:
        qs = qs.filter(episode__primary_therapist_id=therapist_id)
    if actor is not None:
        qs = scope(qs, actor, Kind.PLANS)
    return qs.select_related("participant", "episode").order_by("next_review_due", "pk")
