"""The face sheet at the top of the chart: diagnoses, allergies, coverage, level of care,
care team and open safety tasks, each shown only to roles that may see it."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from django.apps import apps

from openiop.accounts.permissions import Perm, has_perm
from openiop.core.chart import Panel

from . import selectors

if TYPE_CHECKING:
    from openiop.care.models import EpisodeOfCare
    from openiop.participants.models import Participant


def allergies_for(participant: Participant) -> list[str] | None:
    """Allergies as short strings, or None when no app records allergies.

    Hook: if `openiop.medications.selectors.allergies_for(participant)` exists it is used;
    otherwise a `medications.Allergy` model with a `participant` field, if installed.
    """
    try:
        module = importlib.import_module("openiop.medications.selectors")
    except ImportError:  # pragma: no cover - the medications app is always installed
        module = None
    reader = getattr(module, "allergies_for", None)
    if callable(reader):
        return [str(a) for a in reader(participant)]
    try:
        model = apps.get_model("medications", "Allergy")
    except LookupError:
        return None
    return [str(a) for a in model.objects.filter(participant=participant)]


def face_sheet(request: Any, participant: Participant,
               episode: EpisodeOfCare | None) -> Panel | None:
    """Each block only for a user the access table lets read its record kind (diagnoses:
    problems; allergies: medications), as on the tab that holds them: for a 42 CFR Part 2
    participant that is the care team, and the overview must not show what the tab refuses."""
    from openiop.access.decisions import allows
    from openiop.access.policy import Kind

    user = request.user
    clinical = has_perm(user, Perm.CLINICAL_VIEW)
    data: dict[str, Any] = {"participant": participant, "episode": episode,
                            "show_clinical": clinical}
    if selectors.may_view_diagnoses(user) and allows(user, Kind.PROBLEMS, participant):
        data["diagnoses"] = selectors.diagnoses_for(participant)
        data["show_diagnoses"] = True
    if clinical:
        data["show_allergies"] = allows(user, Kind.MEDICATIONS, participant)
        if data["show_allergies"]:
            data["allergies"] = allergies_for(participant)
        from openiop.intake.models import SafetyTask

        data["safety_tasks"] = list(SafetyTask.objects.filter(
            participant=participant, status=SafetyTask.Status.OPEN).order_by("created_at")[:5])
    from django.utils import timezone

    data["coverages"] = selectors.coverages_for(participant, on=timezone.localdate())
    if episode is not None:
        team = [("Primary therapist", episode.primary_therapist),
                ("Prescriber", episode.prescriber), ("Case manager", episode.case_manager)]
        data["care_team"] = [(role, person) for role, person in team if person is not None]
    return Panel("billing/_face_sheet.html", data)
