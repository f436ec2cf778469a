"""The demo clinic has notes in every state, plans with reviews due and overdue, and
safety plans (the clinical demo step)."""

from __future__ import annotations

import io
from datetime import timedelta

from django.utils import timezone

from openiop.clinical.models import Addendum, GroupNoteEntry, Note, SafetyPlan, TreatmentPlan
from openiop.clinical.selectors import current_safety_plan
from openiop.demo.generator import build_demo
from openiop.participants.models import Participant
from openiop.scheduling.models import Attendance


def test_the_demo_has_notes_in_every_state_and_plans_due_and_overdue(db):
    out = io.StringIO()
    build_demo(seed=11, participants=60, out=out)
    statuses = set(Note.objects.values_list("status", flat=True))
    assert statuses == {"draft", "signed", "cosigned", "locked"}
    assert Note.objects.filter(status="signed", needs_cosignature=True).exists()
    assert Addendum.objects.exists()
    # Group entries only for people who attended.
    entry = GroupNoteEntry.objects.select_related("attendance").first()
    assert entry.attendance.status in ("present", "late", "left_early")
    assert not GroupNoteEntry.objects.exclude(
        attendance__status__in=("present", "late", "left_early")).exists()
    assert Note.objects.filter(kind="family", family_members__isnull=False).exists()
    today = timezone.localdate()
    assert TreatmentPlan.objects.filter(next_review_due__lt=today).exists()
    assert TreatmentPlan.objects.filter(
        next_review_due__gte=today, next_review_due__lte=today + timedelta(days=7)).exists()
    assert all(p.revisions.count() == 1 for p in TreatmentPlan.objects.all()[:5])
    portal_person = Participant.objects.get(user__username="participant")
    assert current_safety_plan(portal_person) is not None
    assert SafetyPlan.objects.filter(version=2).exists()
    assert Attendance.objects.exists() and "treatment plans" in out.getvalue()
    # Every signed demo note still matches its stored hash (no false integrity warnings).
    from openiop.clinical.integrity import note_content_intact

    signed = Note.objects.exclude(status="draft").prefetch_related("entries")[:200]
    assert signed and all(note_content_intact(n) for n in signed)
