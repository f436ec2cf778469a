"""Weekly check-ins assigned by the program (PHQ-9, GAD-7), scored by the intake app.

Scoring and safety-flag handling are not repeated here: the intake issue's
`openiop.intake.instruments` scores, `openiop.outcomes.services.measure_record` stores the
response and raises the safety flags. Until those land, AVAILABLE is False and the
portal says check-ins are not set up yet.
"""

from __future__ import annotations

from typing import Any

from openiop.participants.models import Participant

try:  # the intake/outcomes issue provides these
    from openiop.intake import instruments as _instruments  # type: ignore[attr-defined]
    from openiop.outcomes.services import measure_record as _measure_record  # type: ignore[attr-defined]
except ImportError:
    _instruments = None
    _measure_record = None

AVAILABLE = _instruments is not None and _measure_record is not None


def assigned_instruments(participant: Participant) -> list[str]:
    return []


def due_checkins(participant: Participant) -> list[dict[str, Any]]:
    return []


def checkin_overview(participant: Participant) -> list[dict[str, Any]]:
    return []


def instrument_definition(instrument: str) -> Any:
    raise LookupError(instrument)


def item_keys(definition: Any) -> list[str]:
    return []


def items_for_form(definition: Any, answers: dict[str, str], errors: dict[str, str]) -> list[dict[str, Any]]:
    return []


def submit(**kwargs: Any) -> Any:
    raise LookupError("check-ins are not available")
