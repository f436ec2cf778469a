"""Permissions as data: a catalogue of permissions mapped to roles.

Role answers "may this kind of user do this at all"; relationship checks (same
organization, care team) live in each app's selectors/permissions and are applied on
top. Keep the mapping here, not in views.
"""

from __future__ import annotations

from enum import StrEnum

from openiop.core.exceptions import NotPermitted

from .models import Role

__all__ = ["ROLE_PERMISSIONS", "NotPermitted", "Perm", "has_perm", "require_perm"]


class Perm(StrEnum):
    PARTICIPANT_VIEW = "participant.view"
    PARTICIPANT_EDIT = "participant.edit"
    PARTICIPANT_CREATE = "participant.create"
    CLINICAL_VIEW = "clinical.view"
    CLINICAL_WRITE = "clinical.write"
    MEDICATION_VIEW = "medication.view"
    MEDICATION_PRESCRIBE = "medication.prescribe"
    MEDICATION_ADMINISTER = "medication.administer"
    SCHEDULE_VIEW = "schedule.view"
    SCHEDULE_PLAN = "schedule.plan"
    ATTENDANCE_RECORD = "attendance.record"
    INTAKE_MANAGE = "intake.manage"
    ADMIT = "care.admit"
    PROGRAM_MANAGE = "program.manage"
    BILLING_VIEW = "billing.view"
    BILLING_MANAGE = "billing.manage"
    STAFF_MANAGE = "staff.manage"
    AUDIT_VIEW = "audit.view"
    REPORTS_VIEW = "reports.view"


_ALL = frozenset(Perm)
_CLINICAL = frozenset(
    {
        Perm.PARTICIPANT_VIEW,
        Perm.PARTICIPANT_EDIT,
        Perm.PARTICIPANT_CREATE,
        Perm.CLINICAL_VIEW,
        Perm.CLINICAL_WRITE,
        Perm.MEDICATION_VIEW,
        Perm.SCHEDULE_VIEW,
        Perm.ATTENDANCE_RECORD,
        Perm.ADMIT,
        Perm.REPORTS_VIEW,
    }
)

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.ADMIN: _ALL,
    Role.DIRECTOR: _ALL - {Perm.MEDICATION_PRESCRIBE, Perm.MEDICATION_ADMINISTER},
    Role.CLINICIAN: _CLINICAL,
    Role.PRESCRIBER: _CLINICAL | {Perm.MEDICATION_PRESCRIBE, Perm.MEDICATION_ADMINISTER},
    Role.NURSE: _CLINICAL | {Perm.MEDICATION_ADMINISTER},
    Role.INTAKE: frozenset(
        {
            Perm.PARTICIPANT_VIEW,
            Perm.PARTICIPANT_CREATE,
            Perm.PARTICIPANT_EDIT,
            Perm.INTAKE_MANAGE,
            Perm.ADMIT,
            Perm.SCHEDULE_VIEW,
        }
    ),
    Role.FRONT_DESK: frozenset(
        {Perm.PARTICIPANT_VIEW, Perm.SCHEDULE_VIEW, Perm.ATTENDANCE_RECORD, Perm.PARTICIPANT_EDIT}
    ),
    # Billing sees coverage, authorizations, charges, claims and remittances (and the
    # diagnosis codes a claim carries) but never note text: it has no CLINICAL_VIEW.
    Role.BILLING: frozenset(
        {Perm.PARTICIPANT_VIEW, Perm.BILLING_VIEW, Perm.BILLING_MANAGE, Perm.SCHEDULE_VIEW}
    ),
    Role.PARTICIPANT: frozenset(),
    Role.FAMILY: frozenset(),
}


def has_perm(user: object, perm: Perm) -> bool:
    """True when the user's role grants `perm` (relationship checks come on top)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return perm in ROLE_PERMISSIONS.get(getattr(user, "role", ""), frozenset())


def require_perm(user: object, perm: Perm) -> None:
    """Raise NotPermitted unless the user's role grants `perm`."""
    if not has_perm(user, perm):
        raise NotPermitted(f"Your role may not do this ({perm}).")
