"""The participant chart's clinical views: the Notes tab, one note as filed in a chart,
breaking the glass, releasing a signed note to a named recipient."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from openiop.access.services import break_glass_grant
from openiop.accounts.models import Role
from openiop.accounts.permissions import Perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.decorators import staff_required
from openiop.scheduling.models import Attendance, Session

from ..forms import BreakGlassForm, ReleaseForm
from ..models import NoteStatus
from ..permissions import can_see_chart_clinical
from ..selectors import addenda_for, notes_for_participant
from .common import chart_participant, error_messages, get_note_for_user
from .notes import integrity_context, note_context


@staff_required(Perm.CLINICAL_VIEW)
def participant_notes(request: HttpRequest, code: str) -> HttpResponse:
    from openiop.participants.views import chart_context

    participant = chart_participant(request, code)
    allowed = can_see_chart_clinical(request.user, participant, request)
    notes = notes_for_participant(participant)
    if not allowed:
        # Without care-team access a user still sees the notes they wrote or facilitated.
        notes = notes.filter(Q(author=request.user) | Q(session__facilitator=request.user))
    now = timezone.now()
    candidates = Session.objects.filter(
        bookings__participant=participant,
        bookings__attendance__status__in=Attendance.ATTENDED,
        notes__isnull=True, ends_at__lte=now, ends_at__gte=now - timezone.timedelta(days=14),
    ).exclude(status=Session.Status.CANCELLED)
    if not allowed:
        candidates = candidates.filter(facilitator=request.user)
    sessions_without_note = list(
        candidates.distinct().select_related("facilitator").order_by("-starts_at")[:20])
    return render(request, "clinical/participant_notes.html",
                  chart_context(request, participant, active_tab="clinical:participant_notes")
                  | {"notes": notes[:200], "allowed": allowed,
                     "break_glass_form": BreakGlassForm(),
                     "sessions_without_note": sessions_without_note,
                     "is_staff_writer": request.user.role in (Role.CLINICIAN, Role.PRESCRIBER,
                                                              Role.NURSE)})


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def participant_note(request: HttpRequest, code: str, note_code: str) -> HttpResponse:
    """One note as filed in this participant's chart: the shared part and only this
    participant's own entry (minimum necessary)."""
    participant = chart_participant(request, code, audit=False)
    note = get_note_for_user(request, note_code)
    if note.participant_id != participant.pk and not any(
        e.participant_id == participant.pk for e in note.entries.all()
    ):
        raise Http404
    audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.NOTE, object_id=note.code,
                 participant=participant, request=request)
    from openiop.participants.views import chart_context

    context = note_context(request, note)
    context["entries"] = [e for e in context["entries"]
                          if e["entry"].participant_id == participant.pk]
    # In this chart: whole-note addenda and those for this participant's entry only.
    context["addenda"] = addenda_for(note, {participant.pk})
    return render(request, "clinical/participant_note.html",
                  chart_context(request, participant, active_tab="clinical:participant_notes")
                  | context | {"chart_view": True} | integrity_context(request, note))


@staff_required(Perm.CLINICAL_VIEW)
@require_POST
def break_glass(request: HttpRequest, code: str) -> HttpResponse:
    participant = chart_participant(request, code, audit=False)
    form = BreakGlassForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Emergency access needs a reason.")
        return redirect("clinical:participant_notes", code=participant.code)
    try:
        grant = break_glass_grant(actor=request.user, participant=participant,
                                  reason=form.cleaned_data["reason"], request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(error_messages(exc)))
        return redirect("clinical:participant_notes", code=participant.code)
    messages.warning(request, "Emergency access granted until "
                     f"{timezone.localtime(grant.expires_at):%H:%M}. This access is logged.")
    target = request.POST.get("next") or ""
    if target == "plan":
        return redirect("clinical:participant_plan", code=participant.code)
    return redirect("clinical:participant_notes", code=participant.code)


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def release_record(request: HttpRequest, code: str) -> HttpResponse:
    """Release a signed note of this participant to a named recipient: staff choose the
    note, the recipient and the purpose; the print then asks the disclosure decision
    (`print_release`), which releases a Part 2 record only under a consent naming that
    recipient and purpose, prints the 42 CFR 2.32 notice and audits the disclosure with the
    recipient. A refused release answers as if there were nothing to print."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from openiop.participants.views import chart_context

    participant = chart_participant(request, code, audit=False)
    notes = list(notes_for_participant(participant).exclude(status=NoteStatus.DRAFT)
                 .select_related("session")[:50])
    form = ReleaseForm(request.GET or None, notes=notes)
    if form.is_valid():
        data = form.cleaned_data
        query = {"release_to": data["release_to"], "recipient": data["recipient"],
                 "purpose": data["purpose"], "participant": str(participant.code)}
        return redirect(reverse("clinical:note_print", kwargs={"code": data["note"]})
                        + "?" + urlencode(query))
    return render(request, "clinical/release.html",
                  chart_context(request, participant, active_tab="participants:consents")
                  | {"form": form, "has_notes": bool(notes)},
                  status=400 if form.errors else 200)
