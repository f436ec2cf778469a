"""Helpers shared by the clinical views."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest

from openiop.accounts.permissions import Perm
from openiop.audit.vocabulary import Action
from openiop.participants.selectors import get_participant_for_user

from ..models import Note
from ..permissions import can_view_note
from ..selectors import note_detail_queryset

if TYPE_CHECKING:
    from uuid import UUID


def get_note_for_user(request: HttpRequest, code: UUID | str) -> Note:
    """The note if the user may see it (care team, author, facilitator, supervisor,
    director/admin, or a break-the-glass grant); else 404 (nothing confirmed)."""
    try:
        note = note_detail_queryset().get(code=code)
    except (Note.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc
    if not can_view_note(request.user, note, request):
        raise Http404
    return note


def chart_participant(request: HttpRequest, code: UUID | str, *, audit: bool = True) -> Any:
    return get_participant_for_user(request.user, code, request=request,
                                    perm=Perm.CLINICAL_VIEW,
                                    audit_action=Action.VIEW if audit else None)


# Service error keys a person should not read ("override_reason"); nested keys such as
# "sections.assessment" carry messages that already name what is wrong.
FIELD_LABELS = {"override_reason": "Reason to sign despite the warnings"}


def error_messages(exc: ValidationError) -> list[str]:
    """Readable lines for a service's ValidationError: never an internal key."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    lines = []
    for field, msgs in exc.message_dict.items():
        text = " ".join(msgs)
        if field == "__all__" or "." in field:
            lines.append(text)
        else:
            label = FIELD_LABELS.get(field, field.replace("_", " ").capitalize())
            lines.append(f"{label}: {text}")
    return lines
