"""The chart's access-log tab pages by sequence number like the organization's log, counts
only when asked, and reads the same number of queries whatever the size of the clinic and
of the person's log."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.audit.models import AccessEvent
from tests.audit.test_log_paging import _link, _record
from tests.clinic_size import add_participants
from tests.conftest import login

# Includes the chart frame (participant, episode, header flags, the access module's checks,
# each relationship asked once per request: openiop.access.memo) and the view's own audit
# event, and no session write (within a minute of the last: openiop.core.sessions); on
# PostgreSQL an audit event takes one more query (the advisory lock that serializes
# appends to the organization's chain).
TAB_QUERIES = 21 + (1 if connection.vendor == "postgresql" else 0)


def _url(world):
    return f"/audit/participants/{world.participant.code}/"


def _seqs(world):
    return list(AccessEvent.objects.filter(participant=world.participant).order_by("-seq")
                .values_list("seq", flat=True))


def test_the_tab_pages_by_sequence_number_both_ways(world):
    _record(world, [world.participant], times=60)
    _record(world, add_participants(world, 3), times=5)  # other people's events stay out
    client = login(world.director)
    first = client.get(_url(world))
    newest = _seqs(world)  # the tab's own view is the newest event
    assert len(newest) == 61
    assert [e.seq for e in first.context["page"].object_list] == newest[:50]
    assert _link(first.content.decode(), "prev") is None
    older = _link(first.content.decode(), "next")
    assert older == f"before={newest[49]}"
    second = client.get(f"{_url(world)}?{older}")
    assert [e.seq for e in second.context["page"].object_list] == newest[50:61]
    assert _link(second.content.decode(), "next") is None
    back = client.get(f"{_url(world)}?{_link(second.content.decode(), 'prev')}")
    assert [e.seq for e in back.context["page"].object_list] == _seqs(world)[2:52]


def test_the_tab_counts_only_when_asked(world):
    _record(world, [world.participant], times=3)
    client = login(world.director)
    with CaptureQueriesContext(connection) as plain:
        body = client.get(_url(world)).content.decode()
    assert not any("COUNT(" in q["sql"].upper() and "audit_accessevent" in q["sql"]
                   for q in plain.captured_queries)
    assert "Count matching events" in body
    asked = client.get(f"{_url(world)}?count=1")
    assert asked.context["page"].count == len(_seqs(world))
    assert f"{asked.context['page'].count} events match" in asked.content.decode()


def test_a_broken_page_link_is_a_field_message_not_an_error(world):
    response = login(world.director).get(f"{_url(world)}?after=1e9")
    assert response.status_code == 400
    assert "After: a page link carries a whole number" in response.content.decode()


def test_the_tab_takes_the_same_queries_for_5_and_30_participants(
        world, django_assert_num_queries):
    client = login(world.director)
    _record(world, [world.participant], times=55)
    _record(world, add_participants(world, 5), times=2)
    with CaptureQueriesContext(connection) as small:
        client.get(_url(world))
    _record(world, [world.participant], times=100)
    _record(world, add_participants(world, 25), times=2)
    with CaptureQueriesContext(connection) as big:
        client.get(_url(world))
    assert (len(small), len(big)) == (TAB_QUERIES, TAB_QUERIES)
    before = _seqs(world)[70]
    with django_assert_num_queries(TAB_QUERIES):
        client.get(f"{_url(world)}?before={before}")
