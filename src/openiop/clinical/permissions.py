"""Who may read and write clinical records: the note-specific relationships, on top of the
one access decision (`openiop.access`).

Clinical notes and treatment/safety plans are visible only to the care team (the
episode's primary therapist, prescriber, case manager and family therapist, and the program
director; see
`openiop.access.policy`), plus, for a note, its author, the session's facilitator and the
author's supervisor (docs/access-policy.md, docs/privacy-and-part2.md). Anyone else with
clinical access must break the glass: give a reason, which is audited and kept as a
grant in the database (HIPAA Security Rule, 45 CFR 164.312(a)(2)(ii)).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from openiop.access.decisions import (
    active_grant,
    allows,
    is_care_team,
    same_organization,
)
from openiop.access.policy import Kind
from openiop.accounts.models import Role, User
from openiop.accounts.permissions import Perm, has_perm

if TYPE_CHECKING:
    from openiop.participants.models import Participant

__all__ = ["can_see_chart_clinical", "can_view_note", "can_write_for", "is_note_team",
           "is_supervisor_role", "same_organization", "visible_entry_participants"]


def is_supervisor_role(user: User) -> bool:
    """Directors and administrators see every clinician's timeliness and note queues."""
    return getattr(user, "role", "") in (Role.DIRECTOR, Role.ADMIN)


def _is_director(user: User) -> bool:
    return getattr(user, "role", "") == Role.DIRECTOR


def supervisor_user_id(author: User) -> int | None:
    profile = getattr(author, "staff_profile", None)
    if profile is None or profile.supervisor_id is None:
        return None
    return profile.supervisor.user_id


def can_see_chart_clinical(user: User, participant: Participant, request: HttpRequest | None = None,
                           kind: Kind = Kind.NOTES) -> bool:
    """Care team (or the director), or a current break-the-glass grant."""
    return has_perm(user, Perm.CLINICAL_VIEW) and allows(user, kind, participant)


def can_write_for(user: User, participant: Participant) -> bool:
    """Write treatment and safety plans: care team with write permission."""
    return has_perm(user, Perm.CLINICAL_WRITE) and allows(user, Kind.PLANS, participant,
                                                          action="change")


def note_participants(note: Any) -> list[Any]:
    if note.participant_id is not None:
        return [note.participant]
    return [e.participant for e in note.entries.all()]


def is_note_team(user: User, note: Any) -> bool:
    """Author, facilitator, the author's supervisor, the director, or care team of a
    participant in the note."""
    uid = getattr(user, "pk", None)
    if uid is None or not same_organization(user, note.program.organization_id):
        return False
    if _is_director(user):
        return True
    if uid in (note.author_id, getattr(note.session, "facilitator_id", None)):
        return True
    if uid == supervisor_user_id(note.author):
        return True
    return any(is_care_team(user, p) for p in note_participants(note))


def can_view_note(user: User, note: Any, request: HttpRequest | None = None) -> bool:
    if not has_perm(user, Perm.CLINICAL_VIEW):
        return False
    if is_note_team(user, note):
        return True
    if not same_organization(user, note.program.organization_id):
        return False
    return any(active_grant(user, p) is not None for p in note_participants(note))


def visible_entry_participants(user: User, note: Any, request: HttpRequest | None = None
                               ) -> set[int] | None:
    """Whose group entries the user may read: None means all (author, facilitator, the
    author's supervisor, the director); otherwise only attendees whose care team the user
    is on or for whom they broke the glass (minimum necessary, 45 CFR 164.502(b))."""
    uid = getattr(user, "pk", None)
    if (_is_director(user) and same_organization(user, note.program.organization_id)) or uid in (
        note.author_id, getattr(note.session, "facilitator_id", None),
        supervisor_user_id(note.author),
    ):
        return None
    return {e.participant_id for e in note.entries.all()
            if allows(user, Kind.NOTES, e.participant)}
