"""The compliance API reads a page at a time: `limit` rows by name, a `next` cursor to
follow, a count only when asked, bounded parameters with a 422 naming the field, and the
same number of queries for a clinic of 5 and of 30 participants."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.care.models import EpisodeOfCare
from tests import factories as f
from tests.clinic_size import add_participants
from tests.conftest import login

URL = "/api/scheduling/compliance"
# The session (read; not written again within a minute of its last write:
# openiop.core.sessions), the user, staff profile and organization, the programs (the
# minimum's SQL branches), the page, the page's bookings.
PAGE_QUERIES = 7


def _all_pages(client, limit, **params):
    names, cursor, pages = [], None, 0
    while True:
        query = {"limit": limit, **params} | ({"cursor": cursor} if cursor else {})
        body = client.get(URL, query).json()
        names += [r["participant_name"] for r in body["results"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            return names, pages


def test_following_next_reads_everyone_once_in_name_order(world):
    add_participants(world, 12)
    client = login(world.director)
    whole = client.get(URL, {"limit": 200}).json()
    assert whole["next"] is None and whole["count"] is None
    names, pages = _all_pages(client, 5)
    assert names == [r["participant_name"] for r in whole["results"]]
    assert len(names) == 13 and pages == 3  # the world's own participant and the 12
    assert names == sorted(names, key=lambda name: name.split()[-1])


def test_the_count_is_read_only_when_asked(world):
    add_participants(world, 7)
    client = login(world.director)
    with CaptureQueriesContext(connection) as plain:
        body = client.get(URL, {"limit": 3}).json()
    assert body["count"] is None and len(body["results"]) == 3
    assert not any("COUNT(" in q["sql"].upper() for q in plain.captured_queries)
    assert client.get(URL, {"limit": 3, "count": "true"}).json()["count"] == 8


def test_a_cursor_whose_person_reached_the_minimum_still_pages_on(world):
    add_participants(world, 6)
    client = login(world.director)
    first = client.get(URL, {"limit": 3}).json()
    whole = [r["participant_name"] for r in client.get(URL, {"limit": 200}).json()["results"]]
    # The last row's person leaves the list (discharged); the link still leads on.
    EpisodeOfCare.objects.filter(code=first["next"]).update(status="finished")
    rest = client.get(URL, {"limit": 200, "cursor": first["next"]}).json()
    assert [r["participant_name"] for r in rest["results"]] == whole[3:]


def test_bad_parameters_are_422_naming_the_field(world):
    client = login(world.director)
    for params, field in (({"limit": 0}, "limit"), ({"limit": 201}, "limit"),
                          ({"limit": "many"}, "limit"), ({"cursor": "abc"}, "cursor"),
                          ({"cursor": str(world.outsider_participant.code)}, "cursor"),
                          ({"count": "perhaps"}, "count")):
        response = client.get(URL, params)
        assert response.status_code == 422, (params, response.content)
        assert field in response.json()["detail"], params
    # Another organization's episode is not a page link of this list.
    elsewhere = f.episode(world.outsider_participant, f.program(world.outsider_org))
    assert client.get(URL, {"cursor": str(elsewhere.code)}).status_code == 422


def test_a_page_takes_the_same_queries_for_5_and_30_participants(
        world, django_assert_num_queries):
    client = login(world.director)
    add_participants(world, 5)
    with CaptureQueriesContext(connection) as small:
        first = client.get(URL, {"limit": 3}).json()
    add_participants(world, 25)
    with CaptureQueriesContext(connection) as big:
        client.get(URL, {"limit": 3})
    assert len(small) == len(big) == PAGE_QUERIES
    with django_assert_num_queries(PAGE_QUERIES + 1):  # and the cursor's episode
        deep = client.get(URL, {"limit": 3, "cursor": first["next"]}).json()
    assert len(deep["results"]) == 3
