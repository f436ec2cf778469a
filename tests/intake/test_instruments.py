"""Scoring of every instrument: each severity boundary, each flag rule, and refusal of
missing or out-of-range answers naming the item. No database."""

from __future__ import annotations

import json

import pytest

from openiop.intake.instruments import CODES, DATA_DIR, INSTRUMENTS, ScoringError, score


def answers_for_total(n_items: int, total: int, *, maximum: int = 3, last_zero: bool = False):
    """Answers adding up to `total`, filled from the first item (item 9 kept 0 if asked)."""
    values = [0] * n_items
    remaining = total
    slots = range(n_items - 1) if last_zero else range(n_items)
    for i in slots:
        values[i] = min(maximum, remaining)
        remaining -= values[i]
    assert remaining == 0
    return values


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "moderately_severe"), (19, "moderately_severe"),
     (20, "severe"), (24, "severe")],
)
def test_phq9_bands_at_every_boundary(total, band):
    result = score("phq9", answers_for_total(9, total, last_zero=True))
    assert result.total == total
    assert result.band == band


def test_phq9_maximum_is_27_and_severe():
    result = score("phq9", [3] * 9)
    assert (result.total, result.band) == (27, "severe")


@pytest.mark.parametrize(("total", "flagged"), [(9, False), (10, True)])
def test_phq9_probable_depression_flag_starts_at_10(total, flagged):
    result = score("phq9", answers_for_total(9, total, last_zero=True))
    assert ("probable_major_depression" in result.flag_codes) is flagged
    assert result.safety is False


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_above_zero_is_a_safety_flag_even_with_a_low_total(item9):
    result = score("phq9", [0] * 8 + [item9])
    assert result.band == "minimal"
    assert "self_harm_thoughts" in result.flag_codes
    assert result.safety is True
    assert result.imminent_risk is False


def test_phq9_item9_zero_raises_no_safety_flag():
    assert score("phq9", [3] * 8 + [0]).safety is False


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "severe"), (21, "severe")],
)
def test_gad7_bands_at_every_boundary(total, band):
    result = score("gad7", answers_for_total(7, total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(("total", "flagged"), [(9, False), (10, True)])
def test_gad7_flag_starts_at_10(total, flagged):
    result = score("gad7", answers_for_total(7, total))
    assert ("probable_anxiety_disorder" in result.flag_codes) is flagged


@pytest.mark.parametrize(
    ("sex", "total", "band"),
    [("male", 3, "negative"), ("male", 4, "positive"), ("female", 2, "negative"),
     ("female", 3, "positive"), (None, 2, "negative"), (None, 3, "positive")],
)
def test_auditc_uses_sex_specific_cutoffs(sex, total, band):
    # Points spread over q2 and q3 so the "q1 only" note does not apply.
    values = [0, min(total, 4), max(total - 4, 0)]
    result = score("auditc", values, sex=sex)
    assert (result.total, result.band) == (total, band)
    assert ("positive_screen" in result.flag_codes) is (band == "positive")


def test_auditc_without_sex_says_the_lower_cutoff_was_used():
    assert "cutoff_assumed" in score("auditc", [1, 1, 1]).flag_codes
    assert "cutoff_assumed" not in score("auditc", [1, 1, 1], sex="male").flag_codes


def test_auditc_points_from_question_1_only_are_noted():
    result = score("auditc", [4, 0, 0], sex="male")
    assert result.band == "positive"
    assert "q1_only" in result.flag_codes
    assert "q1_only" not in score("auditc", [3, 1, 0], sex="male").flag_codes


def test_auditc_rejects_an_unknown_sex():
    with pytest.raises(ScoringError) as exc:
        score("auditc", [1, 1, 1], sex="x")
    assert "sex" in exc.value.errors


def _dast(yes_count: int, *, q3_able_to_stop: bool = True) -> dict[str, str]:
    """yes_count scored points, with q3 answered so that it scores 0 (able to stop)."""
    answers = {f"q{i}": "no" for i in range(1, 11)}
    answers["q3"] = "yes" if q3_able_to_stop else "no"
    others = [f"q{i}" for i in (1, 2, 4, 5, 6, 7, 8, 9, 10)]
    for k in others[:yes_count]:
        answers[k] = "yes"
    return answers


@pytest.mark.parametrize(
    ("points", "band"),
    [(0, "none"), (1, "low"), (2, "low"), (3, "moderate"), (5, "moderate"),
     (6, "substantial"), (8, "substantial"), (9, "severe")],
)
def test_dast10_bands_at_every_boundary(points, band):
    result = score("dast10", _dast(points))
    assert (result.total, result.band) == (points, band)


def test_dast10_question_3_is_reversed():
    assert score("dast10", _dast(0, q3_able_to_stop=False)).total == 1
    assert score("dast10", _dast(0, q3_able_to_stop=True)).total == 0
    top = score("dast10", _dast(9, q3_able_to_stop=False))
    assert (top.total, top.band) == (10, "severe")


@pytest.mark.parametrize(("points", "flagged"), [(2, False), (3, True)])
def test_dast10_further_assessment_flag_starts_at_3(points, flagged):
    assert ("further_assessment" in score("dast10", _dast(points)).flag_codes) is flagged


NO = "no"


@pytest.mark.parametrize(
    ("answers", "band"),
    [
        ({"q1": NO, "q2": NO, "q6": NO}, "none"),
        ({"q1": "yes", "q2": NO, "q6": NO}, "low"),
        ({"q1": "yes", "q2": "yes", "q3": NO, "q4": NO, "q5": NO, "q6": NO}, "low"),
        ({"q1": "yes", "q2": "yes", "q3": "yes", "q4": NO, "q5": NO, "q6": NO}, "moderate"),
        ({"q1": NO, "q2": NO, "q6": "yes", "q6_recent": NO}, "moderate"),
        ({"q1": "yes", "q2": "yes", "q3": "yes", "q4": "yes", "q5": NO, "q6": NO}, "high"),
        ({"q1": "yes", "q2": "yes", "q3": NO, "q4": NO, "q5": "yes", "q6": NO}, "high"),
        ({"q1": NO, "q2": NO, "q6": "yes", "q6_recent": "yes"}, "high"),
    ],
)
def test_cssrs_triage_uses_the_highest_item_endorsed(answers, band):
    result = score("cssrs", answers)
    assert result.band == band
    assert result.total is None
    assert result.safety is (band != "none")
    assert result.imminent_risk is (band == "high")


def test_cssrs_asks_q3_to_q5_when_q2_is_yes():
    with pytest.raises(ScoringError) as exc:
        score("cssrs", {"q1": "yes", "q2": "yes", "q6": "no"})
    assert set(exc.value.errors) == {"q3", "q4", "q5"}


@pytest.mark.parametrize(
    ("answers", "band", "items"),
    [
        # Question 2 "no" but intent (4) or plan (5) "yes": high risk, as that item implies.
        ({"q1": "yes", "q2": NO, "q4": "yes", "q6": NO}, "high", "4"),
        ({"q1": NO, "q2": NO, "q5": "yes", "q6": NO}, "high", "5"),
        ({"q1": NO, "q2": NO, "q3": "yes", "q6": NO}, "moderate", "3"),
        # Behavior "no" but "yes, in the past 3 months": recent behavior, high risk.
        ({"q1": NO, "q2": NO, "q6": NO, "q6_recent": "yes"}, "high", "7"),
    ],
)
def test_cssrs_keeps_contradictory_answers_and_triages_from_the_endorsed_item(
        answers, band, items):
    result = score("cssrs", answers)
    assert result.band == band
    assert result.answers[next(k for k, v in answers.items() if v == "yes" and k != "q1")] == 1
    assert result.safety and result.imminent_risk is (band == "high")
    confirm = [f for f in result.flags if f.code == "answers_to_confirm"]
    assert len(confirm) == 1
    assert f"yes to question {items}" in confirm[0].message
    assert "confirm the answers with the person" in confirm[0].message
    assert "leave it out" not in " ".join(f.message for f in result.flags)
    assert "cssrs.columbia.edu" in confirm[0].source


def test_consistent_cssrs_answers_ask_for_no_confirmation():
    result = score("cssrs", {"q1": "yes", "q2": "yes", "q3": NO, "q4": "yes", "q5": NO,
                             "q6": NO})
    assert "answers_to_confirm" not in result.flag_codes and result.band == "high"


def test_cssrs_needs_the_past_3_months_answer_after_lifetime_behavior():
    with pytest.raises(ScoringError) as exc:
        score("cssrs", {"q1": "no", "q2": "no", "q6": "yes"})
    assert set(exc.value.errors) == {"q6_recent"}


@pytest.mark.parametrize("code", ["phq9", "gad7", "auditc", "dast10"])
def test_a_missing_item_is_named_and_nothing_is_scored(code):
    inst = INSTRUMENTS[code]
    answers = {i.id: i.values[0] for i in inst.items}
    del answers["q2"]
    with pytest.raises(ScoringError) as exc:
        score(code, answers)
    assert list(exc.value.errors) == ["q2"]
    assert "question 2 is missing" in exc.value.errors["q2"]


@pytest.mark.parametrize(("code", "bad"), [("phq9", 4), ("phq9", -1), ("gad7", 9),
                                            ("auditc", 5), ("dast10", 2), ("phq9", "often"),
                                            ("phq9", 1.5)])
def test_an_out_of_range_answer_is_named(code, bad):
    inst = INSTRUMENTS[code]
    answers = {i.id: i.values[0] for i in inst.items}
    answers["q1"] = bad
    with pytest.raises(ScoringError) as exc:
        score(code, answers)
    assert list(exc.value.errors) == ["q1"]
    assert "question 1" in exc.value.errors["q1"]


def test_unknown_items_and_instruments_are_refused():
    with pytest.raises(ScoringError) as exc:
        score("phq9", {**{f"q{i}": 0 for i in range(1, 10)}, "q10": 1})
    assert "q10" in exc.value.errors
    with pytest.raises(ScoringError) as exc:
        score("phq99", [0] * 9)
    assert "instrument" in exc.value.errors
    with pytest.raises(ScoringError):
        score("gad7", [0] * 8)


def test_list_and_mapping_answers_score_alike():
    listed = score("gad7", [1, 2, 3, 0, 1, 2, 3])
    mapped = score("gad7", {f"q{i + 1}": v for i, v in enumerate([1, 2, 3, 0, 1, 2, 3])})
    assert listed.total == mapped.total == 12


@pytest.mark.parametrize("code", CODES)
def test_every_data_file_cites_its_sources_and_has_item_texts(code):
    raw = json.loads((DATA_DIR / f"{code}.json").read_text())
    assert "http" in raw["source"]
    assert all(rule["source"] for rule in raw["flags"].values())
    assert all(len(i["text"]) > 10 for i in raw["items"])
    inst = INSTRUMENTS[code]
    assert inst.items[0].options and inst.name


@pytest.mark.parametrize("code", ["phq9", "gad7", "dast10"])
def test_bands_cover_every_total_exactly_once(code):
    inst = INSTRUMENTS[code]
    for total in range(inst.min_total, inst.max_total + 1):
        covering = [b for b in inst.bands if b.min <= total <= b.max]
        assert len(covering) == 1, (code, total)
