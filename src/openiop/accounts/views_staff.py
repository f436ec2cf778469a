"""The clinic's own staff administration (administrators and directors), scoped to their
organization; and the one-time set-up link a new or reset colleague follows."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.decorators import staff_required
from openiop.core.exceptions import NotPermitted
from openiop.core.forms import submit

from . import services
from .forms import DeactivateForm, StaffInviteForm
from .models import Invitation, Role, StaffProfile, User
from .permissions import Perm

ENROL_SESSION_KEY = "openiop_mfa_enrol_user"


def _colleague(request: HttpRequest, code: str) -> User:
    user = User.objects.select_related("staff_profile").filter(
        code=code, staff_profile__organization_id=request.user.staff_organization_id).first()
    if user is None:
        raise Http404
    return user


def _link_page(request: HttpRequest, user: User, token: str, heading: str) -> HttpResponse:
    url = request.build_absolute_uri(reverse("accounts:invitation", args=[token]))
    return render(request, "accounts/staff_link.html",
                  {"colleague": user, "link": url, "heading": heading,
                   "days": services.LINK_DAYS})


@staff_required(Perm.STAFF_MANAGE)
def staff_list(request: HttpRequest) -> HttpResponse:
    org = request.user.staff_profile.organization
    pending = Invitation.objects.filter(user=OuterRef("user"), used_at__isnull=True)
    staff = (StaffProfile.objects.filter(organization=org).select_related("user")
             .annotate(link_open=Exists(pending))
             .order_by("-user__is_active", "user__last_name", "user__first_name"))
    audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.STAFF_LIST,
                 organization=org, request=request)
    return render(request, "accounts/staff_list.html", {
        "staff": staff, "deactivate_form": DeactivateForm(),
        "is_admin": request.user.role == Role.ADMIN})


@staff_required(Perm.STAFF_MANAGE)
def staff_invite(request: HttpRequest) -> HttpResponse:
    roles = [(r, Role(r).label) for r in services.grantable_roles(request.user)]
    form = StaffInviteForm(request.POST or None, roles=roles)
    saved = submit(form, lambda data: services.staff_invite(
        actor=request.user, request=request, **data)) if request.method == "POST" else None
    if saved is not None:
        user, token = saved.result
        return _link_page(request, user, token, "Invitation created")
    return render(request, "accounts/staff_invite.html", {"form": form},
                  status=400 if form.errors else 200)


@staff_required(Perm.STAFF_MANAGE)
@require_POST
def staff_reset(request: HttpRequest, code: str) -> HttpResponse:
    user = _colleague(request, code)
    try:
        token = services.staff_reset_link(actor=request.user, user=user, request=request)
    except NotPermitted as exc:
        raise Http404 from exc
    return _link_page(request, user, token, "New set-up link")


def _set_active(request: HttpRequest, user: User, *, active: bool, reason: str) -> HttpResponse:
    try:
        services.staff_set_active(actor=request.user, user=user, active=active, reason=reason,
                                  request=request)
    except NotPermitted as exc:
        raise Http404 from exc
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        state = "active again" if active else "deactivated: sign-in is refused from now on"
        messages.success(request, f"{user} is {state}.")
    return redirect("accounts:staff")


@staff_required(Perm.STAFF_MANAGE)
@require_POST
def staff_deactivate(request: HttpRequest, code: str) -> HttpResponse:
    user = _colleague(request, code)
    form = DeactivateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "To deactivate " + str(user) + ": " + " ".join(
            f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()))
        return redirect("accounts:staff")
    return _set_active(request, user, active=False, reason=form.cleaned_data["reason"])


@staff_required(Perm.STAFF_MANAGE)
@require_POST
def staff_reactivate(request: HttpRequest, code: str) -> HttpResponse:
    return _set_active(request, _colleague(request, code), active=True, reason="")


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Set a password through a one-time link, then enrol a second factor."""
    link = services.link_for_token(token)
    if link is None:
        return render(request, "accounts/invitation.html", {"invalid": True}, status=410)
    form = SetPasswordForm(link.user, request.POST or None)
    saved = submit(form, lambda data: services.link_accept(
        invitation=link, request=request, password=data["new_password1"],
    )) if request.method == "POST" else None
    if saved is not None:
        user = saved.result
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if not user.is_clinic_staff:
            return redirect("/portal/")  # portal accounts: no second factor
        # Only this session, just authenticated by the link, may enrol a device.
        request.session[ENROL_SESSION_KEY] = user.pk
        return redirect("accounts:mfa")
    return render(request, "accounts/invitation.html", {"form": form, "account": link.user},
                  status=400 if form.errors else 200)
