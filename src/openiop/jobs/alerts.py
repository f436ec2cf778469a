"""Alerts for directors: an in-app notice on the jobs page, an e-mail, a log line.

Alert text names what failed and where to look, never clinical content.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail

from .models import SystemAlert

logger = logging.getLogger("openiop.jobs")


def director_emails(organization: Any = None) -> list[str]:
    from openiop.accounts.models import Role, User

    users = User.objects.filter(is_active=True, role__in=[Role.DIRECTOR, Role.ADMIN]).exclude(email="")
    if organization is not None:
        users = users.filter(staff_profile__organization=organization)
    return sorted(set(users.values_list("email", flat=True)))


def raise_alert(*, kind: str, message: str, organization: Any = None) -> SystemAlert:
    """Record an open alert (once while it stays open), log it and e-mail the directors."""
    existing = SystemAlert.objects.filter(kind=kind, organization=organization,
                                          resolved_at__isnull=True, message=message[:300]).first()
    if existing is not None:
        return existing
    alert = SystemAlert.objects.create(kind=kind, message=message[:300], organization=organization)
    logger.error("alert %s: %s", kind, message[:300])
    recipients = director_emails(organization)
    if recipients:
        send_mail(subject=f"OpenIOP alert: {kind.replace('_', ' ')}", message=message,
                  from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
                  recipient_list=recipients, fail_silently=True)
    return alert
