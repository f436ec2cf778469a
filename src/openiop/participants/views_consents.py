"""The chart's Consents tab: 42 CFR Part 2 and family-access consents recorded, revoked
(with a confirmation and a reason), given again, and printed."""

from __future__ import annotations

from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.decorators import staff_required
from openiop.core.exceptions import DomainError
from openiop.core.forms import submit

from . import consents as services
from .forms_consents import FamilyConsentForm, Part2ConsentForm, PortalInviteForm, RevokeForm
from .models import Consent, Participant
from .selectors import get_participant_for_user
from .views import chart_context

if TYPE_CHECKING:
    from uuid import UUID

TAB = "participants:consents"


def _consent(participant: Participant, code: UUID | str) -> Consent:
    consent = participant.consents.select_related("related_person").filter(code=code).first()
    if consent is None:
        raise Http404
    return consent


def _again_initial(participant: Participant, code: str | None) -> tuple[dict, dict]:
    """Initial values to give a revoked consent again (a new signature is still needed)."""
    if not code:
        return {}, {}
    try:
        old = _consent(participant, code)
    except (Http404, ValidationError):
        return {}, {}
    if old.revoked_at is None:
        return {}, {}
    common = {"replaces": old.code, "expiry_event": old.expiry_event}
    if old.kind == Consent.Kind.FAMILY_ACCESS:
        return {}, common | {"related_person": old.related_person_id, "scopes": old.scopes}
    return common | {"kind": old.kind, "disclosing_party": old.disclosing_party,
                     "information": old.information, "recipient": old.recipient,
                     "recipient_kind": old.recipient_kind,
                     "recipient_app": old.recipient_app_id,
                     "purpose_code": old.purpose_code, "purpose": old.purpose}, {}


def render_consents(request: HttpRequest, participant: Participant, *,
                    part2: Part2ConsentForm | None = None,
                    family: FamilyConsentForm | None = None,
                    invite: PortalInviteForm | None = None, status: int = 200) -> HttpResponse:
    """The tab, with any form that has errors shown again as typed."""
    from .views_portal_accounts import invite_form, portal_holders

    now = timezone.now()
    rows = list(participant.consents.select_related("related_person", "recorded_by",
                                                    "revoked_by").order_by("-granted_at"))
    for c in rows:
        c.active = c.is_active_at(now)
    can_manage = has_perm(request.user, Perm.ADMIT)
    part2_initial, family_initial = _again_initial(participant, request.GET.get("again"))
    return render(request, "participants/consents.html", chart_context(
        request, participant, active_tab=TAB) | {
        "consents": rows, "can_manage": can_manage,
        # Releasing a note prints it: the notes' reader (the release page asks again).
        "can_release": has_perm(request.user, Perm.CLINICAL_VIEW),
        "part2_form": part2 or Part2ConsentForm(
            initial=part2_initial, organization_id=request.user.staff_organization_id),
        "family_form": family or FamilyConsentForm(initial=family_initial,
                                                   participant=participant),
        "again": bool(part2_initial or family_initial),
        "holders": portal_holders(participant) if can_manage else [],
        "invite_form": invite or invite_form(participant),
    }, status=status)


@staff_required(Perm.PARTICIPANT_VIEW)
@require_GET
def consent_list(request: HttpRequest, code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           object_type=ObjectType.CONSENTS)
    return render_consents(request, participant)


def _expires(data: dict[str, Any]) -> datetime | None:
    day = data.get("expires_on")
    return timezone.make_aware(datetime.combine(day, time(23, 59))) if day else None


def _consent_add(request: HttpRequest, participant: Participant,
                 form: Part2ConsentForm | FamilyConsentForm, key: str,
                 kind_fields: Any) -> HttpResponse:
    """Record the consent the form describes; `kind_fields(data)` adds what its kind asks."""

    def record(data: dict[str, Any]) -> Consent:
        replaces = participant.consents.filter(code=data["replaces"]).first() \
            if data.get("replaces") else None
        fields = {"signed_by_name": data["signed_by_name"], "signed_on": data["signed_on"],
                  "signer_relationship": data["signer_relationship"],
                  "expires_at": _expires(data), "expiry_event": data["expiry_event"],
                  "replaces": replaces} | kind_fields(data)
        return services.consent_record(actor=request.user, participant=participant,
                                       request=request, **fields)

    saved = submit(form, record, renamed={"expires_at": "expires_on"})
    if saved is not None:
        messages.success(request, f"{saved.result.get_kind_display()} recorded.")
        return redirect("participants:consents", code=participant.code)
    return render_consents(request, participant, status=400, **{key: form})


def _admitting(request: HttpRequest, code: str) -> Participant:
    return get_participant_for_user(request.user, code, request=request, perm=Perm.ADMIT,
                                    audit_action=None)


@staff_required(Perm.ADMIT)
@require_POST
def consent_add_part2(request: HttpRequest, code: str) -> HttpResponse:
    """A 42 CFR Part 2 consent to disclose to a named recipient."""
    participant = _admitting(request, code)
    form = Part2ConsentForm(request.POST, organization_id=request.user.staff_organization_id)
    return _consent_add(request, participant, form, "part2", lambda data: {
        "kind": data["kind"], "recipient": data["recipient"],
        "recipient_kind": data["recipient_kind"], "recipient_app": data["recipient_app"],
        "purpose_code": data["purpose_code"], "purpose": data["purpose"],
        "information": data["information"], "disclosing_party": data["disclosing_party"]})


@staff_required(Perm.ADMIT)
@require_POST
def consent_add_family(request: HttpRequest, code: str) -> HttpResponse:
    """A family member's access to the portal, by scope."""
    participant = _admitting(request, code)
    form = FamilyConsentForm(request.POST, participant=participant)
    return _consent_add(request, participant, form, "family", lambda data: {
        "kind": Consent.Kind.FAMILY_ACCESS, "related_person": data["related_person"],
        "scopes": data["scopes"]})


@staff_required(Perm.ADMIT)
@require_POST
def consent_revoke(request: HttpRequest, code: str, consent_code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           perm=Perm.ADMIT, audit_action=None)
    consent = _consent(participant, consent_code)
    form = RevokeForm(request.POST if "reason" in request.POST else None)
    if form.is_bound and form.is_valid():
        try:
            services.consent_revoke(actor=request.user, consent=consent, request=request,
                                    reason=form.cleaned_data["reason"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The consent is revoked from now on.")
        return redirect("participants:consents", code=participant.code)
    # First step, or a missing reason or confirmation: ask, keeping what was typed.
    return render(request, "participants/consent_revoke.html", chart_context(
        request, participant, active_tab=TAB) | {"consent": consent, "form": form},
        status=400 if form.is_bound else 200)


@staff_required(Perm.PARTICIPANT_VIEW)
@require_GET
def consent_print(request: HttpRequest, code: str, consent_code: str) -> HttpResponse:
    participant = get_participant_for_user(request.user, code, request=request,
                                           audit_action=None)
    consent = _consent(participant, consent_code)
    audit_record(actor=request.user, action=Action.PRINT, object_type=ObjectType.CONSENT,
                 object_id=consent.code, participant=participant, request=request)
    return render(request, "participants/consent_print.html",
                  {"participant": participant, "consent": consent,
                   "paragraphs": [p for p in consent.text.split("\n\n") if p]})
