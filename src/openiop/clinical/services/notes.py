"""Session notes: start, autosave (optimistic locking), sign, co-sign, lock, amend, export.

Signed notes never change: every write below first checks the status, and the update
itself filters on `status='draft'`, so a note signed a moment earlier is not touched.
PostgreSQL enforces the same with a trigger (migration 0002).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
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
    ENTRY_MAX_CHARS,
    SECTION_MAX_CHARS,
    missing_required,
    sections_for,
)
from ..integrity import signed_entries
from ..models import (
    Addendum,
    GroupNoteEntry,
    Note,
    NoteConflictCopy,
    NoteDraftSave,
    NoteKind,
    NoteStatus,
    TreatmentObjective,
)
from ..permissions import (
    can_view_note,
    is_note_team,
    is_supervisor_role,
    note_participants,
    same_organization,
    supervisor_user_id,
)
from ..selectors import active_plan_objectives

SIGNED_MESSAGE = (
    "This note is signed and can no longer be changed. Add a dated, signed addendum instead."
)
ADDENDUM_MAX_CHARS = 10_000
FAMILY_CONSENT_KINDS = (
    Consent.Kind.FAMILY_INVOLVEMENT, Consent.Kind.FAMILY_ACCESS, Consent.Kind.RELEASE,
)
ENTRY_KEYS = tuple(f.key for f in ENTRY_FIELDS)
# Draft saves remembered per note (NoteDraftSave): a page that missed more answers than
# this in a row gets a conflict, with its text kept, instead of a continuation.
DRAFT_SAVES_KEPT = 50


def note_kind_for_session(session_kind: str) -> str:
    if session_kind in GROUP_KINDS:
        return NoteKind.GROUP
    if session_kind in (NoteKind.INDIVIDUAL, NoteKind.FAMILY, NoteKind.MEDICATION):
        return session_kind
    raise ValidationError({"session": f"Sessions of kind {session_kind!r} take no note."})


def signature_label(user: Any) -> str:
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


def _objectives(note: Note, codes: list[Any]) -> list[TreatmentObjective]:
    people = [p.pk for p in note_participants(note)]
    found = list(TreatmentObjective.objects.filter(
        code__in=codes, goal__problem__plan__participant_id__in=people))
    if len(found) != len(set(map(str, codes))):
        raise ValidationError({"objectives": "Pick objectives from this participant's "
                               "treatment plan."})
    return found


def _parse_objective(value: Any) -> str | None:
    """An entry's posted objective: a code as text, or None for "none chosen"."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError as exc:
        raise ValidationError({"entries.objective": "Pick an objective from the list."}) from exc


def _entry_objectives(entries: list[tuple[GroupNoteEntry, str | None]]
                      ) -> dict[int, TreatmentObjective | None]:
    """entry pk -> the chosen objective, checked to be on that attendee's current plan."""
    codes = {code for _, code in entries if code}
    if not codes:
        return {entry.pk: None for entry, _ in entries}
    found = {str(o.code): o for o in active_plan_objectives(
        {e.participant_id for e, code in entries if code}).filter(code__in=codes)}
    chosen: dict[int, TreatmentObjective | None] = {}
    for entry, code in entries:
        objective = found.get(code) if code else None
        if code and (objective is None
                     # annotated by active_plan_objectives
                     or objective.plan_participant_id != entry.participant_id):  # type: ignore[attr-defined]
            raise ValidationError({"entries.objective": "Pick an objective from "
                                   f"{entry.participant.display_name}'s current treatment "
                                   "plan."})
        chosen[entry.pk] = objective
    return chosen


def note_save_draft(
    *,
    actor: User,
    note: Note,
    sections: dict[str, Any],
    version: int,
    entries: dict[str, dict[str, Any]] | None = None,
    family_member_ids: list[Any] | None = None,
    objective_codes: list[Any] | None = None,
    editor: str = "",
    save_id: str = "",
    request: HttpRequest | None = None,
) -> Note:
    """Save the draft if nobody saved since `version`; returns the note as saved.

    `entries` maps an attendee's participant code to their entry fields. A save against an
    older version raises Conflict and writes nothing to the note; the refused text is kept
    as a NoteConflictCopy so the author can still choose it.

    `editor` (chosen by the page when it is shown) and `save_id` (chosen for each save) make
    a lost answer harmless: a save sent again with the same id is not written twice, and a
    save from the editor that wrote every version since `version` is its own continuation
    (the page never heard of the versions its earlier saves produced) and is written.
    """
    require_perm(actor, Perm.CLINICAL_WRITE)
    _require_author(actor, note, "edit")
    _require_draft(note)
    editor = _client_token(editor, field="editor")
    save_id = _client_token(save_id, field="save_id")
    allowed = {s.key for s in sections_for(note.kind, note.note_format)}
    unknown = set(sections) - allowed
    if unknown:
        raise ValidationError({"sections": f"Unknown section(s) {', '.join(sorted(unknown))} "
                               f"for a {note.get_kind_display().lower()} note in "
                               f"{note.note_format} format."})
    clean = {key: _clean_text(sections.get(key, note.sections.get(key, "")),
                              field=f"sections.{key}", limit=SECTION_MAX_CHARS)
             for key in sorted(allowed)}
    entry_rows: list[GroupNoteEntry] = []
    clean_entries: dict[str, dict[str, str]] = {}
    objective_picks: list[tuple[GroupNoteEntry, str | None]] = []
    if entries:
        if note.kind != NoteKind.GROUP:
            raise ValidationError({"entries": "Only group notes have individual entries."})
        by_code = {str(e.participant.code): e
                   for e in note.entries.select_related("participant")}
        for code, fields in entries.items():
            entry = by_code.get(str(code))
            if entry is None:
                raise ValidationError({"entries": f"Participant {code} has no entry in this "
                                       "group note: only attendees of the session do."})
            extra = set(fields) - set(ENTRY_KEYS) - {"objective"}
            if extra:
                raise ValidationError({"entries": f"Unknown entry field(s) {', '.join(extra)}."})
            for key in ENTRY_KEYS:
                if key in fields:
                    setattr(entry, key, _clean_text(fields[key], field=f"entries.{key}",
                                                    limit=ENTRY_MAX_CHARS))
            clean_entries[str(code)] = entry.as_dict()
            if "objective" in fields:
                picked = _parse_objective(fields["objective"])
                objective_picks.append((entry, picked))
                clean_entries[str(code)]["objective"] = picked or ""
            entry_rows.append(entry)
        chosen = _entry_objectives(objective_picks)
        for entry, _ in objective_picks:
            entry.objective = chosen[entry.pk]
    family = _family_members(note, family_member_ids) if family_member_ids is not None else None
    objectives = _objectives(note, objective_codes) if objective_codes is not None else None
    with transaction.atomic():
        base = version
        sent_before = (NoteDraftSave.objects.filter(note=note, save_id=save_id).first()
                       if save_id else None)
        if sent_before is not None:
            if sent_before.editor != editor:
                raise ValidationError({"save_id": "This save id belongs to another page."})
            # Sent again after a lost answer: written already. What this editor saved after
            # it is newer and stays; a change made elsewhere since is a conflict below.
            current = Note.objects.get(pk=note.pk)
            if current.is_draft and _written_only_by(note, editor, after=sent_before.version,
                                                     upto=current.version):
                return current
            updated = 0
        else:
            updated = _write_draft(note, base, clean)
            if updated != 1 and editor:
                current = Note.objects.select_for_update().get(pk=note.pk)
                if current.is_draft and _written_only_by(note, editor, after=version,
                                                         upto=current.version):
                    base = current.version
                    updated = _write_draft(note, base, clean)
        if updated == 1:
            if entry_rows:
                GroupNoteEntry.objects.bulk_update(entry_rows, [*ENTRY_KEYS, "objective"])
            if family is not None:
                note.family_members.set(family)
            if objectives is not None:
                note.objectives.set(objectives)
            if editor and save_id:
                NoteDraftSave.objects.create(note=note, version=base + 1, base_version=version,
                                             editor=editor, save_id=save_id)
                # Only the last few versions can still be a page's base: keep those.
                NoteDraftSave.objects.filter(
                    note=note, version__lte=base + 1 - DRAFT_SAVES_KEPT).delete()
            _audit_note(actor, note, Action.CHANGE, request, reason="draft saved")
    if updated != 1:
        current = Note.objects.get(pk=note.pk)
        if current.status != NoteStatus.DRAFT:
            raise InvalidTransition(SIGNED_MESSAGE, field="status")
        if _same_content(current, clean, clean_entries) and family is None and (
            objectives is None
        ):
            # A late autosave of text that is already saved: nothing to choose between.
            return current
        NoteConflictCopy.objects.create(note=note, author=actor, based_on_version=version,
                                        sections=clean, entries=clean_entries)
        raise Conflict(
            f"This draft was saved elsewhere (now version {current.version}) after you loaded "
            f"version {version}. Your text was not written over it: compare both and choose.",
            field="version",
        )
    note.refresh_from_db()
    return note


def _write_draft(note: Note, base: int, sections: dict[str, str]) -> int:
    """The optimistic write: 1 when the note was still a draft at version `base`, else 0."""
    return Note.objects.filter(pk=note.pk, version=base, status=NoteStatus.DRAFT).update(
        sections=sections, version=F("version") + 1, updated_at=timezone.now())


def _written_only_by(note: Note, editor: str, *, after: int, upto: int) -> bool:
    """Whether every version after `after`, up to `upto`, came from a save by `editor`.
    A version made any other way (another editor, a save without an id, an added group
    entry) has no row of this editor, so the count falls short."""
    if upto <= after:
        return upto == after
    editors = list(NoteDraftSave.objects.filter(
        note=note, version__gt=after, version__lte=upto).values_list("editor", flat=True))
    return len(editors) == upto - after and set(editors) == {editor}


def _client_token(value: Any, *, field: str) -> str:
    """An id chosen by the page (letters, digits, '-' and '_'), at most 64 characters."""
    text = "" if value is None else str(value).strip()
    if len(text) > 64 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        raise ValidationError({field: "Letters, digits, '-' and '_' only, at most 64."})
    return text


def _same_content(current: Note, sections: dict[str, str],
                  entries: dict[str, dict[str, str]]) -> bool:
    if any((current.sections or {}).get(k, "") != v for k, v in sections.items()):
        return False
    if not entries:
        return True
    saved = {str(e.participant.code): _entry_content(e)
             for e in current.entries.select_related("participant", "objective")}
    return all(code in saved and all(saved[code].get(k) == v for k, v in fields.items())
               for code, fields in entries.items())


def _entry_content(entry: GroupNoteEntry) -> dict[str, str]:
    """An entry's text and, when one is linked, its objective's code (what is signed)."""
    content = entry.as_dict()
    content["objective"] = str(entry.objective.code) if entry.objective else ""
    return content


def group_entry_add(*, actor: User, note: Note, participant: Any,
                    request: HttpRequest | None = None) -> GroupNoteEntry:
    """Add an attendee's entry to a draft group note; refused unless they attended."""
    require_perm(actor, Perm.CLINICAL_WRITE)
    _require_author(actor, note, "edit")
    _require_draft(note)
    if note.kind != NoteKind.GROUP:
        raise ValidationError({"participant": "Only group notes have individual entries."})
    attendance = _attended_bookings(note.session).get(participant.pk)
    if attendance is None:
        raise ValidationError({"participant": f"{participant.display_name} did not attend this "
                               "session: record attendance before writing an entry."})
    if note.entries.filter(participant=participant).exists():
        raise ValidationError({"participant": f"{participant.display_name} already has an entry."})
    with transaction.atomic():
        entry = GroupNoteEntry.objects.create(note=note, participant=participant,
                                              attendance=attendance)
        Note.objects.filter(pk=note.pk, status=NoteStatus.DRAFT).update(
            version=F("version") + 1)
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.NOTE, object_id=note.code,
                     participant=participant, request=request, reason="group entry added")
    return entry


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
