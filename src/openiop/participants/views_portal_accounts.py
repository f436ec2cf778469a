"""Portal accounts on the Consents tab: invite the participant or a family member, give a
new set-up link, deactivate (with a confirmation and a reason) or reactivate."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from openiop.accounts.permissions import Perm
from openiop.accounts.services import LINK_DAYS
from openiop.core.decorators import staff_required
from openiop.core.forms import submit

from . import portal_accounts as services
from .forms_consents import PortalDeactivateForm, PortalInviteForm
from .models import Participant, RelatedPerson
from .selectors import get_participant_for_user
from .views import chart_context

TAB = "participants:consents"


def portal_holders(participant: Participant) -> list[dict[str, object]]:
    """The participant and each family or support person, with their portal account."""
    rows: list[dict[str, object]] = [{"who": "participant", "name": participant.display_name,
                                      "role": "Participant", "user": participant.user}]
    rows += [{"who": str(p.code), "name": p.name, "role": p.get_relationship_display(),
              "user": p.user} for p in participant.related_people.select_related("user")]
    return rows


def invite_form(participant: Participant, data: object = None) -> PortalInviteForm:
    choices = [(h["who"], f"{h['name']} ({h['role']})") for h in portal_holders(participant)
               if h["user"] is None]
    return PortalInviteForm(data, choices=choices)


def _related(participant: Participant, who: str) -> RelatedPerson | None:
    if who == "participant":
        return None
    person = participant.related_people.filter(code=who).first() if len(who) == 36 else None
    if person is None:
        raise Http404
    return person


def _participant(request: HttpRequest, code: str) -> Participant:
    return get_participant_for_user(request.user, code, request=request, perm=Perm.ADMIT,
                                    audit_action=None)


def _link_page(request: HttpRequest, participant: Participant, name: str, token: str,
               heading: str) -> HttpResponse:
    url = request.build_absolute_uri(reverse("accounts:invitation", args=[token]))
    return render(request, "participants/portal_link.html", chart_context(
        request, participant, active_tab=TAB) | {"heading": heading, "name": name,
                                                 "link": url, "days": LINK_DAYS})


@staff_required(Perm.ADMIT)
@require_POST
def portal_invite(request: HttpRequest, code: str) -> HttpResponse:
    from .views_consents import render_consents

    participant = _participant(request, code)
    form = invite_form(participant, request.POST)
    saved = submit(form, lambda data: services.portal_invite(
        actor=request.user, participant=participant,
        related_person=_related(participant, data["who"]), username=data["username"],
        email=data["email"], request=request), renamed={"related_person": "who"})
    if saved is not None:
        user, token = saved.result
        return _link_page(request, participant, str(user), token, "Portal invitation")
    return render_consents(request, participant, invite=form, status=400)


@staff_required(Perm.ADMIT)
@require_POST
def portal_link(request: HttpRequest, code: str, who: str) -> HttpResponse:
    participant = _participant(request, code)
    related = _related(participant, who)
    try:
        token = services.portal_new_link(actor=request.user, participant=participant,
                                         related_person=related, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("participants:consents", code=participant.code)
    name = related.name if related else participant.display_name
    return _link_page(request, participant, name, token, "New portal set-up link")


def _set_active(request: HttpRequest, participant: Participant, related: RelatedPerson | None,
                *, active: bool, reason: str) -> HttpResponse:
    try:
        services.portal_set_active(actor=request.user, participant=participant,
                                   related_person=related, active=active, reason=reason,
                                   request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Portal sign-in " + (
            "is allowed again." if active else "is stopped from now on."))
    return redirect("participants:consents", code=participant.code)


@staff_required(Perm.ADMIT)
@require_POST
def portal_deactivate(request: HttpRequest, code: str, who: str) -> HttpResponse:
    """Stop a portal sign-in: first ask for a reason and a confirmation, then stop it."""
    participant = _participant(request, code)
    related = _related(participant, who)
    form = PortalDeactivateForm(request.POST if "reason" in request.POST else None)
    if not (form.is_bound and form.is_valid()):
        return render(request, "participants/portal_deactivate.html", chart_context(
            request, participant, active_tab=TAB) | {
            "form": form, "name": related.name if related else participant.display_name,
            "who": who}, status=400 if form.is_bound else 200)
    return _set_active(request, participant, related, active=False,
                       reason=form.cleaned_data["reason"])


@staff_required(Perm.ADMIT)
@require_POST
def portal_reactivate(request: HttpRequest, code: str, who: str) -> HttpResponse:
    participant = _participant(request, code)
    return _set_active(request, participant, _related(participant, who), active=True,
                       reason="")
