"""Intake's answers to care's questions (`care.gates.IntakeDesk`), registered in
`IntakeConfig.ready()`: care asks through this desk so that it never imports intake."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from openiop.accounts.models import User

from .decisions import open_urgent_tasks, require_safety_decision, require_safety_screen
from .models import LevelOfCareAssessment, Referral
from .services import (
    decided_assessment,
    loc_confirm,
    referral_mark_admitted,
    referral_mark_waitlisted,
)

if TYPE_CHECKING:
    from uuid import UUID

    from openiop.care.models import EpisodeOfCare
    from openiop.participants.models import Participant


class IntakeDesk:
    def decided_assessment(self, *, participant: Participant,
                           referral: Referral | None = None) -> LevelOfCareAssessment | None:
        return decided_assessment(participant=participant, referral=referral)

    def require_safety_decision(self, *, participant: Participant, decision: str, action: str) -> str:
        return require_safety_decision(participant=participant, decision=decision,
                                       action=action)

    def require_safety_screen(self, *, participant: Participant, episode: EpisodeOfCare) -> Any:
        return require_safety_screen(participant=participant, episode=episode)

    def mark_referral(self, *, episode: EpisodeOfCare, referral: Referral | None = None,
                      waitlisted: bool = False) -> None:
        if referral is None:
            # Admitted from the waitlist: the episode's open referral, else the person's.
            referral = (episode.referrals.filter(status__in=Referral.OPEN_STATUSES).first()
                        or episode.participant.referrals.filter(
                            status__in=Referral.OPEN_STATUSES).first())
            if referral is None:
                return
        mark = referral_mark_waitlisted if waitlisted else referral_mark_admitted
        mark(referral=referral, episode=episode)

    def open_urgent_tasks(self, participant: Participant) -> list[Any]:
        return open_urgent_tasks(participant)

    def proposals(self, participant: Participant) -> list[LevelOfCareAssessment]:
        return list(LevelOfCareAssessment.objects.filter(
            participant=participant, status=LevelOfCareAssessment.Status.PROPOSED)
            .select_related("assessed_by").order_by("-assessed_at")[:5])

    def proposal(self, participant: Participant, code: UUID | str) -> LevelOfCareAssessment | None:
        return LevelOfCareAssessment.objects.filter(participant=participant, code=code).first()

    def confirm_proposal(self, *, actor: User, assessment: LevelOfCareAssessment,
                         decided_level: str | None, override_reason: str,
                         request: HttpRequest | None = None) -> LevelOfCareAssessment:
        return loc_confirm(actor=actor, assessment=assessment, decided_level=decided_level,
                           override_reason=override_reason, request=request)
