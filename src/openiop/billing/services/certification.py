"""Recording Medicare IOP physician certifications and recertifications (42 CFR 424.24(d))."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.care.models import EpisodeOfCare

from ..models import BillingProfile, IopCertification
from ._common import require_date, same_org

# Used when the organization has no billing profile yet; the profile's
# iop_recertification_days is the setting (see docs/billing.md on its source).
DEFAULT_RECERTIFICATION_DAYS = 60
PHYSICIAN_CREDENTIALS = frozenset({"MD", "DO"})


def recertification_days(organization_id: int) -> int:
    days = (BillingProfile.objects.filter(organization_id=organization_id)
            .values_list("iop_recertification_days", flat=True).first())
    return days or DEFAULT_RECERTIFICATION_DAYS


def physicians(organization_id: int) -> Any:
    """Staff of the organization who may sign a certification: a physician (MD or DO)."""
    users = User.objects.filter(staff_profile__organization_id=organization_id,
                                is_active=True).select_related("staff_profile")
    return [u for u in users.order_by("last_name", "first_name", "pk")
            if PHYSICIAN_CREDENTIALS & set(u.staff_profile.credentials or [])]


def certification_record(*, actor: User, episode: EpisodeOfCare, data: dict[str, Any],
                         request: HttpRequest | None = None) -> IopCertification:
    """Log a signed certification (the first for the episode) or a recertification.

    The first statement covers from the admission date; a recertification covers from the
    day after the latest one ends, or from its own date when it was signed late (the days
    in between stay uncovered, and the scrubber holds them).
    """
    require_perm(actor, Perm.BILLING_MANAGE)
    participant = episode.participant
    same_org(actor, participant.organization_id)
    certified_on = require_date(data.get("certified_on"), "certified_on")
    assert certified_on is not None  # required=True raises on a missing date
    if certified_on < episode.admitted_on:
        raise ValidationError({"certified_on": "A certification cannot predate the admission "
                                               f"({episode.admitted_on:%b} {episode.admitted_on.day})."})
    if certified_on > timezone.localdate():
        raise ValidationError({"certified_on": "Record a statement once it is signed; the date "
                                               "cannot be in the future."})
    if episode.discharged_on and certified_on > episode.discharged_on:
        raise ValidationError({"certified_on": "The episode was discharged before this date."})
    physician = data.get("certified_by")
    allowed = {u.pk for u in physicians(participant.organization_id)}
    if physician is None or getattr(physician, "pk", None) not in allowed:
        raise ValidationError({"certified_by": "Choose a physician (MD or DO) of this clinic; "
                                               "Medicare requires a physician's certification."})
    interval = recertification_days(participant.organization_id)
    with transaction.atomic():
        latest = (IopCertification.objects.select_for_update()
                  .filter(episode=episode).order_by("-next_due_on", "-pk").first())
        if latest is None:
            kind, covers_from = IopCertification.Kind.INITIAL, episode.admitted_on
        else:
            if certified_on < latest.certified_on:
                raise ValidationError({"certified_on": "A recertification must be dated after "
                                                       "the latest statement."})
            kind = IopCertification.Kind.RECERT
            covers_from = (certified_on if certified_on > latest.next_due_on
                           else latest.next_due_on + timedelta(days=1))
        # The interval runs from the date of signature: a statement signed early covers
        # less, never more, than the regulation allows.
        next_due = certified_on + timedelta(days=interval)
        if next_due < covers_from:
            next_due = covers_from
        cert = IopCertification.objects.create(
            participant=participant, episode=episode, kind=kind, certified_by=physician,
            certified_on=certified_on, covers_from=covers_from, next_due_on=next_due,
            recorded_by=actor)
        audit_record(actor=actor, action="create", object_type="iop_certification",
                     object_id=cert.code, participant=participant, request=request)
    return cert
