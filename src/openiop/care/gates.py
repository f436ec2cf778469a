"""What care asks the intake desk before an episode changes, without importing intake.

Intake sits above care on the app map (it admits through `care.services`), so care does not
import it. Yet an admission, a step-down and a discharge depend on intake's records: the
decided level-of-care assessment, the open safety tasks and the C-SSRS rule, the referral
that the admission closes. Care declares here the questions it asks (`IntakeDesk`), and
intake answers them by registering its implementation in `IntakeConfig.ready()`.

There is no fallback: a project that never registered a desk refuses the change (a
safety check that silently passed would be worse than an error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from openiop.accounts.models import User

if TYPE_CHECKING:
    from uuid import UUID

    from openiop.care.models import EpisodeOfCare
    from openiop.participants.models import Participant


class IntakeDesk(Protocol):
    """The intake records an episode's verbs and the Care tab consult."""

    def decided_assessment(self, *, participant: Participant, referral: Any = None) -> Any | None:
        """The decided pre-admission level-of-care assessment (`decided_level`), or None."""

    def require_safety_decision(self, *, participant: Participant, decision: str, action: str) -> str:
        """The documented decision when an emergent or urgent safety task is open ("" when
        none is); ValidationError on `safety_decision` when one is open and none was given."""

    def require_safety_screen(self, *, participant: Participant, episode: EpisodeOfCare) -> Any:
        """ValidationError on `cssrs` when a risk flag in the episode has no C-SSRS within
        the program's window."""

    def mark_referral(self, *, episode: EpisodeOfCare, referral: Any = None, waitlisted: bool = False
                      ) -> None:
        """Close the referral the admission answers (the given one, else the person's open
        one, if any) as admitted, or as waitlisted in the episode's program."""

    def open_urgent_tasks(self, participant: Participant) -> list[Any]:
        """The participant's open emergent or urgent safety tasks, oldest first."""

    def proposals(self, participant: Participant) -> list[Any]:
        """The latest level-of-care proposals awaiting a licensed clinician."""

    def proposal(self, participant: Participant, code: UUID | str) -> Any | None:
        """One proposal of the participant by its code, or None."""

    def confirm_proposal(self, *, actor: User, assessment: Any, decided_level: str | None,
                         override_reason: str, request: Any = None) -> Any:
        """A licensed clinician decides the level of a proposal."""


_desk: IntakeDesk | None = None


def register_intake_desk(desk: IntakeDesk) -> None:
    global _desk
    _desk = desk


def intake_desk() -> IntakeDesk:
    if _desk is None:
        raise RuntimeError("No intake desk is registered: add openiop.intake to INSTALLED_APPS.")
    return _desk
