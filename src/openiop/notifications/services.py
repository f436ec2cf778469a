"""Sending notifications: in the app at once, by e-mail and text message after commit.

No clinical content in any message (HIPAA minimum necessary, 45 CFR 164.502(b); e-mail
and SMS are not secure channels): callers pass a neutral sentence such as
`task_message(program)` and a link; the page behind the link checks access.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.audit.vocabulary import Action, ObjectType

from .models import ContactPreference, Notification, OnCallShift
from .sms import send_sms

log = logging.getLogger(__name__)

EMAIL_SUBJECT = "OpenIOP: something needs you"


def task_message(program: Any) -> str:
    """The only sentence a safety-task message carries: the program's name, nothing else."""
    where = f"a participant of {program.name}" if program is not None else "a participant"
    return f"A task for {where} needs you — open OpenIOP"


def absolute_url(path: str) -> str:
    base = getattr(settings, "OPENIOP_SITE_URL", "").rstrip("/")
    return f"{base}{path}" if base else path


def notify(*, users: Iterable[Any], text: str, url: str = "",
           now: datetime | None = None) -> list[Notification]:
    """One in-app notification per distinct active user; e-mail and SMS once the current
    transaction commits (a rolled-back write sends nothing). Delivery failures are logged
    without the message text and never undo the write."""
    now = now or timezone.now()
    seen: set[int] = set()
    rows = []
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(Notification(user=user, text=text, url=url, created_at=now))
    Notification.objects.bulk_create(rows)
    if rows:
        ids = [r.user_id for r in rows]
        transaction.on_commit(lambda: deliver(user_ids=ids, text=text, url=url))
    return rows


def deliver(*, user_ids: list[int], text: str, url: str) -> None:
    """E-mail (Django's e-mail backend) and SMS (the configured provider) to each user."""
    from openiop.accounts.models import User

    prefs = {p.user_id: p for p in ContactPreference.objects.filter(user_id__in=user_ids)}
    link = absolute_url(url)
    body = f"{text}: {link}" if link else text
    for user in User.objects.filter(pk__in=user_ids, is_active=True):
        pref = prefs.get(user.pk)
        if user.email and (pref is None or pref.email_enabled):
            try:
                send_mail(EMAIL_SUBJECT, body, None, [user.email])
            except Exception:
                log.exception("notification e-mail to user %s failed", user.pk)
        if pref is not None and pref.sms_number:
            try:
                send_sms(pref.sms_number, body)
            except Exception:
                log.exception("notification SMS to user %s failed", user.pk)


def notification_mark_read(*, actor: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the actor's notifications read (all of them when no ids are given)."""
    qs = Notification.objects.filter(user=actor, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())


# --- on-call rota ------------------------------------------------------------------------

def _check_rota_manager(actor: User, program: Any) -> None:
    from openiop.accounts.permissions import Perm, require_perm
    from openiop.core.exceptions import NotPermitted

    require_perm(actor, Perm.PROGRAM_MANAGE)
    if actor.staff_organization_id != program.organization_id:
        raise NotPermitted("That program belongs to another organization.")


def on_call_shift_add(*, actor: User, program: Any, weekday: int, start_time: Any,
                      end_time: Any, user: User, request: Any = None) -> OnCallShift:
    """Add one weekly on-call block. The clinician must be able to open a safety task
    (clinical write permission, same organization)."""
    from django.core.exceptions import ValidationError

    from openiop.accounts.permissions import Perm, has_perm
    from openiop.audit.services import audit_record

    _check_rota_manager(actor, program)
    if not (has_perm(user, Perm.CLINICAL_WRITE)
            and user.staff_organization_id == program.organization_id):
        raise ValidationError({"user": "Choose a clinician of this organization who can open "
                               "safety tasks (clinician, prescriber, nurse or director)."})
    shift = OnCallShift(program=program, weekday=weekday, start_time=start_time,
                        end_time=end_time, user=user)
    shift.full_clean()
    with transaction.atomic():
        shift.save()
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.ON_CALL_SHIFT,
                     object_id=shift.pk, organization=program.organization, request=request)
    return shift


def on_call_shift_remove(*, actor: User, shift: OnCallShift, request: Any = None) -> None:
    from openiop.audit.services import audit_record

    _check_rota_manager(actor, shift.program)
    with transaction.atomic():
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.ON_CALL_SHIFT,
                     object_id=shift.pk, organization=shift.program.organization,
                     request=request, reason="removed")
        shift.delete()
