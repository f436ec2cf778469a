"""Recording Medicare IOP physician certifications and recertifications.

The rule: a physician certifies the need for intensive outpatient services and recertifies
it no less often than every other month (42 CFR 424.24(d); Social Security Act
§1835(a)(2)(F) as amended by the Consolidated Appropriations Act, 2023, §4124; CY 2024
OPPS/ASC final rule with comment period, CMS-1786-FC, 88 FR 81540, corrected at 89 FR
9002). OpenIOP counts that as `BillingProfile.iop_recertification_days`: 60 by default, at
most 62 (models/certification.py says why), the first recertification due that many days
after admission and each later one that many days after the previous signature.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.models import EpisodeOfCare

from ..models import BillingProfile, IopCertification
from ..models.certification import RECERT_DEFAULT_DAYS
from ._common import require_date, same_org

# Used when the organization has no billing profile yet; the profile's
# iop_recertification_days is the setting (see docs/billing.md on its source).
DEFAULT_RECERTIFICATION_DAYS = RECERT_DEFAULT_DAYS
PHYSICIAN_CREDENTIALS = frozenset({"MD", "DO"})


def recertification_days(organization_id: int) -> int:
    """The organization's interval (a database check keeps it within 1 to 62 days)."""
    days = (BillingProfile.objects.filter(organization_id=organization_id)
            .values_list("iop_recertification_days", flat=True).first())
    return days or DEFAULT_RECERTIFICATION_DAYS


def period_covered(*, admitted_on: date, certified_on: date, interval: int,
                   previous_due: date | None) -> tuple[date, date]:
    """(first day covered, last day covered) by a statement signed on `certified_on`.

    The first statement of an episode covers from admission to `interval` days after it,
    whenever within that period it was signed (one signed later than that covers to its
    own date, and the recertification is due at once). A recertification signed on time covers
    from the day after the previous period ends; one signed late covers from its own date
    (the days in between stay uncovered). Either way it runs to `interval` days after its
    signature: a statement signed early covers less, never more, than the rule allows.
    """
    span = timedelta(days=interval)
    if previous_due is None:
        return admitted_on, max(admitted_on + span, certified_on)
    covers_from = (certified_on if certified_on > previous_due
                   else previous_due + timedelta(days=1))
    return covers_from, max(covers_from, certified_on + span)


def physicians(organization_id: int) -> Any:
    """Staff of the organization who may sign a certification: a physician (MD or DO)."""
    users = User.objects.filter(staff_profile__organization_id=organization_id,
                                is_active=True).select_related("staff_profile")
    return [u for u in users.order_by("last_name", "first_name", "pk")
            if PHYSICIAN_CREDENTIALS & set(u.staff_profile.credentials or [])]


def certification_record(*, actor: User, episode: EpisodeOfCare, data: dict[str, Any],
                         request: HttpRequest | None = None) -> IopCertification:
    """Log a signed certification (the first for the episode) or a recertification.

    The dates follow `period_covered`: the first statement covers from admission to the
    first recertification's due date; days no statement covers are held by the scrubber.
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
        if latest is not None and certified_on < latest.certified_on:
            raise ValidationError({"certified_on": "A recertification must be dated after "
                                                   "the latest statement."})
        kind = IopCertification.Kind.INITIAL if latest is None else IopCertification.Kind.RECERT
        covers_from, next_due = period_covered(
            admitted_on=episode.admitted_on, certified_on=certified_on, interval=interval,
            previous_due=latest.next_due_on if latest is not None else None)
        cert = IopCertification.objects.create(
            participant=participant, episode=episode, kind=kind, certified_by=physician,
            certified_on=certified_on, covers_from=covers_from, next_due_on=next_due,
            recorded_by=actor)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.IOP_CERTIFICATION,
                     object_id=cert.code, participant=participant, request=request)
    return cert
