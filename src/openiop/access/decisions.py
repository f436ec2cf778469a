"""The access decision every channel asks: `require` for one participant, `scope` for lists.

Relationships are worked out once here (same organization, care team, self, family under a
consent, break the glass), then the declared table (`policy.TABLE`) decides. Other
organizations get a 404 (a URL does not confirm what exists); a refused user of the same
organization gets `AccessDenied`, which is both a `PermissionDenied` (pages answer 403) and a
`NotPermitted` (services and the JSON API answer it as they always have).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.core.exceptions import NotPermitted

from .memo import remembered
from .policy import FAMILY_SCOPE_KINDS, TABLE, Kind, Rel, Rule

if TYPE_CHECKING:
    from openiop.participants.models import Participant


class AccessDenied(NotPermitted, PermissionDenied):
    """Refused by the access policy (same organization, no relationship that allows it)."""


class NotFoundHere(Http404, NotPermitted):
    """Another organization's record: answered as not found."""

    def __init__(self, message: str = "That record belongs to another organization.") -> None:
        NotPermitted.__init__(self, message)


def same_organization(actor: User, organization_id: int | None) -> bool:
    org = getattr(actor, "staff_organization_id", None)
    return org is not None and org == organization_id


def require_organization(actor: User, organization_id: int | None,
                         message: str = "That belongs to another organization.") -> None:
    """Refuse anything on another organization's rows (a write service's first check)."""
    if not same_organization(actor, organization_id):
        raise NotFoundHere(message)


def is_own_participant(actor: User, participant: Participant) -> bool:
    """The participant themself, signed in to the portal (the "self" relationship)."""
    return (
        getattr(actor, "role", "") == Role.PARTICIPANT
        and getattr(participant, "user_id", None) is not None
        and participant.user_id == getattr(actor, "pk", None)
    )


def _active(actor: User) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", False))


def participant_of(obj: Any) -> Any:
    """The participant a record belongs to (the participant itself for a participant)."""
    from openiop.participants.models import Participant

    if isinstance(obj, Participant):
        return obj
    participant = getattr(obj, "participant", None)
    if participant is None and getattr(obj, "episode", None) is not None:
        participant = obj.episode.participant
    if participant is None:
        raise TypeError(f"{type(obj).__name__} has no participant")
    return participant


def _named_on_open_episode(uid: int) -> Q:
    """Episodes that are open and name the user in one of the care-team roles
    (`EpisodeOfCare.CARE_TEAM_FIELDS`: primary therapist, prescriber, case manager, family
    therapist). The one definition both `is_care_team` and `care_team_q` filter with."""
    from openiop.care.models import EpisodeOfCare

    named = Q(pk__in=[])
    for field in EpisodeOfCare.CARE_TEAM_FIELDS:
        named |= Q(**{f"{field}_id": uid})
    return Q(status__in=EpisodeOfCare.OPEN_STATUSES) & named


def is_care_team(actor: User, participant: Participant) -> bool:
    """Primary therapist, prescriber, case manager or family therapist of an open episode,
    or the program director of the participant's organization. The Administrator is not
    care team for clinical records (they break the glass like anyone else)."""
    uid = getattr(actor, "pk", None)
    if uid is None or not same_organization(actor, participant.organization_id):
        return False
    if getattr(actor, "role", "") == Role.DIRECTOR:
        return True
    return remembered(("care_team", uid, participant.pk), lambda: participant.episodes.filter(
        _named_on_open_episode(uid)).exists())


def active_grant(actor: User, participant: Participant) -> Any:
    """The actor's current break-the-glass grant for this participant, or None."""
    from .models import BreakGlassGrant

    if getattr(actor, "pk", None) is None:
        return None
    return remembered(("grant", actor.pk, participant.pk), lambda: BreakGlassGrant.objects.active(
        timezone.now()).filter(actor_id=actor.pk, participant_id=participant.pk).order_by(
        "-expires_at").first())


def is_part2(participant: Participant) -> bool:
    """42 CFR Part 2 record: the test the disclosure decision applies
    (participants.disclosure.is_part2_participant)."""
    from openiop.participants.disclosure import is_part2_participant

    return remembered(("part2", getattr(participant, "pk", None)),
                      lambda: is_part2_participant(participant))


def family_consents(related: Any) -> list[Any]:
    """The family-access consents of this related person that are in force right now
    (revocation takes effect on the next request)."""
    from openiop.participants.models import Consent

    now = timezone.now()
    consents = Consent.objects.filter(
        participant_id=related.participant_id, related_person=related,
        kind=Consent.Kind.FAMILY_ACCESS, revoked_at__isnull=True)
    return [c for c in consents if c.is_active_at(now)]


def family_scopes(related: Any) -> set[str]:
    """The consent scopes (`participants.consents.FAMILY_SCOPES`) in force for this person."""
    scopes: set[str] = set()
    for consent in family_consents(related):
        scopes.update(s for s in (consent.scopes or []) if s in FAMILY_SCOPE_KINDS)
    return scopes


def _kinds_of(scopes: set[str]) -> frozenset[Kind]:
    kinds: set[Kind] = set()
    for consent_scope in scopes:
        kinds |= FAMILY_SCOPE_KINDS.get(consent_scope, frozenset())
    return frozenset(kinds)


def _related_person(actor: User, participant: Participant) -> Any:
    from openiop.participants.models import RelatedPerson

    if getattr(actor, "pk", None) is None:
        return None
    return RelatedPerson.objects.filter(user_id=actor.pk, participant_id=participant.pk).first()


def _family_kinds(actor: User, participant: Participant) -> frozenset[Kind]:
    related = _related_person(actor, participant)
    return frozenset() if related is None else _kinds_of(family_scopes(related))


def family_allows(actor: User, participant: Participant, consent_scope: str, *,
                  now: datetime | None = None) -> bool:
    """May this family member see what one consent scope shares (the portal's family
    pages, the family's session reminders)? `family_members_allowed` for one person."""
    if not _active(actor) or getattr(actor, "role", "") != Role.FAMILY:
        return False
    allowed = family_members_allowed([participant.pk], consent_scope, now=now,
                                     user_id=actor.pk)
    return any(user.pk == actor.pk for user in allowed.get(participant.pk, []))


def family_members_allowed(participant_ids: Iterable[int], consent_scope: str, *,
                           now: datetime | None = None,
                           user_id: int | None = None) -> dict[int, list[User]]:
    """participant id -> the family members (active accounts with the family role) who may
    see what `consent_scope` shares at `now` (a periodic job passes its own time): the
    participant's family-access consent to that person is in force at `now` and grants the
    scope, and the table lets a family member see every record kind the scope shows
    (`FAMILY_SCOPE_KINDS`; family education shows no chart record, so the consent alone
    decides it). One query for any number of participants (two when a rule excludes Part 2
    records)."""
    from openiop.participants.disclosure import protected_q
    from openiop.participants.models import Consent, Participant

    pids = set(participant_ids)
    kinds = FAMILY_SCOPE_KINDS.get(consent_scope)
    if not pids or kinds is None:
        return {}
    rules = [TABLE[kind].get(Role.FAMILY, {}).get(Rel.FAMILY) for kind in kinds]
    if any(r is None for r in rules):
        return {}
    now = now or timezone.now()
    consents = Consent.objects.filter(
        participant_id__in=pids, kind=Consent.Kind.FAMILY_ACCESS, revoked_at__isnull=True,
        related_person__participant_id__in=pids, related_person__user__is_active=True,
        related_person__user__role=Role.FAMILY,
    ).select_related("related_person__user").order_by("pk")
    if user_id is not None:
        consents = consents.filter(related_person__user_id=user_id)
    excluded: set[int] = set()
    if any(r is not None and r.part2_excluded for r in rules):
        excluded = set(Participant.objects.filter(pk__in=pids).filter(protected_q(""))
                       .values_list("pk", flat=True))
    out: dict[int, list[User]] = defaultdict(list)
    for consent in consents:
        if consent.participant_id in excluded or consent.related_person is None:
            continue
        if consent.related_person.participant_id != consent.participant_id:
            continue
        if not consent.is_active_at(now) or consent_scope not in (consent.scopes or []):
            continue
        user = consent.related_person.user
        if user is not None and user not in out[consent.participant_id]:
            out[consent.participant_id].append(user)
    return dict(out)


def family_participant_ids(actor: User, kind: Kind) -> list[int]:
    """The participants whose `kind` records this family member's consents open (a family
    member is related to one or two participants, so the list is short)."""
    from openiop.participants.models import RelatedPerson

    return [r.participant_id for r in RelatedPerson.objects.filter(user_id=actor.pk)
            if kind in _kinds_of(family_scopes(r))]


def relationships(actor: User, participant: Participant, kind: Kind | None = None) -> set[Rel]:
    """Which relationships hold between the actor and the participant (for `kind`, when a
    family member's consent matters)."""
    rels: set[Rel] = set()
    if not _active(actor):
        return rels
    role = getattr(actor, "role", "")
    if role == Role.PARTICIPANT:
        if is_own_participant(actor, participant):
            rels.add(Rel.SELF)
        return rels
    if role == Role.FAMILY:
        if kind is not None and kind in _family_kinds(actor, participant):
            rels.add(Rel.FAMILY)
        return rels
    if not same_organization(actor, participant.organization_id):
        return rels
    rels.add(Rel.SAME_ORGANIZATION)
    if is_care_team(actor, participant):
        rels.add(Rel.CARE_TEAM)
    if active_grant(actor, participant) is not None:
        rels.add(Rel.BREAK_GLASS)
    return rels


def _permits(rule: Rule | None, action: str, part2: Any) -> bool:
    if rule is None:
        return False
    if action != "view" and not rule.allows_change:
        return False
    return not (rule.part2_excluded and part2())


def decide(actor: User, kind: Kind, participant: Participant, *, action: str = "view",
           rels: set[Rel] | None = None, cache: list[bool] | None = None) -> bool:
    """May `actor` do `action` ("view" or "change") on this participant's `kind` records?

    `cache` (a list) keeps the Part 2 answer across calls about the same participant."""
    rels = relationships(actor, participant, kind) if rels is None else rels
    rules = TABLE[Kind(kind)].get(getattr(actor, "role", ""), {})
    cache = [] if cache is None else cache

    def part2() -> bool:
        if not cache:
            cache.append(is_part2(participant))
        return cache[0]

    # A fixed order, rules that need no Part 2 answer first: a set of relationships
    # iterates in an order that changes from one process to the next (string hashing is
    # randomized), and with it whether the Part 2 query ran at all.
    ordered = sorted(rels, key=lambda rel: (_needs_part2(rules.get(rel)), rel.value))
    return any(_permits(rules.get(rel), action, part2) for rel in ordered)


def _needs_part2(rule: Rule | None) -> bool:
    return rule is not None and rule.part2_excluded


def allows(actor: User, kind: Kind, participant_or_obj: Any, *, action: str = "view") -> bool:
    return decide(actor, kind, participant_of(participant_or_obj), action=action)


def require(actor: User, kind: Kind, participant_or_obj: Any, *, action: str = "view") -> Any:
    """Refuse unless the table allows it; return the participant.

    Http404 (`NotFoundHere`) when the actor has no relationship to the participant at all
    (another organization, someone else's portal); `AccessDenied` otherwise.
    """
    participant = participant_of(participant_or_obj)
    rels = relationships(actor, participant, kind)
    if not rels:
        raise NotFoundHere()
    if not decide(actor, kind, participant, action=action, rels=rels):
        if Rel.SAME_ORGANIZATION in rels and Kind(kind) in _glass_kinds():
            raise AccessDenied("Only the participant's care team may do this; others need "
                               "emergency access (break the glass) with a reason.")
        raise AccessDenied("Your role may not do this with this participant's records.")
    return participant


def _glass_kinds() -> set[Kind]:
    return {k for k, roles in TABLE.items()
            if any(Rel.BREAK_GLASS in rules for rules in roles.values())}


# --- Lists ------------------------------------------------------------------------------

def care_team_q(actor: User, path: str = "participant") -> Q:
    """Rows whose participant (`path`, "" for participant rows) has the actor on its care
    team (the `is_care_team` test in SQL)."""
    from openiop.care.models import EpisodeOfCare

    prefix = f"{path}__" if path else ""
    org = Q(**{f"{prefix}organization_id": getattr(actor, "staff_organization_id", None)})
    if getattr(actor, "role", "") == Role.DIRECTOR:
        return org
    uid = actor.pk
    team = Exists(EpisodeOfCare.objects.filter(_named_on_open_episode(uid),
                                               participant=OuterRef(path or "pk")))
    return org & Q(team)


def break_glass_q(actor: User, path: str = "participant") -> Q:
    from .models import BreakGlassGrant

    prefix = f"{path}__" if path else ""
    org = Q(**{f"{prefix}organization_id": getattr(actor, "staff_organization_id", None)})
    grants = BreakGlassGrant.objects.active(timezone.now()).filter(
        actor_id=actor.pk, participant=OuterRef(path or "pk"))
    return org & Q(Exists(grants))


def scope(queryset: QuerySet, actor: User, kind: Kind, *, participant_path: str = "participant",
          action: str = "view") -> QuerySet:
    """The rows of `queryset` (each belonging to a participant at `participant_path`, "" when
    the rows are participants) whose `kind` the actor may see: the table as a filter."""
    from openiop.participants.disclosure import protected_q

    if not _active(actor):
        return queryset.none()
    prefix = f"{participant_path}__" if participant_path else ""
    rules = TABLE[Kind(kind)].get(getattr(actor, "role", ""), {})
    allowed = Q(pk__in=[])
    for rel, rule in rules.items():
        if action != "view" and not rule.allows_change:
            continue
        if rel == Rel.SAME_ORGANIZATION:
            q = Q(**{f"{prefix}organization_id": getattr(actor, "staff_organization_id", None)})
            if getattr(actor, "staff_organization_id", None) is None:
                continue
        elif rel == Rel.CARE_TEAM:
            if getattr(actor, "staff_organization_id", None) is None:
                continue
            q = care_team_q(actor, participant_path)
        elif rel == Rel.BREAK_GLASS:
            if getattr(actor, "staff_organization_id", None) is None:
                continue
            q = break_glass_q(actor, participant_path)
        elif rel == Rel.SELF:
            q = Q(**{f"{prefix}user_id": actor.pk})
        elif rel == Rel.FAMILY:
            if getattr(actor, "role", "") != Role.FAMILY:
                continue
            q = Q(**{f"{prefix}pk__in": family_participant_ids(actor, Kind(kind))})
        else:
            continue
        if rule.part2_excluded:
            q &= ~protected_q(participant_path)
        allowed |= q
    return queryset.filter(allowed)
