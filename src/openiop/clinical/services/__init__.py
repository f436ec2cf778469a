"""The verbs of clinical documentation. Views, the API and the demo call these only."""

from __future__ import annotations

from .drafts import group_entry_add, note_save_draft
from .notes import (
    addendum_add,
    note_cosign,
    note_export,
    note_lock,
    note_sign,
    note_start,
    note_warnings,
)
from .plans import (
    plan_acknowledge,
    plan_add_goal,
    plan_add_intervention,
    plan_add_objective,
    plan_add_problem,
    plan_export,
    plan_finish_revision,
    plan_review,
    plan_set_objective_status,
    plan_start,
)
from .safety import safety_plan_export, safety_plan_save

__all__ = [
    "addendum_add",
    "group_entry_add",
    "note_cosign",
    "note_export",
    "note_lock",
    "note_save_draft",
    "note_sign",
    "note_start",
    "note_warnings",
    "plan_acknowledge",
    "plan_add_goal",
    "plan_add_intervention",
    "plan_add_objective",
    "plan_add_problem",
    "plan_export",
    "plan_finish_revision",
    "plan_review",
    "plan_set_objective_status",
    "plan_start",
    "safety_plan_export",
    "safety_plan_save",
]
