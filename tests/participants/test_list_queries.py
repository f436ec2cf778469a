"""The participant list stays paginated with a bounded number of queries."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f


def test_list_query_count_does_not_grow_with_participants(world, as_clinician):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert as_clinician.get("/participants/?status=active").status_code == 200
        return len(ctx.captured_queries)

    baseline = count()
    for i in range(40):
        p = f.participant(world.org, legal_last_name=f"Many{i}")
        f.episode(p, world.program)
    assert count() == baseline
    assert baseline <= 12
