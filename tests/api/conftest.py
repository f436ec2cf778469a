"""The API tests reuse the scheduling world (templates, rooms, a second participant)."""

from tests.scheduling.conftest import sched  # noqa: F401 - a fixture, found by name
