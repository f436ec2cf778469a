"""Response, remission and reliable change over a series. No database."""

from __future__ import annotations

from datetime import date, timedelta

from openiop.outcomes.rules import Point, evaluate


def series(*totals):
    start = date(2026, 1, 5)
    return [Point(start + timedelta(weeks=i), t) for i, t in enumerate(totals)]


def test_response_is_a_50_percent_drop_from_a_baseline_of_10_or_more():
    assert evaluate("phq9", series(16, 9)).response is False  # 9 > 8
    out = evaluate("phq9", series(16, 8))
    assert out.response is True
    assert [m.kind for m in out.markers] == ["response"]


def test_remission_is_phq9_below_5():
    assert evaluate("phq9", series(14, 5)).remission is False
    out = evaluate("phq9", series(14, 4))
    assert out.remission is True and out.response is True


def test_gad7_remission_below_5_and_no_reliable_change_threshold():
    out = evaluate("gad7", series(15, 4))
    assert out.remission and out.response
    assert out.reliable_improvement is False


def test_low_baselines_are_not_eligible_for_response_or_remission():
    out = evaluate("phq9", series(8, 2))
    assert out.eligible is False and out.response is False and out.remission is False


def test_reliable_change_is_5_points_on_phq9():
    assert evaluate("phq9", series(12, 8)).reliable_improvement is False
    assert evaluate("phq9", series(12, 7)).reliable_improvement is True
    worse = evaluate("phq9", series(6, 11))
    assert worse.reliable_worsening is True
    assert worse.markers[0].kind == "reliable_worsening"


def test_markers_sit_on_the_first_point_each_rule_is_met():
    out = evaluate("phq9", series(20, 14, 10, 6, 4))
    kinds = {m.kind: m.index for m in out.markers}
    assert kinds["reliable_improvement"] == 1  # 20 -> 14
    assert kinds["response"] == 2              # 10 <= 10
    assert kinds["remission"] == 4
    assert out.change == -16


def test_a_single_score_has_no_outcome():
    out = evaluate("phq9", series(15))
    assert not (out.response or out.remission or out.reliable_improvement)
    assert evaluate("phq9", []).baseline is None
