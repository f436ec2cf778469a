"""What every PostgreSQL connection of the application is set up with (settings.py)."""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.django_db
def test_postgres_connections_run_without_jit_compilation():
    """With real statistics the planner prices an ordinary FHIR search page of a clinic of a
    thousand above jit_above_cost (the access rules' EXISTS per row), and compiling took up
    to 1.9 s of a search whose queries run in 20-50 ms: settings.py turns JIT off."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
