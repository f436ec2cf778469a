"""Telling the billing office, once, that an authorization is running out (a periodic job).

The job reads the same warnings as "My work" (`selectors.authorization_warnings`) and, for
each authorization that is 80 % used or ends within AUTH_ENDING_DAYS, sends one in-app
notification (and e-mail/text by the person's preferences) to the organization's billing
staff. An `AuthorizationNotice` row per authorization, kind and basis is the guard: a second
run, or a second worker, finds it and tells nobody again.

Authorization has no "expired" status to set when its end date passes (active, denied,
cancelled): an authorization past its end date simply covers no later day
(`Authorization.covers`), and claims for days it did cover still need it to read as active.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.accounts.models import Role, User
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.notifications.services import notify
from openiop.organizations.models import Organization

from .. import selectors
from ..models import Authorization, AuthorizationNotice

AUTH_ENDING_DAYS = selectors.AUTH_ENDING_DAYS  # why a week: see there

NOTICE_KINDS = {"units_80": AuthorizationNotice.Kind.UNITS_80,
                "ends_soon": AuthorizationNotice.Kind.ENDS_SOON}

# The message names no participant, payer or reference number (an identifier under 45 CFR
# 164.514(b)(2)): e-mail and text messages are not secure; the link opens the authorization's
# row, where access is checked.
TEXTS = {AuthorizationNotice.Kind.UNITS_80: "An authorization has used 80 % of its units",
         AuthorizationNotice.Kind.ENDS_SOON: "An authorization ends within a week"}


def billing_staff(organization_id: int) -> list[User]:
    """Who is told: the organization's active billing staff, or its directors if it has none."""
    people = list(User.objects.filter(role=Role.BILLING, is_active=True,
                                      staff_profile__organization_id=organization_id))
    return people or list(User.objects.filter(role=Role.DIRECTOR, is_active=True,
                                              staff_profile__organization_id=organization_id))


def _basis(kind: str, auth: Authorization) -> str:
    return auth.ends_on.isoformat() if kind == AuthorizationNotice.Kind.ENDS_SOON \
        else str(auth.units_approved)


def authorization_notices_send(*, now: datetime | None = None) -> int:
    """Notify each organization's billing staff of authorizations newly 80 % used or ending
    within AUTH_ENDING_DAYS; returns how many notices were recorded. Idempotent."""
    now = now or timezone.now()
    sent = 0
    org_ids = set(Authorization.objects.filter(status=Authorization.Status.ACTIVE)
                  .values_list("coverage__participant__organization_id", flat=True).distinct())
    for org in Organization.objects.filter(pk__in=org_ids).order_by("pk"):
        today = now.astimezone(org.zone).date()
        warnings = [w for w in selectors.authorization_warnings(
            organization_id=org.pk, today=today, ending_within_days=AUTH_ENDING_DAYS)
            if w.kind in NOTICE_KINDS]
        if not warnings:
            continue
        auths = {str(a.code): a for a in Authorization.objects.filter(
            code__in={w.authorization_code for w in warnings}).select_related(
            "coverage__participant")}
        told = set(AuthorizationNotice.objects.filter(authorization__in=auths.values())
                   .values_list("authorization_id", "kind", "basis"))
        due = [(auths[w.authorization_code], NOTICE_KINDS[w.kind], w.url) for w in warnings]
        due = [(a, kind, url) for a, kind, url in due
               if (a.pk, kind, _basis(kind, a)) not in told]
        if not due:
            continue
        people = billing_staff(org.pk)
        for auth, kind, url in due:
            if _notify_once(auth, kind, url, people, org, now):
                sent += 1
    return sent


def _notify_once(auth: Authorization, kind: str, url: str, people: list[Any],
                 org: Organization, now: datetime) -> bool:
    with transaction.atomic():
        try:
            with transaction.atomic():
                AuthorizationNotice.objects.create(authorization=auth, kind=kind,
                                                   basis=_basis(kind, auth), notified_at=now)
        except IntegrityError:  # told already (this run's twin, or an earlier run)
            return False
        audit_record(actor=None, action=Action.CREATE, object_type=ObjectType.AUTHORIZATION_NOTICE,
                     object_id=auth.code, participant=auth.coverage.participant,
                     organization=org,
                     reason=f"{kind} notice to {len(people)} billing staff")
        notify(users=people, text=TEXTS[AuthorizationNotice.Kind(kind)], url=url, now=now)
    return True
