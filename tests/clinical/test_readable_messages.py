"""What a clinician reads on the notes pages: sign errors name the section in words (never
an internal key) and overdue notes say how many days late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from openiop.clinical.models import Note
from openiop.clinical.timeliness import late_by
from tests import factories as f
from tests.conftest import login


def test_a_sign_error_names_the_section_without_an_internal_key(clinic):
    client = login(clinic.supervisor)
    client.post(f"/notes/sessions/{clinic.individual.code}/note/")
    note = Note.objects.get(session=clinic.individual)
    response = client.post(f"/notes/{note.code}/sign/")
    body = response.content.decode()
    assert response.status_code == 422
    assert "Assessment is required before signing." in body
    assert "sections.assessment" not in body and "sections." not in body


def test_late_by_is_hours_within_a_day_then_whole_days():
    assert late_by(timedelta(hours=5, minutes=59)) == "5 h"
    assert late_by(timedelta(hours=24)) == "1 day"
    assert late_by(timedelta(hours=644)) == "26 days"
    assert late_by(timedelta(days=27, hours=3)) == "27 days"


def test_the_dashboard_says_an_overdue_note_is_late_by_days(clinic):
    now = datetime(2026, 6, 10, 19, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        # Ended 28 days ago; the group limit is 24 h, so 27 days late.
        start = now - timedelta(days=28, minutes=90)
        session = f.session(clinic.world.program, starts_at=start,
                            facilitator=clinic.supervisor, title="Evening group")
        f.attendance(f.booking(session, clinic.world.participant), "present")
        response = login(clinic.supervisor).get("/notes/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "27 days" in body
    assert "648 h" not in body
