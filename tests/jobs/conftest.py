from __future__ import annotations

import pytest

from . import handlers


@pytest.fixture(autouse=True)
def _reset_calls():
    handlers.CALLS.clear()
    yield
    handlers.CALLS.clear()
