"""The audit log pages by sequence number (links to older and newer events), counts only
when asked, and reads the same number of queries for a clinic of 5 and of 30 people."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.audit.models import AccessEvent
from openiop.audit.services import audit_record
from openiop.audit.vocabulary import Action, ObjectType
from tests.clinic_size import add_participants
from tests.conftest import login

# No session write: the request is within a minute of the last (openiop.core.sessions).
LOG_QUERIES = 5


def _record(world, people, times=1):
    for person in people:
        for _ in range(times):
            audit_record(actor=world.clinician, action=Action.VIEW, object_type=ObjectType.PARTICIPANT,
                         participant=person)


def _link(body, rel):
    match = re.search(rf'href="\?([^"]*)" rel="{rel}"', body)
    return match.group(1).replace("&amp;", "&") if match else None


def test_the_log_pages_by_sequence_number_both_ways(world):
    _record(world, add_participants(world, 12), times=10)
    client = login(world.director)
    newest = list(AccessEvent.objects.filter(organization=world.org).order_by("-seq")
                  .values_list("seq", flat=True))
    first = client.get("/audit/")
    assert [e.seq for e in first.context["page"].object_list] == newest[:50]
    assert _link(first.content.decode(), "prev") is None
    older = _link(first.content.decode(), "next")
    assert older == f"before={newest[49]}"
    second = client.get(f"/audit/?{older}")
    assert [e.seq for e in second.context["page"].object_list] == newest[50:100]
    back = client.get(f"/audit/?{_link(second.content.decode(), 'prev')}")
    assert [e.seq for e in back.context["page"].object_list] == newest[:50]
    last = client.get(f"/audit/?before={newest[-1] + 1}")
    assert [e.seq for e in last.context["page"].object_list] == [newest[-1]]
    assert _link(last.content.decode(), "next") is None


def test_the_filters_stay_on_the_page_links(world):
    _record(world, add_participants(world, 6), times=10)
    body = login(world.director).get("/audit/?action=view").content.decode()
    assert _link(body, "next").startswith("action=view&before=")


def test_the_log_counts_only_when_asked(world):
    _record(world, add_participants(world, 3))
    client = login(world.director)
    with CaptureQueriesContext(connection) as plain:
        body = client.get("/audit/").content.decode()
    assert not any("COUNT(" in q["sql"].upper() for q in plain.captured_queries)
    assert "Count matching events" in body
    asked = client.get("/audit/?count=1")
    assert asked.context["page"].count == AccessEvent.objects.filter(
        organization=world.org).count()
    assert f"{asked.context['page'].count} events match" in asked.content.decode()


def test_a_broken_page_link_is_a_field_message_not_an_error(world):
    response = login(world.director).get("/audit/?before=abc")
    assert response.status_code == 400
    assert "Before: a page link carries a whole number" in response.content.decode()


def test_the_log_takes_the_same_queries_for_5_and_30_participants(
        world, django_assert_num_queries):
    client = login(world.director)
    _record(world, add_participants(world, 5), times=2)
    with CaptureQueriesContext(connection) as small:
        client.get("/audit/?since=2000-01-01")
    _record(world, add_participants(world, 25), times=2)
    with CaptureQueriesContext(connection) as big:
        client.get("/audit/?since=2000-01-01")
    assert (len(small), len(big)) == (LOG_QUERIES, LOG_QUERIES)
    before = AccessEvent.objects.order_by("-seq").values_list("seq", flat=True)[10]
    with django_assert_num_queries(LOG_QUERIES):
        client.get(f"/audit/?since=2000-01-01&before={before}")


def test_the_date_filter_is_a_range_on_the_time_column(world):
    _record(world, add_participants(world, 2))
    with CaptureQueriesContext(connection) as queries:
        login(world.director).get("/audit/?since=2026-01-01&until=2026-01-31")
    (sql,) = [q["sql"] for q in queries.captured_queries if "audit_accessevent" in q["sql"]
              and "occurred_at" in q["sql"].split("WHERE", 1)[-1]]
    where = sql.split("WHERE", 1)[1]
    assert '"occurred_at" >=' in where and '"occurred_at" <' in where
    assert "django_datetime" not in where and "::date" not in where
