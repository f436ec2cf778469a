"""The scheduling engine and its tests never read the calendar clock.

The engine is given the week it plans (dates in, plan out); it measures only durations
(`time.perf_counter`, for its time limit). Because of that, `make test-dates` runs the
engine's tests once (at its first instant) rather than at every instant: a suite that reads
no date cannot depend on one. This test keeps that promise true: a call that reads the
wall clock or today's date in the engine or its tests fails here, naming the line.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WATCHED = [ROOT / "src" / "openiop" / "scheduling" / "engine", ROOT / "tests" / "scheduling" / "engine"]

# Attribute calls that read the calendar clock: datetime.now(), date.today(),
# timezone.now(), time.time(), time.localtime()...
CLOCK_ATTRIBUTES = {"now", "utcnow", "today", "localtime", "gmtime", "time", "time_ns", "ctime"}
DURATION_ONLY = {"perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "process_time"}


def clock_reads(source: str) -> list[int]:
    """Line numbers of calls in `source` that read the calendar clock."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in CLOCK_ATTRIBUTES and name not in DURATION_ONLY:
                lines.append(node.lineno)
        # `from time import time` would hide a clock read behind a bare name.
        if isinstance(node, ast.ImportFrom) and node.module in {"time", "datetime"} and any(
                alias.name in CLOCK_ATTRIBUTES - {"time"} or (node.module == "time" and alias.name == "time")
                for alias in node.names):
            lines.append(node.lineno)
    return lines


def test_the_checker_sees_the_ways_code_reads_the_clock():
    assert clock_reads("import datetime\nx = datetime.datetime.now()\n") == [2]
    assert clock_reads("from datetime import date\nd = date.today()\n") == [2]
    assert clock_reads("from django.utils import timezone\nt = timezone.now()\n") == [2]
    assert clock_reads("import time\nt = time.time()\n") == [2]
    assert clock_reads("from time import time\n") == [1]
    assert clock_reads("import time\nt = time.perf_counter()\n") == []
    assert clock_reads("import datetime\nd = datetime.date(2026, 11, 30)\n") == []


def test_the_engine_and_its_tests_read_no_calendar_clock():
    files = [p for d in WATCHED for p in sorted(d.rglob("*.py"))]
    assert len(files) >= 8, "the engine moved: update WATCHED"
    found = [f"{p.relative_to(ROOT)}:{line}" for p in files
             for line in clock_reads(p.read_text(encoding="utf-8"))]
    assert not found, ("the engine is given its week and must not read the clock "
                       "(make test-dates runs its tests at one instant only):\n" + "\n".join(found))
