"""Read queries for participants, always scoped to what the user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet, TextChoices
from django.http import Http404, HttpRequest

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.models import EpisodeOfCare

from .models import Participant

if TYPE_CHECKING:
    from openiop.access.policy import Kind


def participants_visible_to(user: object) -> QuerySet[Participant]:
    """Participants the user may see: staff see their organization's; others see none.

    Participants and family members reach their own record through the portal selectors.
    """
    if not getattr(user, "is_authenticated", False) or not has_perm(user, Perm.PARTICIPANT_VIEW):
        return Participant.objects.none()
    org_id = getattr(user, "staff_organization_id", None)
    if org_id is None:
        return Participant.objects.none()
    return Participant.objects.filter(organization_id=org_id)


def get_participant_for_user(
    user: User,
    code: UUID | str,
    *,
    request: HttpRequest | None = None,
    perm: Perm = Perm.PARTICIPANT_VIEW,
    audit_action: Action | None = Action.VIEW,
    object_type: ObjectType = ObjectType.PARTICIPANT,
    kind: Kind | None = None,
    action: str | None = None,
) -> Participant:
    """The participant with this code if the user may see it, else Http404.

    The record kind asked for (`kind`, or the page's kind in `access.policy.PAGE_KINDS`
    found from the request's URL) goes to the one access decision, `openiop.access.require`
    (403 when the policy refuses a user of the same organization): "view" for a read,
    "change" for a POST unless `action` says otherwise.

    Side effect: records an audit event (a read is an access) unless audit_action is None.
    """
    from openiop.access.decisions import require
    from openiop.access.policy import page_kind

    if not has_perm(user, perm):
        raise Http404
    try:
        participant = participants_visible_to(user).select_related("organization").get(code=code)
    except (Participant.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if kind is None and request is not None:
        kind = page_kind(request)
    if kind is not None:
        if action is None:
            action = "change" if request is not None and request.method == "POST" else "view"
        require(user, kind, participant, action=action)
    if audit_action:
        audit_record(
            actor=user,
            action=audit_action,
            object_type=object_type,
            object_id=participant.code,
            participant=participant,
            request=request,
        )
    return participant


def open_episodes_prefetch() -> Prefetch:
    return Prefetch(
        "episodes",
        queryset=EpisodeOfCare.objects.filter(status__in=EpisodeOfCare.OPEN_STATUSES)
        .select_related("program")
        .order_by("-admitted_on"),
        to_attr="open_episodes",
    )


class EpisodeFilter(TextChoices):
    """The participant list's status filter: where each person stands with the program (a
    filter of the list, read from the episodes, not a stored status)."""

    ACTIVE = "active", "In an active episode"
    DISCHARGED = "discharged", "Discharged"
    NONE = "none", "Never admitted"


def participant_list(
    *,
    user: object,
    query: str = "",
    program_code: str = "",
    level_of_care: str = "",
    status: str = "",
) -> QuerySet[Participant]:
    """The staff participant list: search by name/MRN, filter by program, level, status."""
    qs = participants_visible_to(user)
    if query:
        terms = query.split()
        for term in terms:
            qs = qs.filter(
                Q(legal_first_name__icontains=term)
                | Q(legal_last_name__icontains=term)
                | Q(preferred_name__icontains=term)
                | Q(mrn__iexact=term)
            )
    # Episode filters are uncorrelated IN subqueries, not joins: no duplicate rows (so no
    # DISTINCT), each subquery runs once, and the organization + name index serves the
    # sorted, paginated list. (A correlated EXISTS let SQLite pick the program index and
    # scan a program's episodes once per participant: seconds at 5,000 participants.)
    episodes = EpisodeOfCare.objects.all()
    open_episodes = episodes.filter(status__in=EpisodeOfCare.OPEN_STATUSES)

    def ids(rows: QuerySet[EpisodeOfCare]) -> QuerySet[EpisodeOfCare, Any]:
        return rows.values("participant_id")

    if program_code:
        qs = qs.filter(pk__in=ids(open_episodes.filter(program__code=program_code)))
    if level_of_care:
        qs = qs.filter(pk__in=ids(open_episodes.filter(level_of_care=level_of_care)))
    if status == EpisodeFilter.ACTIVE:
        qs = qs.filter(pk__in=ids(open_episodes))
    elif status == EpisodeFilter.DISCHARGED:
        qs = qs.filter(pk__in=ids(episodes)).exclude(pk__in=ids(open_episodes))
    elif status == EpisodeFilter.NONE:
        qs = qs.exclude(pk__in=ids(episodes))
    return qs.order_by("legal_last_name", "legal_first_name", "pk").prefetch_related(
        open_episodes_prefetch()
    )


def current_episode(participant: Participant) -> EpisodeOfCare | None:
    return participant.episodes.select_related(
        "program", "primary_therapist", "prescriber", "case_manager",
        "family_therapist").current()
