"""Staff accounts managed by the clinic: invite, new set-up link, deactivate; and the
one-time set-up link itself (set a password, then enrol a second factor)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import NotPermitted

from .models import STAFF_ROLES, Invitation, InvitationPurpose, Role, StaffProfile, User
from .permissions import Perm, require_perm

LINK_DAYS = 7


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(*, user: User, created_by: User | None, purpose: str) -> str:
    """Replace the user's open links with a new one; return the token (shown once)."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    Invitation.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
    Invitation.objects.create(user=user, created_by=created_by, purpose=purpose,
                              token_hash=_hash(token), expires_at=now + timedelta(days=LINK_DAYS))
    return token


def grantable_roles(actor: User) -> list[str]:
    """Staff roles `actor` may give: an administrator any; a director all but administrator."""
    if actor.role == Role.ADMIN:
        return [r for r in Role.values if r in STAFF_ROLES]
    return [r for r in Role.values if r in STAFF_ROLES and r != Role.ADMIN]


def _same_org_staff(actor: User, user: User) -> StaffProfile:
    profile = getattr(user, "staff_profile", None)
    if profile is None or profile.organization_id != actor.staff_organization_id:
        raise NotPermitted("That person is not on your organization's staff.")
    return profile


def staff_invite(*, actor: User, username: str, first_name: str, last_name: str, email: str,
                 role: str, title: str = "", request: HttpRequest | None = None
                 ) -> tuple[User, str]:
    """Create a staff account without a password in the actor's organization and a
    one-time set-up link for it. Returns the user and the link's token."""
    require_perm(actor, Perm.STAFF_MANAGE)
    if role not in grantable_roles(actor):
        raise ValidationError({"role": "Choose a staff role you may give."})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The username '{username}' is taken."})
    org_id = actor.staff_organization_id
    if org_id is None:
        raise NotPermitted("Only an organization's staff invite staff to it.")
    with transaction.atomic():
        user = User(username=username, first_name=first_name, last_name=last_name,
                    email=email, role=role)
        user.set_unusable_password()
        user.save()
        StaffProfile.objects.create(user=user, organization_id=org_id, title=title)
        token = issue_link(user=user, created_by=actor, purpose=InvitationPurpose.INVITE)
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.STAFF, object_id=user.code,
                     organization=actor.staff_profile.organization, request=request,
                     reason=f"invited as {role}")
    return user, token


def staff_reset_link(*, actor: User, user: User, request: HttpRequest | None = None) -> str:
    """A new set-up link for a colleague who lost a password or authenticator: the old
    password and authenticators stop working at once."""
    require_perm(actor, Perm.STAFF_MANAGE)
    profile = _same_org_staff(actor, user)
    if user.role == Role.ADMIN and actor.role != Role.ADMIN:
        raise NotPermitted("Only an administrator can reset an administrator's sign-in.")
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        token = issue_link(user=user, created_by=actor, purpose=InvitationPurpose.RESET)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.STAFF, object_id=user.code,
                     organization=profile.organization, request=request,
                     reason="sign-in reset: new set-up link")
    return token


def staff_set_active(*, actor: User, user: User, active: bool, reason: str = "",
                     request: HttpRequest | None = None) -> None:
    """Deactivate (sign-in refused at once, open links void) or reactivate a colleague."""
    require_perm(actor, Perm.STAFF_MANAGE)
    profile = _same_org_staff(actor, user)
    if user.pk == actor.pk:
        raise ValidationError({"user": "You cannot deactivate your own account."})
    if user.role == Role.ADMIN and actor.role != Role.ADMIN:
        raise NotPermitted("Only an administrator can change an administrator's account.")
    if not active and not reason.strip():
        raise ValidationError({"reason": "Say why the account is deactivated."})
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=active)
        StaffProfile.objects.filter(pk=profile.pk).update(is_active=active)
        if not active:
            Invitation.objects.filter(user=user, used_at__isnull=True).update(
                used_at=timezone.now())
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.STAFF, object_id=user.code,
                     organization=profile.organization, request=request,
                     reason=("reactivated" if active else f"deactivated: {reason.strip()}")[:500])
    user.refresh_from_db()


def link_for_token(token: str) -> Invitation | None:
    """The open, unexpired link for this token, or None."""
    invitation = (Invitation.objects.select_related("user")
                  .filter(token_hash=_hash(token), used_at__isnull=True,
                          expires_at__gt=timezone.now()).first())
    if invitation is None or not invitation.user.is_active:
        return None
    return invitation


def link_accept(*, invitation: Invitation, password: str,
                request: HttpRequest | None = None) -> User:
    """Set the password from a one-time link and use the link up. The caller signs the
    user in and lets them enrol a second factor in this session only."""
    user = invitation.user
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    with transaction.atomic():
        used = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(
            used_at=timezone.now())
        if used != 1:
            raise ValidationError({"new_password1": "This link was already used."})
        user.set_password(password)
        user.save(update_fields=["password"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        audit_record(actor=user, action=Action.CHANGE, object_type=ObjectType.ACCOUNT, object_id=user.code,
                     organization=getattr(getattr(user, "staff_profile", None),
                                          "organization", None),
                     request=request, reason=f"{invitation.purpose} link used: password set")
    return user
