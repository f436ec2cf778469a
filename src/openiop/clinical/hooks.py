"""What the clinical app contributes to other apps: the attendance lock and chart flags."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from openiop.core.chart import Flag

from .models import Note, NoteStatus, TreatmentPlan

if TYPE_CHECKING:
    from openiop.care.models import EpisodeOfCare
    from openiop.participants.models import Participant


def signed_note_lock(session: Any) -> str | None:
    """Attendance of a session whose note is signed is frozen: the note (signed with that
    attendance) must stay true. Corrections go into an addendum."""
    note = (Note.objects.filter(session=session).exclude(status=NoteStatus.DRAFT)
            .values("signed_as", "signed_at").first())
    if note is None:
        return None
    when = timezone.localtime(note["signed_at"])
    return (f"the session's note was signed by {note['signed_as']} on {when:%b %-d, %Y}; "
            "record corrections in an addendum to the note.")


def plan_flags(participant: Participant, episode: EpisodeOfCare | None) -> list[Flag]:
    """'Plan review overdue' on the chart header of an open episode."""
    if episode is None:
        return []
    due = (TreatmentPlan.objects.filter(episode=episode)
           .values_list("next_review_due", flat=True).first())
    if due is not None and due < timezone.localdate():
        return [Flag("Treatment-plan review overdue", "warn",
                     f"The review was due {due:%b %-d, %Y}.")]
    return []
