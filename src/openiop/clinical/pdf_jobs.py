"""Long note and treatment-plan PDFs made in the background (openiop.jobs.downloads).

The page decides (content size) and checks access as it always does; the worker renders
with these functions; every download runs the page's access check again, so a user who
lost access to the record (left the care team, a break-the-glass grant that ended) gets a
404, not the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest

from .formats import ENTRY_FIELDS
from .integrity import INTEGRITY_WARNING, note_content_intact
from .models import Note
from .pdf import note_pdf, plan_pdf


def note_size(note: Note, entry_participant_ids: set[int]) -> int:
    """Characters of content, roughly: decides whether the PDF is made in the background."""
    size = sum(len(str(v)) for v in (note.sections or {}).values()) + 1500
    for entry in note.entries.all():
        if entry.participant_id in entry_participant_ids:
            size += 300 + sum(len(getattr(entry, f.key) or "") for f in ENTRY_FIELDS)
    return size + sum(len(a.text) + 200 for a in note.addenda.all())


def render_note(*, note_id: int, entry_participant_ids: list[int],
                on_page: Callable[[int], None], notice: str = "") -> bytes:
    from .selectors import note_detail_queryset

    note = note_detail_queryset().get(pk=note_id)
    warning = "" if note_content_intact(note) else INTEGRITY_WARNING
    return note_pdf(note, entry_participant_ids=set(entry_participant_ids),
                    integrity_warning=warning, notice=notice, on_page=on_page)


def check_note(request: HttpRequest, *, note_id: int, entry_participant_ids: list[int],
               notice: str = "") -> None:
    from .permissions import visible_entry_participants
    from .views.common import get_note_for_user

    code = Note.objects.filter(pk=note_id).values_list("code", flat=True).first()
    if code is None:
        raise Http404
    note = get_note_for_user(request, code)
    visible = visible_entry_participants(request.user, note, request)
    if visible is not None and not set(entry_participant_ids) <= set(visible):
        raise Http404


def plan_size(snapshot: dict[str, Any]) -> int:
    import json

    return len(json.dumps(snapshot, default=str)) + 2000


def render_plan(*, plan_id: int, on_page: Callable[[int], None], notice: str = "") -> bytes:
    from .models import TreatmentPlan
    from .selectors import plan_signature_record
    from .services.plans import plan_snapshot

    plan = TreatmentPlan.objects.select_related("participant", "program").get(pk=plan_id)
    return plan_pdf(plan, plan_snapshot(plan), plan.revision, plan_signature_record(plan),
                    notice=notice, on_page=on_page)


def check_plan(request: HttpRequest, *, plan_id: int, notice: str = "") -> None:
    from .models import TreatmentPlan
    from .permissions import can_see_chart_clinical
    from .views.common import chart_participant

    plan = TreatmentPlan.objects.select_related("participant").filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    participant = chart_participant(request, plan.participant.code, audit=False)
    if not can_see_chart_clinical(request.user, participant, request):
        raise Http404
