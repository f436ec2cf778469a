"""CARC/RARC and group codes in plain words (data/adjustment_codes.json, with its source)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path


@cache
def _codes() -> dict[str, dict[str, str]]:
    return json.loads((Path(__file__).parent / "data" / "adjustment_codes.json").read_text())


def carc(code: str) -> str:
    return _codes()["carc"].get(code, f"Adjustment reason {code}")


def rarc(code: str) -> str:
    return _codes()["rarc"].get(code, f"Remark {code}")


def group(code: str) -> str:
    return _codes()["groups"].get(code, code)


def claim_status(code: str) -> str:
    return _codes()["claim_status"].get(code, f"Status {code}")
