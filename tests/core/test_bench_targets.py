"""The benchmarks' verdicts: PostgreSQL's page target in benchmarks/bench_pages.py and the
load benchmark's CPU reading (benchmarks/bench_load.py). Timings are never asserted here
(docs/DEVELOPING.md, "Benchmarks"): these are the rules that turn figures into a verdict."""

from __future__ import annotations

import os

from benchmarks import bench_load, bench_pages


def _run(n: int, *pages: tuple[str, float, int]) -> dict:
    return {"participants": n, "pages": [
        {"page": label, "p95_ms": p95, "queries": queries} for label, p95, queries in pages]}


def test_the_postgresql_target_is_p95_ratio_and_equal_queries_page_by_page():
    small = _run(5000, ("fast", 40.0, 9), ("slow", 80.0, 9), ("grows", 20.0, 9),
                 ("more queries", 20.0, 9))
    large = _run(20000, ("fast", 50.0, 9), ("slow", 120.0, 9), ("grows", 40.0, 9),
                 ("more queries", 21.0, 10))
    failures: list[str] = []
    rows = {r["page"]: r for r in bench_pages._target([small, large], 20, failures)}

    assert rows["fast"]["met"] and rows["fast"]["p95_ratio"] == 1.25
    assert not rows["slow"]["met"]
    assert any("120.0 ms > 100 ms" in m for m in rows["slow"]["misses"])
    assert rows["grows"]["misses"] == ["p95 ratio 2.0 > 1.5"]
    assert rows["more queries"]["misses"] == ["queries 9 -> 10"]
    assert len(failures) == 3
    assert all("PostgreSQL target missed" in f for f in failures)


def test_the_target_at_one_size_judges_only_the_p95():
    failures: list[str] = []
    rows = bench_pages._target([_run(20000, ("page", 99.0, 5))], 10, failures)
    assert rows == [{"page": "page", "participants": 20000, "p95_ms": 99.0, "p95_ratio": None,
                     "queries": [5], "met": True, "misses": []}]
    assert failures == []


def test_cpu_is_read_from_proc_and_counts_reaped_children():
    spent = 0.0
    while os.times().user + os.times().system < 0.05:  # spend a little CPU to read back
        spent += sum(i * i for i in range(10_000))
    own = bench_load._proc_cpu(os.getpid())
    assert own > 0
    assert bench_load._proc_cpu(os.getpid(), children=True) >= own
    assert bench_load._proc_cpu(2**22 + 12345) == 0.0  # no such process


def test_the_sign_in_form_token_is_read_from_the_page():
    page = b'<input type="hidden" name="csrfmiddlewaretoken" value="abc123">'
    assert bench_load._csrf(page) == "abc123"
