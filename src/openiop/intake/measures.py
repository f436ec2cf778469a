"""Recording measures (intake screens, weekly check-ins, discharge and follow-up): score,
store with items, raise safety tasks. Intake, outcomes and the portal all record through
here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from openiop.access.decisions import is_own_participant, require, require_organization
from openiop.access.policy import Kind
from openiop.accounts.models import User
from openiop.accounts.permissions import Perm, has_perm
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from openiop.care.models import EpisodeOfCare
from openiop.core.exceptions import InvalidTransition, NotPermitted

from .instruments import ScoringError, score, score_partial_safety
from .models import MeasureResponse
from .safety import safety_task_open

if TYPE_CHECKING:
    from openiop.participants.models import Participant


def _check_actor(actor: User, participant: Participant) -> str:
    """Staff of the participant's organization who may write clinical or intake records, or
    the participant through the portal. Returns the response's source."""
    if getattr(actor, "is_authenticated", False):
        if is_own_participant(actor, participant):
            return MeasureResponse.Source.PORTAL
        if has_perm(actor, Perm.CLINICAL_WRITE):
            # The one access decision (another organization: not found; a Part 2 record:
            # the care team only).
            require(actor, Kind.MEASURES, participant, action="change")
            return MeasureResponse.Source.STAFF
        if has_perm(actor, Perm.INTAKE_MANAGE):
            # Intake records the screening measures it gives (it reads no measures page).
            require_organization(actor, participant.organization_id)
            return MeasureResponse.Source.STAFF
    raise NotPermitted("Only the participant or their clinic's clinical or intake staff can "
                       "record a measure.")


def measure_record(
    *,
    actor: User,
    participant: Participant,
    instrument: str,
    answers: dict[str, Any] | list[Any],
    context: str = MeasureResponse.Context.WEEKLY,
    episode: EpisodeOfCare | None = None,
    sex: str | None = None,
    completed_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> MeasureResponse:
    """Score and store one completed instrument with its items.

    - Raises ValidationError naming each missing or out-of-range item; nothing is written.
    - `episode` defaults to the participant's open episode (if any).
    - Side effects when a safety flag fires (PHQ-9 item 9 above 0, any C-SSRS risk): an
      open `intake.SafetyTask` for the care team, assigned to the primary therapist. The
      caller shows the person the crisis line (`intake.safety.CRISIS_LINE`) when
      `response.safety_flag` is true.
    """
    source = _check_actor(actor, participant)
    if context not in MeasureResponse.Context.values:
        raise ValidationError({"context": f"context must be one of "
                               f"{', '.join(MeasureResponse.Context.values)}."})
    try:
        result = score(instrument, answers, sex=sex or None)
    except ScoringError as exc:
        raise ValidationError(exc.errors) from None
    if episode is None:
        episode = participant.episodes.current()
    elif episode.participant_id != participant.pk:
        raise ValidationError({"episode": "That episode belongs to someone else."})
    when = completed_at or timezone.now()
    if when > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"completed_at": "A measure cannot be completed in the future."})
    response = MeasureResponse(
        participant=participant, episode=episode, instrument=result.instrument,
        context=context, source=source, answers=dict(result.answers), sex=sex or "",
        total=result.total, band=result.band,
        flags=_flags(result), safety_flag=result.safety, completed_at=when,
        recorded_by=actor if source == MeasureResponse.Source.STAFF else None,
    )
    return _store(response, actor=actor, result=result, request=request)


def _flags(result: Any) -> list[dict[str, str]]:
    return [{"code": f.code, "level": f.level, "message": f.message} for f in result.flags]


def _store(response: MeasureResponse, *, actor: User, result: Any,
           request: HttpRequest | None, reason: str = "") -> MeasureResponse:
    """Save the response with its audit event and, when it flags safety, the care team's
    safety task (assigned to the episode's primary therapist), in one transaction."""
    participant, episode = response.participant, response.episode
    with transaction.atomic():
        response.save()
        audit_record(actor=actor, action=Action.CREATE, object_type=ObjectType.MEASURE_RESPONSE,
                     object_id=response.code, participant=participant, request=request,
                     reason=reason)
        if response.safety_flag:
            safety_task_open(
                organization=participant.organization, result=result, participant=participant,
                measure_response=response,
                assigned_to=episode.primary_therapist if episode else None,
                actor=actor, request=request,
            )
    return response


def measure_record_partial_safety(
    *,
    actor: User,
    participant: Participant,
    instrument: str,
    answers: dict[str, Any],
    context: str = MeasureResponse.Context.WEEKLY,
    request: HttpRequest | None = None,
) -> MeasureResponse | None:
    """Keep an incomplete form whose answered items raise a safety flag (PHQ-9 item 9 above
    0) and open the safety task, as a complete one would. Returns None and writes nothing
    when no safety flag fired or an answer is out of range (the caller shows the form's
    errors either way). The response is "preliminary": no total, left out of charts.
    """
    source = _check_actor(actor, participant)
    try:
        result = score_partial_safety(instrument, answers)
    except ScoringError:
        return None
    if result is None:
        return None
    episode = participant.episodes.select_related("program", "primary_therapist").current()
    response = MeasureResponse(
        participant=participant, episode=episode, instrument=result.instrument,
        context=context, source=source, answers=dict(result.answers), total=None,
        band=result.band, status=MeasureResponse.Status.PRELIMINARY,
        flags=_flags(result), safety_flag=True, completed_at=timezone.now(),
        recorded_by=actor if source == MeasureResponse.Source.STAFF else None,
    )
    return _store(response, actor=actor, result=result, request=request,
                  reason="partial: safety item answered")


def measure_mark_entered_in_error(
    *, actor: User, response: MeasureResponse, reason: str, request: HttpRequest | None = None
) -> MeasureResponse:
    """Take a wrongly entered response out of charts and rules; the row is kept (FHIR
    shows it as status entered-in-error, with the earlier version in its history)."""
    _check_actor(actor, response.participant)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the response was entered in error."})
    with transaction.atomic():
        updated = MeasureResponse.objects.filter(
            pk=response.pk, status=MeasureResponse.Status.FINAL
        ).update(status=MeasureResponse.Status.ENTERED_IN_ERROR)
        if updated != 1:
            raise InvalidTransition("This response is already marked entered in error.")
        audit_record(actor=actor, action=Action.CHANGE, object_type=ObjectType.MEASURE_RESPONSE,
                     object_id=response.code, participant=response.participant,
                     request=request, reason=f"entered in error: {reason.strip()}"[:500])
    response.refresh_from_db()
    return response
