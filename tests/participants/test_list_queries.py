"""The participant list: paginated, a bounded number of queries, filters that mean what
they say. (Timings on a 5,000-participant clinic: benchmarks/bench_pages.py.)"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from openiop.participants.views import PAGE_SIZE
from tests import factories as f

FILTERS = ["", "status=active", "status=discharged", "status=none", "q=Many", "level=IOP",
           "program={program}", "status=active&level=IOP&q=Many&program={program}"]


def _rows(html: str) -> int:
    return len(re.findall(r'href="/participants/[0-9a-f-]{36}/"', html))


@pytest.mark.parametrize("filters", FILTERS)
def test_list_query_count_does_not_grow_with_participants(filters, world, as_clinician):
    url = "/participants/?" + filters.format(program=world.program.code)

    def get() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            response = as_clinician.get(url)
            assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode()

    therapist = f.staff(world.org)

    def add(first: int, last: int) -> None:
        for i in range(first, last):
            p = f.participant(world.org, legal_last_name=f"Many{i:03d}")
            if i % 3 == 0:
                f.episode(p, world.program, therapist=therapist)
            elif i % 3 == 1:
                f.episode(p, world.program, status="finished",
                          discharged_on=timezone.localdate() - timedelta(days=1))

    add(0, 3)  # one of each kind, so every filter has a row to show
    baseline, html = get()
    assert _rows(html) >= 1
    add(3, PAGE_SIZE * 3)
    queries, html = get()
    assert queries == baseline, (url, baseline, queries)
    # 12 for the page, plus the one audit event of the page view (savepoint, chain lock on
    # PostgreSQL, chain head, next number, insert, release).
    assert queries <= 12 + 6
    assert _rows(html) <= PAGE_SIZE


def test_the_list_is_paginated_and_sorted_by_name(world, as_clinician):
    for i in range(PAGE_SIZE + 3):
        f.participant(world.org, legal_last_name=f"Zed{i:03d}")
    first = as_clinician.get("/participants/").content.decode()
    assert _rows(first) == PAGE_SIZE
    assert f"Page 1 of 2 · {PAGE_SIZE + 4} in all" in first
    assert first.index("Jamie Rivera") < first.index("Zed000")
    second = as_clinician.get("/participants/?page=2").content.decode()
    assert _rows(second) == 4 and "Zed027" in second
    # A page number past the end shows the last page instead of an error.
    assert as_clinician.get("/participants/?page=99").status_code == 200


def test_status_and_program_filters_select_the_right_people(world, as_clinician):
    discharged = f.participant(world.org, legal_last_name="Formerly")
    f.episode(discharged, world.program, status="finished",
              discharged_on=timezone.localdate() - timedelta(days=3))
    never = f.participant(world.org, legal_last_name="Waiting")
    other_program = f.program(world.org, world.site, name="Teen IOP", population="adolescent")
    teen = f.participant(world.org, legal_last_name="Younger")
    f.episode(teen, other_program)

    def names(query: str) -> set[str]:
        html = as_clinician.get(f"/participants/?{query}").content.decode()
        return {n for n in ("Rivera", "Formerly", "Waiting", "Younger") if n in html}

    assert names("status=active") == {"Rivera", "Younger"}
    assert names("status=discharged") == {"Formerly"}
    assert names("status=none") == {"Waiting"}
    assert names(f"program={world.program.code}") == {"Rivera"}
    assert names(f"program={other_program.code}&status=active") == {"Younger"}
    assert names("q=waiting") == {"Waiting"}
    assert names(f"q={never.mrn}") == {"Waiting"}
    # Someone with two open episodes appears once.
    f.episode(teen, world.program)
    html = as_clinician.get("/participants/?status=active").content.decode()
    assert html.count(f'href="/participants/{teen.code}/"') == 1
