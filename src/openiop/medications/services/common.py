"""Helpers shared by the medication services: input parsing, the organization check, the
interaction window (active orders plus stopped ones still in effect) and warnings that
must be acknowledged with a reason."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from openiop.access.decisions import require
from openiop.access.policy import Kind
from openiop.accounts.models import User
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import DomainError

from .. import interactions, rules
from ..models import InteractionAcknowledgement, MedicationOrder

if TYPE_CHECKING:
    from openiop.participants.models import Participant

MIN_REASON = 5


class InteractionWarningsPending(DomainError):
    """The change would create unacknowledged warnings; nothing was saved.

    `warnings` lists them (interactions, allergies, a missing allergy statement); call
    again with `acknowledgements={rule_id: reason}`.
    """

    def __init__(self, warnings: list[interactions.Warning]) -> None:
        titles = "; ".join(w.title for w in warnings)
        super().__init__(
            f"Acknowledge each warning with a reason to continue: {titles}.",
            field="acknowledgements",
        )
        self.warnings = warnings


def decimal_of(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValidationError({field: "Enter a number."}) from exc
    if not number.is_finite():
        raise ValidationError({field: "Enter a number."})
    return number


def choice(value: Any, choices: type[models.Choices], field: str, label: str) -> str:
    if value not in choices.values:
        raise ValidationError({field: f"Choose a valid {label}."})
    return value


def same_org(actor: User, participant: Participant, kind: Kind = Kind.MEDICATIONS) -> None:
    """A write on this participant's medication records: the one access decision
    (another organization: not found; a Part 2 record: the care team only)."""
    require(actor, kind, participant, action="change")


def facts(order: MedicationOrder, label: str = "") -> interactions.MedFacts:
    return interactions.facts_for(ref=str(order.code), name=order.name,
                                  catalog_key=order.catalog_key,
                                  contains_alcohol=order.contains_alcohol, label=label)


def active_orders(participant: Participant) -> list[MedicationOrder]:
    return list(MedicationOrder.objects.filter(participant=participant,
                                               status=MedicationOrder.Status.ACTIVE))


def effect_until(order: MedicationOrder, last_given: date | None) -> date | None:
    """The last day a stopped order still counts for interactions: its stop date (or its
    last in-clinic dose, if later) plus the catalog entry's duration of effect."""
    entry = rules.catalog().get(order.catalog_key)
    if entry is None or not entry.effect_days or order.stop_date is None:
        return None
    base = max(d for d in (order.stop_date, last_given) if d is not None)
    return base + timedelta(days=entry.effect_days)


def interaction_window(participant: Participant, today: date | None = None
                       ) -> list[tuple[MedicationOrder, str]]:
    """(order, label) for every active order and every stopped order still within its
    duration of effect (e.g. an extended-release naltrexone injection for 28 days)."""
    today = today or timezone.localdate()
    longest = max((e.effect_days for e in rules.catalog().values()), default=0)
    rows = (MedicationOrder.objects.filter(participant=participant)
            .exclude(status=MedicationOrder.Status.STOPPED,
                     stop_date__lt=today - timedelta(days=longest))
            .annotate(last_given=Max("administrations__administered_at")))
    window: list[tuple[MedicationOrder, str]] = []
    for order in rows:
        if order.status == MedicationOrder.Status.ACTIVE:
            window.append((order, ""))
            continue
        last = timezone.localtime(order.last_given).date() if order.last_given else None
        until = effect_until(order, last)
        if until is not None and until >= today:
            window.append((order, f"stopped {order.stop_date:%b %d}, in effect until "
                                  f"{until:%b %d}"))
    return window


def require_acknowledged(warnings: list[interactions.Warning],
                         acknowledgements: dict[str, str] | None) -> None:
    """Raise InteractionWarningsPending unless every warning has a reason."""
    acks = {k: (v or "").strip() for k, v in (acknowledgements or {}).items()}
    if any(len(acks.get(w.rule_id, "")) < MIN_REASON for w in warnings):
        raise InteractionWarningsPending(warnings)


def save_acks(order: MedicationOrder, warnings: list[interactions.Warning],
              acks: dict[str, str], actor: User, request: HttpRequest | None) -> None:
    for w in warnings:
        InteractionAcknowledgement.objects.create(
            order=order, rule_id=w.rule_id, title=w.title[:200], medications=w.involved[:500],
            reason=acks[w.rule_id].strip()[:500], acknowledged_by=actor,
        )
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.INTERACTION_ACK,
                     object_id=order.code, participant=order.participant, request=request,
                     reason=f"acknowledged {w.rule_id}")
