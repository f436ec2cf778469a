"""Signed notes freeze the session's attendance; overdue plan reviews flag the chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from openiop.clinical.models import TreatmentPlan
from openiop.clinical.services import plan_start
from openiop.core.exceptions import InvalidTransition
from openiop.scheduling.services import attendance_record
from tests.conftest import login

from .helpers import signed_group_note, written_group_note


def test_attendance_of_a_session_with_a_signed_note_cannot_be_edited(clinic):
    booking = clinic.absent.bookings.get(session=clinic.group)
    signed_group_note(clinic.supervisor, clinic.group)
    with pytest.raises(InvalidTransition, match="note was signed"):
        attendance_record(actor=clinic.supervisor, booking=booking, status="present")
    booking.attendance.refresh_from_db()
    assert booking.attendance.status == "absent"


def test_attendance_stays_editable_while_the_note_is_a_draft(clinic):
    written_group_note(clinic.supervisor, clinic.group)
    booking = clinic.absent.bookings.get(session=clinic.group)
    changed = attendance_record(actor=clinic.supervisor, booking=booking, status="present",
                                reason="arrived, missed at roll call")
    assert changed.status == "present"


def test_an_overdue_plan_review_flags_the_chart(clinic):
    w = clinic.world
    plan = plan_start(actor=w.clinician, participant=w.participant, episode=w.episode)
    TreatmentPlan.objects.filter(pk=plan.pk).update(
        next_review_due=timezone.localdate() - timedelta(days=2))
    page = login(w.clinician).get(f"/participants/{w.participant.code}/")
    assert b"Treatment-plan review overdue" in page.content
