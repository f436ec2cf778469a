"""Note pages: the dashboard, writing (autosave), signing, addenda, printing."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from openiop.access.decisions import scope
from openiop.access.policy import Kind
from openiop.accounts.permissions import Perm
from openiop.audit.services import audit_list_view, audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.models import EpisodeOfCare
from openiop.core.decorators import staff_required
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted
from openiop.core.forms import submit
from openiop.jobs import downloads
from openiop.participants.models import Participant
from openiop.scheduling.models import Session

from .. import services
from ..formats import ENTRY_FIELDS, OBJECTIVE_LABEL, sections_for
from ..forms import AddendumForm, SignForm
from ..integrity import INTEGRITY_WARNING, check_note_integrity
from ..models import Note, NoteConflictCopy, NoteStatus, TreatmentObjective, TreatmentPlan
from ..pdf import note_pdf, print_release
from ..pdf_jobs import note_size
from ..permissions import (
    is_supervisor_role,
    note_participants,
    visible_entry_participants,
)
from ..selectors import (
    active_plan_objectives,
    addenda_for,
    note_queryset,
    open_objectives,
)
from ..timeliness import note_timeliness, totals
from .common import error_messages, get_note_for_user

if TYPE_CHECKING:
    from openiop.accounts.models import User


@staff_required(Perm.CLINICAL_VIEW)
def index(request: HttpRequest) -> HttpResponse:
    """The notes dashboard: my drafts, co-signatures waiting for me, timeliness."""
    user = request.user
    org_id = user.staff_organization_id
    now = timezone.now()
    everyone = is_supervisor_role(user)
    rows = note_timeliness(organization_id=org_id, now=now,
                           clinician_id=None if everyone else user.pk, sessions_for=user.pk)
    mine = next((r for r in rows if r.user_id == user.pk), None)
    if mine is not None:
        _name_clients(mine.overdue_sessions[:40] + mine.pending_sessions)
    drafts = note_queryset().filter(author=user, status=NoteStatus.DRAFT).order_by(
        "session__starts_at")[:50]
    to_cosign = note_queryset().filter(
        status=NoteStatus.SIGNED, needs_cosignature=True,
        author__staff_profile__supervisor__user=user).order_by("signed_at")[:50]
    # Only the plans the viewer may open (the care team's; the Administrator is not).
    plans = scope(TreatmentPlan.objects.filter(
        program__organization_id=org_id, episode__status=EpisodeOfCare.Status.ACTIVE,
        next_review_due__lte=timezone.localdate() + timezone.timedelta(days=7),
    ), user, Kind.PLANS).select_related("participant").order_by("next_review_due")
    if not everyone:
        plans = plans.filter(episode__primary_therapist=user)
    context = {
        "rows": rows, "totals": totals(rows), "mine": mine, "everyone": everyone,
        "drafts": drafts, "to_cosign": to_cosign, "plans": plans[:50],
        "plans_overdue": plans.filter(next_review_due__lt=timezone.localdate()).count(),
        "today": timezone.localdate(),
    }
    audit_list_view(request=request, object_type=ObjectType.NOTE_DASHBOARD)
    return render(request, "clinical/index.html", context)


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def note_for_session(request: HttpRequest, session_code: str) -> HttpResponse:
    """Open the session's note, starting a draft (pre-filled attendees) when there is none."""
    try:
        session = Session.objects.select_related("program").get(
            code=session_code, program__organization_id=request.user.staff_organization_id)
    except (Session.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc
    try:
        note = services.note_start(actor=request.user, session=session, request=request)
    except (ValidationError, NotPermitted) as exc:
        msg = "; ".join(error_messages(exc)) if isinstance(exc, ValidationError) else exc.message
        messages.error(request, f"The note was not started: {msg}")
        return redirect("clinical:index")
    return redirect("clinical:note", code=note.code)


def _name_clients(items: list[dict[str, Any]]) -> None:
    """Give each appointment row (individual, family, medication) its `client`, so the list
    names who the note is about. One query for all rows."""
    from openiop.scheduling.models import APPOINTMENT_KINDS, Booking

    codes = [i["session_code"] for i in items if i["kind"] in APPOINTMENT_KINDS]
    if not codes:
        return
    clients = {b.session.code: b.participant for b in Booking.objects.filter(
        session__code__in=codes, status=Booking.Status.BOOKED).select_related("session", "participant")}
    for item in items:
        item["client"] = clients.get(item["session_code"])


# What an entry posts (`entry-<participant code>-<key>`): its text fields and the
# treatment-plan objective it addresses (an objective code, or empty for none).
ENTRY_POST_KEYS = (*(f.key for f in ENTRY_FIELDS), "objective")


def _posted_draft(request: HttpRequest, note: Note) -> dict[str, Any]:
    post = request.POST
    sections = {s.key: post.get(f"section-{s.key}", "")
                for s in sections_for(note.kind, note.note_format)}
    entries: dict[str, dict[str, str]] = {}
    for entry in note.entries.all():
        code = str(entry.participant.code)
        fields = {key: post[f"entry-{code}-{key}"] for key in ENTRY_POST_KEYS
                  if f"entry-{code}-{key}" in post}
        if fields:
            entries[code] = fields
    data: dict[str, Any] = {"sections": sections, "entries": entries or None,
                            "editor": post.get("editor", ""), "save_id": post.get("save_id", "")}
    if note.kind == "family" and "family_members_sent" in post:
        data["family_member_ids"] = [int(i) for i in post.getlist("family_members")
                                     if i.isdigit()]
    if note.kind != "group" and "objectives_sent" in post:
        data["objective_codes"] = post.getlist("objectives")
    return data


def _version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return 0


def note_context(request: HttpRequest, note: Note, **extra: Any) -> dict[str, Any]:
    """What the note page shows: sections, entries the user may see, addenda, forms."""
    values = note.sections or {}
    sections = [{"s": s, "value": values.get(s.key, "")}
                for s in sections_for(note.kind, note.note_format)]
    visible = visible_entry_participants(request.user, note, request)
    entries = [{"entry": e, "fields": [{"f": f, "value": getattr(e, f.key)}
                                       for f in ENTRY_FIELDS]}
               for e in note.entries.all() if visible is None or e.participant_id in visible]
    editable = note.is_draft and request.user.pk == note.author_id
    if editable and note.kind == "group" and entries:
        _add_objective_choices(entries)
    attended_missing: list[Participant] = []
    if note.kind == "group" and note.session_id:
        have = {e.participant_id for e in note.entries.all()}
        attended_missing = [
            b.participant for b in note.session.bookings.select_related("participant",
                                                                        "attendance")
            if b.participant_id not in have and hasattr(b, "attendance") and b.attendance.attended
        ]
    family_options = []
    objective_options = []
    if note.participant_id:
        chosen = {p.pk for p in note.family_members.all()}
        if note.kind == "family":
            family_options = [{"p": p, "checked": p.pk in chosen}
                              for p in note.participant.related_people.all()]
        linked = {o.pk for o in note.objectives.all()}
        objective_options = [{"o": o, "checked": o.pk in linked}
                             for o in open_objectives(note.participant)]
    return {
        "note": note, "sections": sections, "entries": entries,
        "editable": editable,
        # This page's name for its saves (see services.note_save_draft); the script gives
        # each autosave its own save id, the one here serves a submit without the script.
        "editor_id": uuid.uuid4().hex, "save_id": uuid.uuid4().hex,
        "warnings": services.note_warnings(note) if note.is_draft else [],
        "sign_form": extra.pop("sign_form", SignForm()),
        "addendum_form": extra.pop("addendum_form", AddendumForm(
            note=note, entries=[row["entry"] for row in entries])),
        "addenda": addenda_for(note, None if visible is None else set(visible)),
        "attended_missing": attended_missing, "family_options": family_options,
        "objective_options": objective_options,
        "can_cosign": note.awaiting_cosignature and _is_supervisor_of_author(request.user, note),
        "can_lock": note.status in (NoteStatus.COSIGNED,) or (
            note.status == NoteStatus.SIGNED and not note.needs_cosignature),
        "conflict_copy": NoteConflictCopy.objects.filter(note=note, author=request.user,
                                                         resolved=False).first()
        if note.is_draft else None,
        **extra,
    }


def _add_objective_choices(entries: list[dict[str, Any]]) -> None:
    """Give each entry row the objectives it can address: the open objectives of the
    attendee's current treatment plan, plus the one already linked. One query for all."""
    by_person: dict[int, list[Any]] = {}
    for o in active_plan_objectives({row["entry"].participant_id for row in entries}):
        by_person.setdefault(o.plan_participant_id, []).append(o)
    for row in entries:
        entry = row["entry"]
        choices = [o for o in by_person.get(entry.participant_id, [])
                   if o.status == TreatmentObjective.Status.OPEN or o.pk == entry.objective_id]
        if entry.objective_id and all(o.pk != entry.objective_id for o in choices):
            choices.append(entry.objective)  # no longer on an active plan: keep it visible
        row["objectives"] = choices


def integrity_context(request: HttpRequest, note: Note) -> dict[str, str]:
    """The integrity warning for a signed note whose content no longer matches its hash."""
    intact = check_note_integrity(actor=request.user, note=note, request=request)
    return {} if intact else {"integrity_warning": INTEGRITY_WARNING}


def _is_supervisor_of_author(user: User, note: Note) -> bool:
    profile = getattr(note.author, "staff_profile", None)
    return bool(profile and profile.supervisor_id and profile.supervisor.user_id == user.pk)


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def note_detail(request: HttpRequest, code: str) -> HttpResponse:
    note = get_note_for_user(request, code)
    for person in (
        [note.participant] if note.participant_id else [e.participant for e in note.entries.all()]
    ):
        audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.NOTE,
                     object_id=note.code, participant=person, request=request)
    return render(request, "clinical/note.html",
                  note_context(request, note) | integrity_context(request, note))


def _conflict_context(note: Note, mine: dict[str, Any]) -> dict[str, Any]:
    current = Note.objects.get(pk=note.pk)
    rows = []
    for s in sections_for(note.kind, note.note_format):
        theirs = (current.sections or {}).get(s.key, "")
        yours = mine["sections"].get(s.key, "")
        rows.append({"label": s.label, "key": f"section-{s.key}", "theirs": theirs,
                     "yours": yours, "post": yours, "differs": theirs != yours})
    for code, fields in (mine.get("entries") or {}).items():
        entry = current.entries.select_related("participant", "objective").filter(
            participant__code=code).first()
        for f in ENTRY_FIELDS:
            if f.key in fields and entry is not None:
                theirs = getattr(entry, f.key)
                rows.append({"label": f"{entry.participant.display_name}: {f.label}",
                             "key": f"entry-{code}-{f.key}", "theirs": theirs,
                             "yours": fields[f.key], "post": fields[f.key],
                             "differs": theirs != fields[f.key]})
        if "objective" in fields and entry is not None:
            rows.append(_objective_conflict_row(entry, code, fields["objective"]))
    return {"note": current, "rows": rows}


def _objective_conflict_row(entry: Any, code: str, posted: str) -> dict[str, Any]:
    """The objective in the side-by-side view: texts shown, the posted code kept."""
    theirs = entry.objective
    yours = (TreatmentObjective.objects.filter(code=posted).first()
             if _is_uuid(posted) else None)
    return {"label": f"{entry.participant.display_name}: {OBJECTIVE_LABEL}",
            "key": f"entry-{code}-objective", "post": posted or "",
            "theirs": theirs.text if theirs else "", "yours": yours.text if yours else "",
            "differs": (theirs.pk if theirs else None) != (yours.pk if yours else None)}


@require_POST
def note_save(request: HttpRequest, code: str) -> HttpResponse:
    """Save the draft. htmx autosave gets a status fragment; a stale version gets both texts
    side by side; an expired session gets 401 (the page keeps the text and says so)."""
    if not request.user.is_authenticated:
        return render(request, "clinical/_session_expired.html", status=401)
    if not request.user.is_clinic_staff:
        raise Http404
    note = get_note_for_user(request, code)
    data = _posted_draft(request, note)
    version = _version(request)
    try:
        note = services.note_save_draft(actor=request.user, note=note, version=version,
                                         request=request, **data)
    except Conflict:
        context = _conflict_context(note, data)
        if request.htmx:
            response = render(request, "clinical/_conflict.html", context)
            response["HX-Retarget"] = "#conflict-panel"
            response["HX-Reswap"] = "innerHTML"
            return response
        return render(request, "clinical/note.html",
                      note_context(request, context["note"], conflict=context), status=409)
    except (ValidationError, InvalidTransition, NotPermitted) as exc:
        msg = "; ".join(error_messages(exc)) if isinstance(exc, ValidationError) else exc.message
        if request.htmx:
            return render(request, "clinical/_autosave_status.html",
                          {"error": msg, "note": note})
        messages.error(request, f"Not saved: {msg}")
        return redirect("clinical:note", code=note.code)
    if request.POST.get("resolve"):
        NoteConflictCopy.objects.filter(note=note, author=request.user).update(resolved=True)
    if request.htmx:
        return render(request, "clinical/_autosave_status.html", {"note": note})
    messages.success(request, f"Draft saved (version {note.version}).")
    return redirect("clinical:note", code=note.code)


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def note_sign(request: HttpRequest, code: str) -> HttpResponse:
    """Sign. When the draft's fields come along (the sign button is in the note form), they
    are saved first, against the version the page showed, so the signed text is what the
    author saw."""
    note = get_note_for_user(request, code)
    form = SignForm(request.POST)
    form.is_valid()
    try:
        if "version" in request.POST and note.is_draft and note.author_id == request.user.pk:
            data = _posted_draft(request, note)
            try:
                note = services.note_save_draft(actor=request.user, note=note,
                                                version=_version(request), request=request,
                                                **data)
            except Conflict:
                context = _conflict_context(note, data)
                return render(request, "clinical/note.html",
                              note_context(request, context["note"], conflict=context),
                              status=409)
        services.note_sign(actor=request.user, note=note,
                           override_reason=form.cleaned_data.get("override_reason", ""),
                           request=request)
    except ValidationError as exc:
        note = get_note_for_user(request, code)
        return render(request, "clinical/note.html",
                      note_context(request, note, sign_errors=error_messages(exc),
                                    sign_form=form), status=422)
    except (NotPermitted, InvalidTransition, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        note.refresh_from_db()
        messages.success(request, "Note signed." + (
            " It now awaits your supervisor's co-signature." if note.needs_cosignature
            else ""))
    return redirect("clinical:note", code=note.code)


def _note_verb(request: HttpRequest, code: str, verb: Any, done: str) -> HttpResponse:
    """Run a one-button verb (co-sign, lock) on the note; a refusal is shown as a message."""
    note = get_note_for_user(request, code)
    try:
        verb(actor=request.user, note=note, request=request)
    except (NotPermitted, InvalidTransition, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("clinical:note", code=note.code)


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def note_cosign(request: HttpRequest, code: str) -> HttpResponse:
    return _note_verb(request, code, services.note_cosign, "Note co-signed.")


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def note_lock(request: HttpRequest, code: str) -> HttpResponse:
    return _note_verb(request, code, services.note_lock, "Note locked.")


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def note_addendum(request: HttpRequest, code: str) -> HttpResponse:
    note = get_note_for_user(request, code)
    visible = visible_entry_participants(request.user, note, request)
    form = AddendumForm(request.POST, note=note, entries=[
        e for e in note.entries.all() if visible is None or e.participant_id in visible])
    if submit(form, lambda data: services.addendum_add(actor=request.user, note=note,
                                                       request=request, **data)):
        messages.success(request, "Addendum signed and added.")
        return redirect("clinical:note", code=note.code)
    return render(request, "clinical/note.html",
                  note_context(request, note, addendum_form=form), status=422)


@staff_required(Perm.CLINICAL_WRITE)
@require_POST
def note_entry_add(request: HttpRequest, code: str) -> HttpResponse:
    note = get_note_for_user(request, code)
    person = Participant.objects.filter(
        code=request.POST.get("participant") or None,
        organization_id=note.program.organization_id).first() if _is_uuid(
        request.POST.get("participant")) else None
    if person is None:
        messages.error(request, "participant: pick an attendee of this session.")
        return redirect("clinical:note", code=note.code)
    try:
        services.group_entry_add(actor=request.user, note=note, participant=person,
                                 request=request)
    except ValidationError as exc:
        messages.error(request, "; ".join(error_messages(exc)))
    except (NotPermitted, InvalidTransition) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Entry added for {person.display_name}.")
    return redirect("clinical:note", code=note.code)


def _is_uuid(value: str | None) -> bool:
    import uuid

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@staff_required(Perm.CLINICAL_VIEW)
@require_GET
def note_print(request: HttpRequest, code: str) -> HttpResponse:
    note = get_note_for_user(request, code)
    try:
        notice = print_release(request, note_participants(note), note, kind="note")
    except ValidationError as exc:
        return HttpResponse("; ".join(error_messages(exc)), status=400,
                            content_type="text/plain")
    services.note_export(actor=request.user, note=note, action=Action.PRINT, request=request)
    context = note_context(request, note)
    only = request.GET.get("participant", "")
    entries = [e for e in context["entries"]
               if not only or str(e["entry"].participant.code) == only]
    addenda = context["addenda"]
    if only:  # one attendee's copy: whole-note addenda and that attendee's own
        addenda = addenda_for(note, {e["entry"].participant_id for e in entries})
    return render(request, "clinical/note_print.html", {
        "note": note, "sections": context["sections"], "entries_all": entries,
        "addenda": addenda, "only": only, "part2_notice": notice} | integrity_context(request, note))


@staff_required(Perm.CLINICAL_VIEW)
@require_http_methods(["GET", "POST"])
def note_pdf_view(request: HttpRequest, code: str) -> HttpResponse:
    """The note's PDF; a long one (a large group's note) is offered, then prepared, in the
    background (POST starts the job)."""
    note = get_note_for_user(request, code)
    try:
        notice = print_release(request, note_participants(note), note, kind="note")
    except ValidationError as exc:
        return HttpResponse("; ".join(error_messages(exc)), status=400,
                            content_type="text/plain")
    visible = visible_entry_participants(request.user, note, request)
    only = request.GET.get("participant", "")
    allowed = {e.participant_id for e in note.entries.all()
               if (visible is None or e.participant_id in visible)
               and (not only or str(e.participant.code) == only)}
    size = note_size(note, allowed)
    if downloads.is_large(size) or request.method == "POST":
        return downloads.offer_or_start(
            request, what="note", filename=f"note-{note.code}.pdf", size=size,
            label=f"{note.get_kind_display()} note PDF"
                  f"{f' ({len(allowed)} attendees)' if note.kind == 'group' else ''}",
            params={"note_id": note.pk, "entry_participant_ids": sorted(allowed),
                    "notice": notice},
            participant=note.participant,
            audit=lambda: services.note_export(actor=request.user, note=note, action=Action.EXPORT,
                                               request=request))
    services.note_export(actor=request.user, note=note, action=Action.EXPORT, request=request)
    intact = check_note_integrity(actor=request.user, note=note, request=request)
    response = HttpResponse(note_pdf(note, entry_participant_ids=allowed,
                                     integrity_warning="" if intact else INTEGRITY_WARNING,
                                     notice=notice),
                            content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="note-{note.code}.pdf"'
    return response
