"""Clinical documentation: session notes, addenda, treatment plans and safety plans."""

from __future__ import annotations

from .notes import (
    Addendum,
    GroupNoteEntry,
    Note,
    NoteConflictCopy,
    NoteDraftSave,
    NoteKind,
    NoteStatus,
)
from .plans import (
    SafetyPlan,
    TreatmentGoal,
    TreatmentIntervention,
    TreatmentObjective,
    TreatmentPlan,
    TreatmentPlanReview,
    TreatmentPlanRevision,
    TreatmentProblem,
)

__all__ = [
    "Addendum",
    "GroupNoteEntry",
    "Note",
    "NoteConflictCopy",
    "NoteDraftSave",
    "NoteKind",
    "NoteStatus",
    "SafetyPlan",
    "TreatmentGoal",
    "TreatmentIntervention",
    "TreatmentObjective",
    "TreatmentPlan",
    "TreatmentPlanReview",
    "TreatmentPlanRevision",
    "TreatmentProblem",
]
