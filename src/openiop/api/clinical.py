"""Clinical notes API: read notes, start and update drafts (with version), sign.

Editing a signed note is refused with 409 and changes nothing; a draft update against an
older version is refused with 409 and both texts stay available (the server's in the
response's `current`, the refused one as a conflict copy).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import Http404
from ninja import Field, Router, Schema, Status

from openiop.access.policy import Kind
from openiop.api.request import StaffRequest
from openiop.audit.vocabulary import Action, ObjectType
from openiop.clinical import services
from openiop.clinical.models import Note
from openiop.clinical.permissions import can_view_note
from openiop.clinical.selectors import note_detail_queryset, notes_for_participant
from openiop.core.exceptions import Conflict
from openiop.participants.selectors import get_participant_for_user
from openiop.scheduling.models import Session

from . import disclose

router = Router(tags=["clinical"])


class EntryOut(Schema):
    participant: UUID
    participant_name: str
    participation: str
    response: str
    progress: str
    plan: str
    objective: UUID | None = Field(
        None, description="The treatment-plan objective the entry addresses, if one is linked.")
    objective_text: str = ""


class AddendumOut(Schema):
    code: UUID
    signed_as: str
    reason: str
    text: str
    created_at: datetime
    participant: UUID | None = Field(
        None, description="Group notes: the attendee whose entry it amends; null for the "
        "whole note.")

    @staticmethod
    def resolve_participant(obj: Any) -> UUID | None:
        return obj.participant.code if obj.participant_id else None


class NoteOut(Schema):
    code: UUID
    kind: str
    note_format: str
    status: str
    version: int
    session: UUID | None
    participant: UUID | None
    author: str
    sections: dict[str, str]
    entries: list[EntryOut]
    needs_cosignature: bool
    signed_as: str
    signed_at: datetime | None
    cosigned_as: str
    cosigned_at: datetime | None
    locked_at: datetime | None
    addenda: list[AddendumOut]


class NoteSummary(Schema):
    code: UUID
    kind: str
    status: str
    session_title: str
    session_starts_at: datetime | None
    author: str


class DraftIn(Schema):
    version: int = Field(..., ge=1)
    sections: dict[str, str] = Field(default_factory=dict)
    entries: dict[str, dict[str, str]] | None = Field(
        None, description="participant code -> entry fields (participation, response, "
        "progress, plan; objective: an objective code from that participant's current "
        "treatment plan, or empty for none).")
    editor: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_-]*$", description=(
        "Your client's name for this editing session, kept across its saves."))
    save_id: str = Field("", max_length=64, pattern=r"^[A-Za-z0-9_-]*$", description=(
        "A new id for each save, the same when a save is sent again after a lost answer. "
        "With `editor`, a save from the client that made every version since `version` "
        "is written instead of conflicting."))


class SignIn(Schema):
    override_reason: str = Field("", max_length=1000)


class StartIn(Schema):
    session: UUID


def _note_out(note: Note) -> dict[str, Any]:
    return {
        "code": note.code, "kind": note.kind, "note_format": note.note_format,
        "status": note.status, "version": note.version,
        "session": note.session.code if note.session else None,
        "participant": note.participant.code if note.participant else None,
        "author": str(note.author), "sections": note.sections or {},
        "entries": [{"participant": e.participant.code,
                     "participant_name": e.participant.display_name, **e.as_dict(),
                     "objective": e.objective.code if e.objective else None,
                     "objective_text": e.objective.text if e.objective else ""}
                    for e in note.entries.all()],
        "needs_cosignature": note.needs_cosignature, "signed_as": note.signed_as,
        "signed_at": note.signed_at, "cosigned_as": note.cosigned_as,
        "cosigned_at": note.cosigned_at, "locked_at": note.locked_at,
        "addenda": list(note.addenda.select_related("participant")),
    }


def _get_note(request: StaffRequest, code: UUID) -> Note:
    note = note_detail_queryset().filter(code=code).first()
    if note is None or not can_view_note(request.user, note, request):
        raise Http404
    return note


def _audit_view(request: StaffRequest, note: Note) -> None:
    from openiop.audit.services import audit_record
    from openiop.clinical.permissions import note_participants

    for person in note_participants(note):
        audit_record(actor=request.user, action=Action.VIEW, object_type=ObjectType.NOTE,
                     object_id=note.code, participant=person, request=request)


@router.get("/participants/{code}/notes", response=list[NoteSummary])
def participant_notes(request: StaffRequest, code: UUID) -> list[dict[str, Any]]:
    participant = get_participant_for_user(request.user, code, request=request,
                                           kind=Kind.NOTES, action="view")
    notes = disclose.release(request, participant, list(notes_for_participant(participant)[:500]),
                             object_type=ObjectType.API_NOTES)
    return [{"code": n.code, "kind": n.kind, "status": n.status,
             "session_title": n.session.title if n.session_id else "",
             "session_starts_at": n.session.starts_at if n.session_id else None,
             "author": str(n.author)} for n in notes]


@router.get("/notes/{code}", response=NoteOut)
def get_note(request: StaffRequest, code: UUID) -> dict[str, Any]:
    from openiop.clinical.permissions import note_participants

    note = _get_note(request, code)
    for person in note_participants(note):  # a group note goes only if it may for everyone
        disclose.release_one(request, person, note, object_type=ObjectType.API_NOTE)
    _audit_view(request, note)
    return _note_out(note)


@router.post("/notes", response={201: NoteOut})
def start_note(request: StaffRequest, payload: StartIn) -> Status[dict[str, Any]]:
    session = Session.objects.filter(
        code=payload.session, program__organization_id=request.user.staff_organization_id or -1
    ).select_related("program").first()
    if session is None:
        raise Http404
    note = services.note_start(actor=request.user, session=session, request=request)
    return Status(201, _note_out(_get_note(request, note.code)))


@router.put("/notes/{code}/draft", response={200: NoteOut, 409: dict})
def update_draft(request: StaffRequest, code: UUID, payload: DraftIn) -> Status[dict[str, Any]]:
    note = _get_note(request, code)
    try:
        services.note_save_draft(actor=request.user, note=note, sections=payload.sections,
                                 entries=payload.entries, version=payload.version,
                                 editor=payload.editor, save_id=payload.save_id,
                                 request=request)
    except Conflict as exc:
        return Status(409, {"detail": exc.message, "field": "version",
                            "current": _note_out(_get_note(request, code)) | {
                                "code": str(code)}, "yours": payload.dict()})
    return Status(200, _note_out(_get_note(request, code)))


@router.post("/notes/{code}/sign", response=NoteOut)
def sign_note(request: StaffRequest, code: UUID, payload: SignIn) -> dict[str, Any]:
    note = _get_note(request, code)
    services.note_sign(actor=request.user, note=note, override_reason=payload.override_reason,
                       request=request)
    return _note_out(_get_note(request, code))


