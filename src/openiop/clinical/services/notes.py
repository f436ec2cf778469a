"""Session notes: start, sign, co-sign, lock, amend, export (autosave is in drafts.py).

Signed notes never change: every write below first checks the status, and the update
itself filters on `status='draft'`, so a note signed a moment earlier is not touched.
PostgreSQL enforces the same with a trigger (migration 0002).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.access.decisions import is_care_team
from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted
from openiop.participants.models import Consent, RelatedPerson
from openiop.scheduling.models import GROUP_KINDS, Attendance, Booking, Session

from ..checks import Attendee, NoteWarning, cloned_warnings, privacy_warnings
from ..formats import (
    ENTRY_FIELDS,
    missing_required,
    sections_for,
)
from ..integrity import signed_entries
from ..models import (
    Addendum,
    GroupNoteEntry,
    Note,
    NoteKind,
    NoteStatus,
)
from ..permissions import (
    can_view_note,
    is_note_team,
    is_supervisor_role,
    note_participants,
    same_organization,
    supervisor_user_id,
)

SIGNED_MESSAGE = (
    "This note is signed and can no longer be changed. Add a dated, signed addendum instead."
)
ADDENDUM_MAX_CHARS = 10_000
FAMILY_CONSENT_KINDS = (
    Consent.Kind.FAMILY_INVOLVEMENT, Consent.Kind.FAMILY_ACCESS, Consent.Kind.RELEASE,
)


def note_kind_for_session(session_kind: str) -> str:
    if session_kind in GROUP_KINDS:
        return NoteKind.GROUP
    if session_kind in (NoteKind.INDIVIDUAL, NoteKind.FAMILY, NoteKind.MEDICATION):
        return session_kind
    raise ValidationError({"session": f"Sessions of kind {session_kind!r} take no note."})


def signature_label(user: User) -> str:
    """Name and credentials, e.g. 'Maya Reyes, LCSW', frozen into the note when signed."""
    profile = getattr(user, "staff_profile", None)
    creds = profile.credential_label if profile else ""
    name = user.get_full_name() or user.username
    return f"{name}, {creds}" if creds else f"{name} ({user.get_role_display()})"


def _audit_note(actor: User, note: Note, action: Action, request: HttpRequest | None,
                reason: str = "", participants: list[Any] | None = None) -> None:
    """One event per participant concerned (all of the note's, or `participants`), so each
    chart's access log shows it."""
    people = participants if participants is not None else note_participants(note)
    if not people:
        audit_record(actor=actor, action=action, object_type=ObjectType.NOTE, object_id=note.code,
                     organization=note.program.organization, request=request, reason=reason)
    for person in people:
        audit_record(actor=actor, action=action, object_type=ObjectType.NOTE, object_id=note.code,
                     participant=person, request=request, reason=reason)


def _attended_bookings(session: Any) -> dict[int, Any]:
    """participant id -> attendance, for attendees marked present, late or left early."""
    rows = Attendance.objects.filter(
        booking__session=session, booking__status=Booking.Status.BOOKED,
        status__in=(Attendance.Status.PRESENT, Attendance.Status.LATE,
                    Attendance.Status.LEFT_EARLY),
    ).select_related("booking")
    return {a.booking.participant_id: a for a in rows}


@transaction.atomic
def note_start(*, actor: User, session: Any, request: HttpRequest | None = None) -> Note:
    """The note for a session: the existing one, or a new draft by `actor`.

    Group notes get one entry per participant who attended (from scheduling.Attendance).
    Side effects: a Note (and entries) and one audit event per participant.
    """
    require_perm(actor, Perm.CLINICAL_WRITE)
    if not same_organization(actor, session.program.organization_id):
        raise NotPermitted("This session belongs to another organization.")
    existing = Note.objects.filter(session=session).first()
    if existing is not None:
        return existing
    if session.status == Session.Status.CANCELLED:
        raise ValidationError({"session": "The session was cancelled: there is nothing to note."})
    if session.starts_at > timezone.now():
        raise ValidationError({"session": "A note can be started once the session has begun."})
    kind = note_kind_for_session(session.kind)
    participant = None
    if kind != NoteKind.GROUP:
        booked = list(session.bookings.filter(status=Booking.Status.BOOKED).select_related("participant"))
        if len(booked) != 1:
            raise ValidationError({"session": "An individual, family or medication session "
                                   "needs exactly one booked participant."})
        participant = booked[0].participant
    allowed = actor.pk == session.facilitator_id or (
        participant is not None and is_care_team(actor, participant)
        and not is_supervisor_role(actor)
    )
    if not allowed:
        raise NotPermitted("Only the session's facilitator (or, for an individual session, "
                           "a member of the care team) can write this note.")
    profile = getattr(actor, "staff_profile", None)
    note = Note.objects.create(
        program=session.program, session=session, kind=kind,
        note_format=session.program.note_format, participant=participant, author=actor,
        needs_cosignature=bool(profile and profile.requires_cosignature),
    )
    if kind == NoteKind.GROUP:
        attended = _attended_bookings(session)
        GroupNoteEntry.objects.bulk_create([
            GroupNoteEntry(note=note, participant_id=pid, attendance=att)
            for pid, att in attended.items()
        ])
    _audit_note(actor, note, Action.CREATE, request)
    return note


def _clean_text(value: Any, *, field: str, limit: int) -> str:
    text = "" if value is None else str(value)
    if len(text) > limit:
        raise ValidationError({field: f"At most {limit:,} characters (this has {len(text):,})."})
    return text


def _require_draft(note: Note) -> None:
    if note.status != NoteStatus.DRAFT:
        raise InvalidTransition(SIGNED_MESSAGE, field="status")


def _require_author(actor: User, note: Note, verb: str) -> None:
    if actor.pk != note.author_id:
        raise NotPermitted(f"Only the author ({note.author}) can {verb} this note.")



def _family_members(note: Note, ids: list[Any]) -> list[RelatedPerson]:
    if note.kind != NoteKind.FAMILY:
        if ids:
            raise ValidationError({"family_members": "Only family notes list family members."})
        return []
    if note.participant_id is None:
        raise ValidationError({"family_members": "A family note is about one participant."})
    people = list(RelatedPerson.objects.filter(participant_id=note.participant_id, pk__in=ids))
    if len(people) != len(set(ids)):
        raise ValidationError({"family_members": "Pick family members of this participant."})
    now = timezone.now()
    consents = list(Consent.objects.filter(participant_id=note.participant_id,
                                           kind__in=FAMILY_CONSENT_KINDS))
    for person in people:
        ok = any(c.is_active_at(now) and c.related_person_id in (None, person.pk)
                 for c in consents)
        if not ok:
            raise ValidationError({"family_members": f"{person.name} has no family-involvement "
                                   "consent on file; record the consent first."})
    return people


def note_warnings(note: Note) -> list[NoteWarning]:
    """Privacy (shared text names an attendee) and cloned-entry warnings of a group note."""
    if note.kind != NoteKind.GROUP:
        return []
    entries = list(note.entries.select_related("participant"))
    attendees = [Attendee(str(e.participant.code), e.participant.legal_first_name,
                          e.participant.legal_last_name, e.participant.preferred_name)
                 for e in entries]
    shared = {k: v for k, v in (note.sections or {}).items() if isinstance(v, str)}
    labels = {a.key: a.label for a in attendees}
    return privacy_warnings(shared, attendees) + cloned_warnings(
        {str(e.participant.code): e.as_dict() for e in entries}, labels)


def _sign_errors(note: Note) -> dict[str, str]:
    errors: dict[str, str] = {}
    for section in missing_required(sections_for(note.kind, note.note_format), note.sections):
        errors[f"sections.{section.key}"] = f"{section.label} is required before signing."
    if note.kind == NoteKind.GROUP:
        entries = list(note.entries.select_related("participant"))
        if not entries:
            errors["entries"] = "A group note needs at least one attendee's entry."
        attended = _attended_bookings(note.session) if note.session_id else {}
        for entry in entries:
            name = entry.participant.display_name
            if entry.participant_id not in attended:
                errors[f"entries.{entry.participant.code}"] = (
                    f"{name} is no longer marked as attending: remove the entry or fix "
                    "attendance.")
                continue
            empty = [f.label for f in ENTRY_FIELDS if not getattr(entry, f.key).strip()]
            if empty:
                errors[f"entries.{entry.participant.code}"] = (
                    f"{name}'s entry needs: {', '.join(empty)}.")
    if note.kind == NoteKind.FAMILY:
        try:
            _family_members(note, [p.pk for p in note.family_members.all()])
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    return errors


def note_sign(*, actor: User, note: Note, override_reason: str = "",
              request: HttpRequest | None = None) -> Note:
    """Sign a draft with the author's name and credentials.

    Refused (nothing written) when the actor is not the author, the note is not a draft,
    a required section or entry is empty, or warnings are present without an override
    reason. Side effects: the note becomes `signed`; audit events `sign`.
    """
    require_perm(actor, Perm.CLINICAL_WRITE)
    _require_author(actor, note, "sign")
    _require_draft(note)
    note.refresh_from_db()
    _require_draft(note)
    errors = _sign_errors(note)
    if errors:
        raise ValidationError(errors)
    warnings = note_warnings(note)
    reason = (override_reason or "").strip()
    if warnings and not reason:
        raise ValidationError({"override_reason": "Before signing, resolve these warnings or "
                               "give a reason to sign anyway: "
                               + " ".join(w.message for w in warnings)})
    if len(reason) > 1000:
        raise ValidationError({"override_reason": "At most 1,000 characters."})
    entries = signed_entries(note)
    now = timezone.now()
    profile = getattr(actor, "staff_profile", None)
    with transaction.atomic():
        updated = Note.objects.filter(pk=note.pk, status=NoteStatus.DRAFT,
                                      version=note.version).update(
            status=NoteStatus.SIGNED, signed_by=actor, signed_at=now,
            signed_as=signature_label(actor), content_hash=note.compute_hash(entries),
            needs_cosignature=bool(profile and profile.requires_cosignature),
            warning_override=reason if warnings else "", updated_at=now,
        )
        if updated != 1:
            raise Conflict("The note changed while you were signing it. Reload and sign again.",
                           field="version")
        note.refresh_from_db()
        _audit_note(actor, note, Action.SIGN, request,
                    reason=("signed; warnings overridden: " + reason) if warnings else "signed")
    return note


def note_cosign(*, actor: User, note: Note, request: HttpRequest | None = None) -> Note:
    """The author's supervisor co-signs a signed note that needs supervision."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    if note.status != NoteStatus.SIGNED or not note.needs_cosignature:
        raise InvalidTransition("Only a signed note awaiting co-signature can be co-signed.",
                                field="status")
    supervisor_id = supervisor_user_id(note.author)
    if supervisor_id is None or actor.pk != supervisor_id:
        raise NotPermitted(f"Only {note.author}'s supervisor can co-sign this note.")
    now = timezone.now()
    with transaction.atomic():
        updated = Note.objects.filter(pk=note.pk, status=NoteStatus.SIGNED).update(
            status=NoteStatus.COSIGNED, cosigned_by=actor, cosigned_at=now,
            cosigned_as=signature_label(actor), updated_at=now,
        )
        if updated != 1:
            raise Conflict("The note changed meanwhile. Reload and try again.", field="status")
        note.refresh_from_db()
        _audit_note(actor, note, Action.SIGN, request, reason="co-signed")
    return note


def note_lock(*, actor: User, note: Note, request: HttpRequest | None = None) -> Note:
    """Lock a fully signed note (after co-signature when one is needed)."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    if note.status == NoteStatus.SIGNED and note.needs_cosignature:
        raise InvalidTransition("This note awaits the supervisor's co-signature before it can "
                                "be locked.", field="status")
    if note.status not in (NoteStatus.SIGNED, NoteStatus.COSIGNED):
        raise InvalidTransition("Only a signed note can be locked.", field="status")
    if actor.pk not in (note.author_id, note.cosigned_by_id) and not (
        is_supervisor_role(actor) and same_organization(actor, note.program.organization_id)
    ):
        raise NotPermitted("Only the author, the co-signer or a director can lock this note.")
    now = timezone.now()
    with transaction.atomic():
        updated = Note.objects.filter(pk=note.pk, status=note.status).update(
            status=NoteStatus.LOCKED, locked_at=now, updated_at=now)
        if updated != 1:
            raise Conflict("The note changed meanwhile. Reload and try again.", field="status")
        note.refresh_from_db()
        _audit_note(actor, note, Action.CHANGE, request, reason="locked")
    return note


ADDENDUM_WHOLE = "whole"


def addendum_add(*, actor: User, note: Note, text: str, reason: str, scope: str = "",
                 confirm_whole: bool = False,
                 request: HttpRequest | None = None) -> Addendum:
    """A dated addendum, signed by `actor`, to a signed, co-signed or locked note.

    On a group note the author chooses explicitly: `scope` is an attendee's participant
    code (the addendum amends that entry and appears only in that chart) or "whole" (it
    appears in every attendee's chart), and "whole" is refused until `confirm_whole`
    answers the warning naming how many charts will carry it. Minimum necessary: 45 CFR
    164.502(b), https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-164/subpart-E/section-164.502
    """
    require_perm(actor, Perm.CLINICAL_WRITE)
    if note.status == NoteStatus.DRAFT:
        raise InvalidTransition("A draft is edited directly; addenda amend signed notes.",
                                field="status")
    if not is_note_team(actor, note):
        raise NotPermitted("Only the note's author, supervisor, facilitator or the care team "
                           "can amend it.")
    text = _clean_text(text, field="text", limit=ADDENDUM_MAX_CHARS).strip()
    reason = _clean_text(reason, field="reason", limit=300).strip()
    if not text:
        raise ValidationError({"text": "Write the addendum's text."})
    if not reason:
        raise ValidationError({"reason": "Say why the note is amended (e.g. late entry, "
                               "correction)."})
    participant = _addendum_target(note, scope, confirm_whole)
    with transaction.atomic():
        addendum = Addendum.objects.create(note=note, author=actor, text=text, reason=reason,
                                           signed_as=signature_label(actor),
                                           participant=participant)
        if participant is not None:
            _audit_note(actor, note, Action.CHANGE, request, reason="addendum to one entry",
                        participants=[participant])
        else:
            _audit_note(actor, note, Action.CHANGE, request, reason=f"addendum: {reason}"[:500])
    return addendum


def _addendum_target(note: Note, scope: str, confirm_whole: bool) -> Any:
    """The attendee a group-note addendum is for (None: the whole note), or
    ValidationError naming `scope` or `confirm_whole`."""
    if not note.is_group:
        return None
    entries = {str(e.participant.code): e.participant
               for e in note.entries.select_related("participant")}
    scope = (scope or "").strip()
    if scope == ADDENDUM_WHOLE:
        if not confirm_whole:
            n = len(entries)
            raise ValidationError({"confirm_whole": (
                f"This addendum will be shown in the charts of all {n} attendee"
                f"{'s' if n != 1 else ''} of this group note. Confirm that every one of "
                f"those {n} chart{'s' if n != 1 else ''} should carry it, or choose one "
                "attendee's entry instead.")})
        return None
    if scope in entries:
        return entries[scope]
    raise ValidationError({"scope": "Choose whether this addendum is for one attendee's "
                           "entry or for the whole group note."})


def note_export(*, actor: User, note: Note, action: Action,
                request: HttpRequest | None = None) -> None:
    """Record a print (Action.PRINT) or PDF (Action.EXPORT) of a note as a disclosure."""
    if action not in (Action.PRINT, Action.EXPORT):
        raise ValueError(action)
    if not can_view_note(actor, note, request):
        raise NotPermitted("Only the care team can print or export this note.")
    _audit_note(actor, note, action, request, reason="printed" if action == Action.PRINT else "PDF")
