"""Session notes, drafts: autosave with optimistic locking (a page that missed answers
continues; one that raced another editor gets a conflict with its text kept), and a
group note's per-participant entries.

Signed notes never change: every write here checks the status first (_require_draft),
and the update itself filters on `status='draft'`.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, require_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.core.exceptions import Conflict, InvalidTransition

from ..formats import ENTRY_FIELDS, ENTRY_MAX_CHARS, SECTION_MAX_CHARS, sections_for
from ..models import (
    GroupNoteEntry,
    Note,
    NoteConflictCopy,
    NoteDraftSave,
    NoteKind,
    NoteStatus,
    TreatmentObjective,
)
from ..permissions import note_participants
from ..selectors import active_plan_objectives
from .notes import (
    SIGNED_MESSAGE,
    _attended_bookings,
    _audit_note,
    _clean_text,
    _family_members,
    _require_author,
    _require_draft,
)

if TYPE_CHECKING:
    from openiop.participants.models import Participant

ENTRY_KEYS = tuple(f.key for f in ENTRY_FIELDS)
# Draft saves remembered per note (NoteDraftSave): a page that missed more answers than
# this in a row gets a conflict, with its text kept, instead of a continuation.
DRAFT_SAVES_KEPT = 50


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


def group_entry_add(*, actor: User, note: Note, participant: Participant,
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
