"""Safety plans: each save is a new version; old versions stay as they were."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from openiop.access.policy import Kind
from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import Conflict, NotPermitted

from ..models import SafetyPlan
from ..permissions import can_see_chart_clinical, can_write_for

if TYPE_CHECKING:
    from openiop.participants.models import Participant

SAFETY_FIELDS = (
    "warning_signs", "internal_coping", "social_distractions", "help_contacts",
    "professional_contacts", "crisis_line", "environment_safety", "reasons_for_living",
)
SAFETY_MAX_CHARS = 5_000


def safety_plan_save(
    *,
    actor: User,
    participant: Participant,
    data: dict[str, Any],
    based_on_version: int | None,
    request: HttpRequest | None = None,
) -> SafetyPlan:
    """Write the next version of the participant's safety plan.

    `based_on_version` is the version the user edited (None for a first plan); if someone
    saved a newer one meanwhile, Conflict is raised and nothing is written.
    Side effects: one SafetyPlan row, one audit event.
    """
    require_perm(actor, Perm.CLINICAL_WRITE)
    if not can_write_for(actor, participant):
        raise NotPermitted("Only the participant's care team can change the safety plan.")
    values = {f: str(data.get(f) or "").strip() for f in SAFETY_FIELDS}
    if not values["crisis_line"]:
        values["crisis_line"] = SafetyPlan._meta.get_field("crisis_line").default
    for field, value in values.items():
        if len(value) > SAFETY_MAX_CHARS:
            raise ValidationError({field: f"At most {SAFETY_MAX_CHARS} characters."})
    latest = (
        SafetyPlan.objects.filter(participant=participant).order_by("-version")
        .values_list("version", flat=True).first()
    )
    if latest != based_on_version:
        raise Conflict(
            "Someone saved a newer version of this safety plan after you opened it. "
            "Nothing was saved; reload to see it, then apply your changes.",
            field="version",
        )
    plan = SafetyPlan(participant=participant, version=(latest or 0) + 1, created_by=actor,
                      **values)
    plan.full_clean(exclude=["participant", "created_by"], validate_unique=False)
    try:
        with transaction.atomic():
            plan.save()
            audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.SAFETY_PLAN,
                         object_id=plan.code, participant=participant, request=request,
                         reason=f"version {plan.version}")
    except IntegrityError as exc:
        # Two saves raced for the same version number: the second one loses, unchanged.
        raise Conflict("Someone saved this safety plan at the same moment. Reload and retry.",
                       field="version") from exc
    return plan


def safety_plan_export(
    *, actor: User, plan: SafetyPlan, action: Action, request: HttpRequest | None = None
) -> None:
    """Record a print or PDF export of a safety plan as a disclosure (audit only)."""
    if action not in (Action.PRINT, Action.EXPORT):
        raise ValueError(action)
    if not can_see_chart_clinical(actor, plan.participant, request, Kind.PLANS):
        raise NotPermitted("Only the care team can print or export the safety plan.")
    audit_record(actor=actor, action=action, object_type=ObjectType.SAFETY_PLAN, object_id=plan.code,
                 participant=plan.participant, request=request,
                 reason=f"version {plan.version}")
