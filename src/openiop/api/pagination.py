"""Shared list parameters for the JSON API."""

from __future__ import annotations

from typing import Any

from ninja import Query

# Far beyond any real list (the largest clinic has tens of thousands of rows), and far below
# what a database offset can hold: a larger offset is a 422 naming `offset`, never a 500.
MAX_OFFSET = 1_000_000


def offset_param() -> Any:
    return Query(0, ge=0, le=MAX_OFFSET, description=f"Rows to skip (at most {MAX_OFFSET:,}).")
