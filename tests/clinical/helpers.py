"""Small helpers to fill and sign notes in tests."""

from __future__ import annotations

from typing import Any

from openiop.clinical.models import Note
from openiop.clinical.services import note_save_draft, note_sign, note_start

SHARED = {"topic": "Coping with cravings", "interventions": "CBT chain analysis, role play",
          "curriculum_module": "", "group_summary": "The group stayed engaged."}


def distinct_entries(note: Note) -> dict[str, dict[str, str]]:
    out = {}
    for n, entry in enumerate(note.entries.select_related("participant")):
        out[str(entry.participant.code)] = {
            "participation": f"Spoke {n + 2} times, on topic.",
            "response": f"Identified trigger number {n + 1} in their own chain.",
            "progress": f"Progress toward objective step {n + 1}.",
            "plan": f"Practice the skill {n + 3} times this week.",
        }
    return out


def written_group_note(actor: Any, session: Any, **sections: str) -> Note:
    note = note_start(actor=actor, session=session)
    return note_save_draft(actor=actor, note=note, sections=SHARED | sections,
                           entries=distinct_entries(note), version=note.version)


def signed_group_note(actor: Any, session: Any) -> Note:
    return note_sign(actor=actor, note=written_group_note(actor, session))


DAP = {"data": "Reported better sleep.", "assessment": "Mood improving.",
       "plan": "Continue weekly sessions."}


def signed_individual_note(actor: Any, session: Any) -> Note:
    note = note_start(actor=actor, session=session)
    note = note_save_draft(actor=actor, note=note, sections=DAP, version=note.version)
    return note_sign(actor=actor, note=note)
