"""Who may read and write clinical records (relationship checks on top of role perms).

Clinical notes are visible only to the care team: the episode's primary therapist,
prescriber and case manager, the session's facilitator, the author's supervisor, and the
program's director or administrator (docs/privacy-and-part2.md, "Who sees what").
Anyone else with clinical access must "break the glass": give a reason, which is audited
(HIPAA Security Rule, 45 CFR 164.312(a)(2)(ii), emergency access procedure).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import Role
from openiop.accounts.permissions import Perm, has_perm
from openiop.participants.selectors import is_on_care_team

BREAK_GLASS_SESSION_KEY = "clinical_break_glass"
BREAK_GLASS_MINUTES = 60


def is_supervisor_role(user: Any) -> bool:
    return getattr(user, "role", "") in (Role.DIRECTOR, Role.ADMIN)


def same_organization(user: Any, organization_id: int | None) -> bool:
    org = getattr(user, "staff_organization_id", None)
    return org is not None and org == organization_id


def supervisor_user_id(author: Any) -> int | None:
    profile = getattr(author, "staff_profile", None)
    if profile is None or profile.supervisor_id is None:
        return None
    return profile.supervisor.user_id


def has_break_glass(request: HttpRequest | None, participant: Any) -> bool:
    if request is None or not hasattr(request, "session"):
        return False
    grants = request.session.get(BREAK_GLASS_SESSION_KEY, {})
    until = grants.get(str(participant.code))
    if not until:
        return False
    return datetime.fromisoformat(until) > timezone.now()


def grant_break_glass(request: HttpRequest, participant: Any) -> datetime:
    until = timezone.now() + timedelta(minutes=BREAK_GLASS_MINUTES)
    grants = dict(request.session.get(BREAK_GLASS_SESSION_KEY, {}))
    grants[str(participant.code)] = until.isoformat()
    request.session[BREAK_GLASS_SESSION_KEY] = grants
    return until


def can_see_chart_clinical(user: Any, participant: Any, request: HttpRequest | None = None) -> bool:
    """Care team (or director/admin), or a current break-the-glass grant."""
    if not has_perm(user, Perm.CLINICAL_VIEW):
        return False
    if not same_organization(user, participant.organization_id):
        return False
    return is_on_care_team(user, participant) or has_break_glass(request, participant)


def can_write_for(user: Any, participant: Any) -> bool:
    """Write treatment and safety plans: care team or director/admin, with write permission."""
    return (
        has_perm(user, Perm.CLINICAL_WRITE)
        and same_organization(user, participant.organization_id)
        and is_on_care_team(user, participant)
    )


def note_participants(note: Any) -> list[Any]:
    if note.participant_id is not None:
        return [note.participant]
    return [e.participant for e in note.entries.all()]


def is_note_team(user: Any, note: Any) -> bool:
    """Author, facilitator, the author's supervisor, director/admin, or care team of a
    participant in the note."""
    uid = getattr(user, "pk", None)
    if uid is None or not same_organization(user, note.program.organization_id):
        return False
    if is_supervisor_role(user):
        return True
    if uid in (note.author_id, getattr(note.session, "facilitator_id", None)):
        return True
    if uid == supervisor_user_id(note.author):
        return True
    return any(is_on_care_team(user, p) for p in note_participants(note))


def can_view_note(user: Any, note: Any, request: HttpRequest | None = None) -> bool:
    if not has_perm(user, Perm.CLINICAL_VIEW):
        return False
    if is_note_team(user, note):
        return True
    if not same_organization(user, note.program.organization_id):
        return False
    return any(has_break_glass(request, p) for p in note_participants(note))


def visible_entry_participants(user: Any, note: Any, request: HttpRequest | None = None
                               ) -> set[int] | None:
    """Whose group entries the user may read: None means all (author, facilitator, the
    author's supervisor, director/admin); otherwise only attendees whose care team the user
    is on or for whom they broke the glass (minimum necessary, 45 CFR 164.502(b))."""
    uid = getattr(user, "pk", None)
    if is_supervisor_role(user) or uid in (
        note.author_id, getattr(note.session, "facilitator_id", None),
        supervisor_user_id(note.author),
    ):
        return None
    return {e.participant_id for e in note.entries.all()
            if is_on_care_team(user, e.participant) or has_break_glass(request, e.participant)}
