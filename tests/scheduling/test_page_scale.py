"""The compliance and attendance-flag pages read a page at a time: the same number of
queries for a clinic of 5 and of 30 participants, and pages that link to the rest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.scheduling import selectors
from tests import factories as f
from tests.clinic_size import add_participants

# No session write: within a minute of the last (openiop.core.sessions).
COMPLIANCE_QUERIES = 8
FLAGS_QUERIES = 10


@pytest.fixture
def missed(world):
    """Three past sessions of the world's track (within the last two weeks) and one
    upcoming session with free seats for make-ups."""
    now = timezone.now().replace(microsecond=0)
    past = [f.session(world.program, track=world.track, starts_at=now - timedelta(days=1 + k),
                      capacity=100) for k in range(3)]
    f.session(world.program, track=world.track, starts_at=now + timedelta(days=2),
              capacity=100, status="scheduled")
    return past


def _week_of(session):
    local = timezone.localtime(session.starts_at, timezone.get_current_timezone())
    return (local.date() - timedelta(days=local.weekday())).isoformat()


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_the_compliance_page_takes_the_same_queries_for_5_and_30_participants(
        world, as_director, missed, django_assert_num_queries):
    url = f"/schedule/compliance/?week={_week_of(missed[0])}"
    add_participants(world, 5, sessions=missed)
    small, _ = _count(as_director, url)
    add_participants(world, 25, sessions=missed)
    big, _ = _count(as_director, url)
    assert (small, big) == (COMPLIANCE_QUERIES, COMPLIANCE_QUERIES)
    with django_assert_num_queries(COMPLIANCE_QUERIES):
        response = as_director.get(url)
    assert response.context["page"].paginator.count == 31  # and the world's own participant
    assert len(response.context["rows"]) == 31


def test_the_compliance_page_pages_by_50(world, as_director, missed):
    add_participants(world, 55, sessions=missed)
    url = f"/schedule/compliance/?week={_week_of(missed[0])}"
    first = as_director.get(url)
    second = as_director.get(url + "&page=2")
    names = [r.participant.legal_last_name for r in first.context["rows"]]
    assert len(names) == 50 and names == sorted(names)
    rest = [r.participant.legal_last_name for r in second.context["rows"]]
    assert len(rest) == 6 and not set(rest) & set(names)
    assert b'rel="next"' in first.content and f"week={_week_of(missed[0])}&amp;page=2".encode() in first.content


def test_the_attendance_flags_page_takes_the_same_queries_for_5_and_30_participants(
        world, as_director, missed, django_assert_num_queries):
    add_participants(world, 5, sessions=missed)
    small, response = _count(as_director, "/schedule/attendance-flags/")
    assert len(response.context["rows"]) == 5
    add_participants(world, 25, sessions=missed)
    big, _ = _count(as_director, "/schedule/attendance-flags/")
    assert (small, big) == (FLAGS_QUERIES, FLAGS_QUERIES)
    with django_assert_num_queries(FLAGS_QUERIES):
        response = as_director.get("/schedule/attendance-flags/")
    assert response.context["page"].paginator.count == 30
    assert len(response.context["rows"]) == 25
    row = response.context["rows"][0]
    assert row.absences == 3 and len(row.missed) == 3
    upcoming = selectors.makeup_options(row.missed[-1])
    assert response.context["offers"][row.participant.pk][row.missed[-1].pk] == upcoming
    assert upcoming  # the upcoming session has free seats


def test_makeup_options_for_many_bookings_match_one_at_a_time(world, missed):
    add_participants(world, 4, sessions=missed)
    bookings = [b for r in selectors.attendance_flags(world.org) for b in r.missed]
    together = selectors.makeup_options_for(bookings)
    assert together == {b.pk: selectors.makeup_options(b) for b in bookings}


def test_makeup_options_leave_out_sessions_the_person_is_already_booked_in(world, missed):
    (person,) = add_participants(world, 1, sessions=missed)
    upcoming = f.session(world.program, starts_at=timezone.now() + timedelta(days=3),
                         capacity=5, status="scheduled")
    f.booking(upcoming, person)
    (row,) = [r for r in selectors.attendance_flags(world.org) if r.participant == person]
    options = selectors.makeup_options_for(row.missed)
    assert all(upcoming not in sessions for sessions in options.values())
