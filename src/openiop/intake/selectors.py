"""Read queries for referrals and safety tasks, scoped to the user's organization."""

from __future__ import annotations

from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType

from .models import Referral, SafetyTask, SafetyTaskEscalation


def _org_id(user: User) -> int:
    """The user's organization, or -1 (no organization's key) for a user without a staff
    profile, so that the query matches nothing."""
    org_id = user.staff_organization_id
    return -1 if org_id is None else org_id


# The referral queue's filter for every referral still moving (Referral.OPEN_STATUSES): a
# filter of the queue beside the statuses themselves, never a stored status.
OPEN_REFERRALS = "open"


def referral_queue(*, user: User, status: str = "") -> QuerySet[Referral]:
    if not has_perm(user, Perm.INTAKE_MANAGE):
        return Referral.objects.none()
    qs = Referral.objects.filter(organization_id=_org_id(user)).select_related(
        "program", "participant")
    if status == OPEN_REFERRALS:
        qs = qs.filter(status__in=Referral.OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    return qs.order_by("-urgent", "-received_at")


def referral_status_counts(*, user: User) -> dict[str, int]:
    rows = (Referral.objects.filter(organization_id=_org_id(user))
            .values("status").annotate(n=Count("pk")))
    counts = {s: 0 for s in Referral.Status.values}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def get_referral_for_user(user: User, code: UUID | str, *,
                          request: HttpRequest | None = None) -> Referral:
    """The referral if the user may manage intake in its organization, else Http404.
    Side effect: a `view` audit event."""
    if not has_perm(user, Perm.INTAKE_MANAGE):
        raise Http404
    try:
        referral = Referral.objects.select_related(
            "organization", "program", "participant", "episode").get(
            code=code, organization_id=_org_id(user))
    except (Referral.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    audit_record(actor=user, action=Action.VIEW, object_type=ObjectType.REFERRAL, object_id=referral.code,
                 participant=referral.participant, organization=referral.organization,
                 request=request)
    return referral


def open_safety_tasks(*, user: User) -> QuerySet[SafetyTask]:
    if not (has_perm(user, Perm.CLINICAL_VIEW) or has_perm(user, Perm.INTAKE_MANAGE)):
        return SafetyTask.objects.none()
    return (SafetyTask.objects.filter(organization_id=_org_id(user),
                                      status=SafetyTask.Status.OPEN)
            .select_related("participant", "assigned_to", "referral")
            .order_by("priority", "acknowledge_due_at", "created_at"))


def safety_tasks_for(*, user: User) -> QuerySet[SafetyTask]:
    """Open safety tasks that are the user's: assigned to them, escalated to them, or about a
    participant whose open episode has them on the care team. Directors and
    administrators: every open task of the organization. Most urgent first (emergent, then
    by acknowledgement deadline)."""
    from openiop.accounts.models import Role
    from openiop.care.models import EpisodeOfCare

    if not has_perm(user, Perm.CLINICAL_WRITE):
        return SafetyTask.objects.none()
    qs = SafetyTask.objects.filter(organization_id=_org_id(user),
                                   status=SafetyTask.Status.OPEN)
    if user.role not in (Role.DIRECTOR, Role.ADMIN):
        team = EpisodeOfCare.objects.filter(
            Q(primary_therapist=user) | Q(prescriber=user) | Q(case_manager=user),
            status__in=EpisodeOfCare.OPEN_STATUSES).values("participant_id")
        escalated = SafetyTaskEscalation.objects.filter(recipient=user).values("task_id")
        qs = qs.filter(Q(assigned_to=user) | Q(pk__in=escalated) | Q(participant_id__in=team))
    return (qs.select_related("participant", "assigned_to", "program")
            .order_by("priority", "acknowledge_due_at", "created_at"))


def get_safety_task_for_user(user: User, code: UUID | str, *,
                             request: HttpRequest | None = None) -> SafetyTask:
    """The task if the user may hold it (clinical staff with write permission in its
    organization), else Http404. Side effect: a `view` audit event."""
    if not has_perm(user, Perm.CLINICAL_WRITE):
        raise Http404
    try:
        task = SafetyTask.objects.select_related(
            "organization", "program", "participant", "referral", "assigned_to",
            "acknowledged_by", "resolved_by").get(
            code=code, organization_id=_org_id(user))
    except (SafetyTask.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    audit_record(actor=user, action=Action.VIEW, object_type=ObjectType.SAFETY_TASK, object_id=task.code,
                 participant=task.participant, organization=task.organization, request=request)
    return task
