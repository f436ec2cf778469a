"""Is a signed note still what was signed?

At signing, the note's content (sections and every group entry) is hashed into
`content_hash`. Showing, printing or exporting a signed note recomputes that hash; a
mismatch means the stored content changed outside the application (the database refuses it
through the service layer and, on PostgreSQL, a trigger). The reader then sees a clear
integrity warning and the mismatch is written to the audit trail (HIPAA 45 CFR
164.312(c)(2), a mechanism to corroborate that ePHI has not been altered).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest

from openiop.accounts.models import User
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType

from .models import Note

logger = logging.getLogger(__name__)

INTEGRITY_WARNING = (
    "Integrity warning: this note's content does not match what was signed. It may have "
    "been altered outside OpenIOP. Do not rely on it; your privacy officer has the audit "
    "record.")


def signed_entries(note: Note) -> list[dict[str, object]]:
    """The group entries as the signature covers them (ordered by participant id)."""
    return [{"participant": str(e.participant.code), **e.as_dict(),
             **({"objective": str(e.objective.code)} if e.objective_id else {})}
            for e in note.entries.select_related("participant", "objective")
            .order_by("participant_id")]


def note_content_intact(note: Note) -> bool:
    """True for drafts and for signed notes whose content still hashes to `content_hash`."""
    if note.is_draft or not note.content_hash:
        return True
    entries = signed_entries(note)
    # The same entries in participant-code order: how the demo generator signs them.
    by_code = sorted(entries, key=lambda d: str(d["participant"]))
    return note.content_hash in {note.compute_hash(entries), note.compute_hash(by_code)}


def check_note_integrity(*, actor: User, note: Note, request: HttpRequest | None = None) -> bool:
    """Recompute the signed note's hash; on a mismatch write an `integrity` audit event per
    participant in the note and log the note's id (never its content). Returns intact."""
    if note_content_intact(note):
        return True
    logger.warning("Signed note %s does not match its content hash", note.code)
    people = ([note.participant] if note.participant_id
              else [e.participant for e in note.entries.select_related("participant")])
    for person in people or [None]:
        audit_record(actor=actor, action=Action.INTEGRITY, object_type=ObjectType.NOTE, object_id=note.code,
                     participant=person, organization=note.program.organization,
                     request=request, reason="signed content does not match its stored hash")
    return False
