"""The timeliness dashboard counts notes not signed within the program's limit."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.clinical.services import note_start
from openiop.clinical.timeliness import note_timeliness, totals
from openiop.scheduling.models import Session
from tests import factories as f
from tests.conftest import login

from .helpers import signed_group_note, signed_individual_note


def _group_session(clinic, hours_ago: float, facilitator=None):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=hours_ago, minutes=90)
    session = f.session(clinic.world.program, starts_at=start,
                        facilitator=facilitator or clinic.supervisor)
    f.attendance(f.booking(session, clinic.world.participant), "present")
    return session


def test_it_counts_overdue_pending_on_time_and_late(clinic):
    """Group limit 24 h, individual 72 h (program settings)."""
    now = timezone.now()
    # clinic.group ended ~1 day ago: signed right away -> on time.
    signed_group_note(clinic.supervisor, clinic.group)
    # Individual session ended ~1 day ago (limit 72 h), no note -> pending.
    # A group 30 h ago with no note -> overdue; another 30 h ago with a draft -> overdue.
    _group_session(clinic, 30)
    note_start(actor=clinic.supervisor, session=_group_session(clinic, 30))
    # A group 10 h ago with no note -> pending.
    _group_session(clinic, 10)
    # A group signed now, 40 h after it ended -> late. (Signed notes never change, also
    # on PostgreSQL, so the session is moved back in time after signing instead.)
    late = _group_session(clinic, 1)
    signed_group_note_or_individual(clinic, late)
    Session.objects.filter(pk=late.pk).update(starts_at=late.starts_at - timedelta(hours=40),
                                              ends_at=late.ends_at - timedelta(hours=40))
    # Someone else's overdue session does not count for this clinician.
    _group_session(clinic, 40, facilitator=clinic.world.colleague)
    # A session nobody attended needs no note.
    f.booking(f.session(clinic.world.program, starts_at=now - timedelta(hours=60),
                        facilitator=clinic.supervisor), clinic.absent)

    rows = note_timeliness(organization_id=clinic.world.org.pk, now=now,
                           sessions_for=clinic.supervisor.pk)
    mine = next(r for r in rows if r.user_id == clinic.supervisor.pk)
    assert (mine.overdue, mine.pending, mine.signed_on_time, mine.signed_late) == (2, 2, 1, 1)
    assert len(mine.overdue_sessions) == 2
    theirs = next(r for r in rows if r.user_id == clinic.world.colleague.pk)
    assert theirs.overdue == 1
    assert totals(rows)["overdue"] == 3
    only_mine = note_timeliness(organization_id=clinic.world.org.pk, now=now,
                                clinician_id=clinic.supervisor.pk)
    assert [r.user_id for r in only_mine] == [clinic.supervisor.pk]


def signed_group_note_or_individual(clinic, session):
    note = signed_group_note(clinic.supervisor, session)
    assert note.status == "signed"
    return note


def test_a_limit_from_the_program_settings_is_used(clinic):
    program = clinic.world.program
    program.settings = {"note_timeliness_hours": {"group": 48}}
    program.save()
    now = timezone.now()
    _group_session(clinic, 30)
    rows = note_timeliness(organization_id=clinic.world.org.pk, now=now,
                           clinician_id=clinic.supervisor.pk)
    # clinic.group (~1 day ago) and the new 30 h one are both within 48 h now.
    assert rows[0].overdue == 0 and rows[0].pending == 3  # + the individual session


def test_the_query_count_does_not_grow_with_sessions(clinic):
    for hours in (26, 28, 30, 32, 34):
        _group_session(clinic, hours)
    signed_individual_note(clinic.supervisor, clinic.individual)
    with CaptureQueriesContext(connection) as queries:
        note_timeliness(organization_id=clinic.world.org.pk, now=timezone.now())
    assert len(queries) == 3


def test_the_director_sees_every_clinician_and_a_clinician_only_themselves(clinic):
    _group_session(clinic, 30)
    _group_session(clinic, 30, facilitator=clinic.world.colleague)
    director_page = login(clinic.world.director).get("/notes/")
    assert clinic.world.colleague.get_full_name().encode() in director_page.content
    own = login(clinic.world.colleague).get("/notes/")
    assert b"Timeliness by clinician" not in own.content
    assert b"Write note" in own.content
