"""The level-of-care engine: each rule, imminent risk above IOP, hours advice. No database."""

from __future__ import annotations

import pytest

from openiop.intake.instruments import score
from openiop.intake.loc import LocInputError, recommend, rules_data

CALM = {"withdrawal": 0, "biomedical": 0, "emotional": 0, "readiness": 0, "relapse": 0,
        "environment": 0}


def run(screening=None, hours=12, adolescent=False, **dims):
    return recommend(screening=screening or {}, dimensions=CALM | dims, hours_available=hours,
                     adolescent=adolescent)


def codes(rec):
    return [r.code for r in rec.rules]


def test_no_risk_anywhere_recommends_outpatient_and_says_why():
    rec = run()
    assert rec.level == "OP"
    assert codes(rec) == ["default_outpatient"]
    assert "least intensive" in rec.rules[0].text


DIMENSION_CASES = [
    (dim, rating, level)
    for dim, spec in rules_data()["dimensions"].items()
    for rating, level in spec["floors"].items()
]


@pytest.mark.parametrize(("dim", "rating", "level"), DIMENSION_CASES)
def test_each_dimension_rule_sets_its_minimum_level(dim, rating, level):
    rec = run(**{dim: int(rating)})
    assert f"dimension_{dim}" in codes(rec)
    fired = next(r for r in rec.rules if r.code == f"dimension_{dim}")
    assert fired.level == level
    assert f"rated {rating}" in fired.text
    assert rec.level == level


@pytest.mark.parametrize("dim", list(CALM))
def test_a_rating_of_1_fires_no_dimension_rule(dim):
    assert run(**{dim: 1}).level == "OP"


def test_the_highest_risk_dimension_wins_and_ratings_are_not_averaged():
    rec = run(emotional=3, readiness=0, relapse=0)
    assert rec.level == "PHP"


PHQ_MODERATE = [2, 2, 2, 2, 2, 1, 1, 0, 0]      # 12
PHQ_SEVERE = [3, 3, 3, 3, 2, 2, 2, 2, 0]        # 20


@pytest.mark.parametrize(("instrument", "answers", "sex", "rule", "level"), [
    ("phq9", PHQ_MODERATE, None, "phq9_moderate", "OP"),
    ("phq9", PHQ_SEVERE, None, "phq9_severe", "IOP"),
    ("gad7", [2, 2, 2, 2, 1, 1, 1], None, "gad7_moderate", "OP"),
    ("gad7", [3, 3, 3, 2, 2, 2, 2], None, "gad7_severe", "IOP"),
    ("auditc", [2, 2, 1], "male", "auditc_positive", "OP"),
    ("dast10", ["yes", "yes", "no", "no", "no", "no", "no", "no", "no", "no"], None,
     "dast10_moderate", "OP"),
    ("dast10", ["yes"] * 2 + ["no"] + ["yes"] * 5 + ["no"] * 2, None,
     "dast10_substantial", "IOP"),
])
def test_each_screening_rule(instrument, answers, sex, rule, level):
    rec = run({instrument: score(instrument, answers, sex=sex)})
    assert rule in codes(rec)
    assert rec.level == level


def test_cssrs_low_risk_is_advice_only():
    rec = run({"cssrs": score("cssrs", {"q1": "yes", "q2": "no", "q6": "no"})})
    fired = next(r for r in rec.rules if r.code == "cssrs_low")
    assert fired.level is None and rec.level == "OP"


def test_cssrs_moderate_risk_calls_for_at_least_iop():
    rec = run({"cssrs": score("cssrs", {"q1": "no", "q2": "no", "q6": "yes",
                                        "q6_recent": "no"})})
    assert "cssrs_moderate" in codes(rec) and rec.level == "IOP"
    assert rec.imminent_risk is False


def test_imminent_risk_from_the_cssrs_always_recommends_above_iop():
    cssrs = score("cssrs", {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "yes", "q5": "no",
                            "q6": "no"})
    rec = run({"cssrs": cssrs}, emotional=2)
    assert rec.imminent_risk is True
    assert rec.level in ("PHP", "RES", "INP") and rec.level == "INP"
    assert "imminent_risk" in codes(rec)


def test_imminent_risk_from_dimension_3_rated_4_is_above_iop():
    rec = run(emotional=4)
    assert rec.imminent_risk and rec.level == "INP"


def test_item9_without_a_cssrs_asks_for_one():
    rec = run({"phq9": score("phq9", [0] * 8 + [1])})
    assert "cssrs_needed" in codes(rec)
    with_cssrs = run({"phq9": score("phq9", [0] * 8 + [1]),
                      "cssrs": score("cssrs", {"q1": "yes", "q2": "no", "q6": "no"})})
    assert "cssrs_needed" not in codes(with_cssrs)


@pytest.mark.parametrize(("adolescent", "hours", "short"), [
    (False, 8, True), (False, 9, False), (True, 5, True), (True, 6, False)])
def test_too_few_hours_is_advice_and_never_lowers_the_level(adolescent, hours, short):
    rec = run(hours=hours, adolescent=adolescent, emotional=2)
    assert rec.level == "IOP"
    assert ("hours_short" in codes(rec)) is short


def test_php_needs_20_hours():
    assert "hours_short" in codes(run(hours=19, emotional=3))
    assert "hours_short" not in codes(run(hours=20, emotional=3))


def test_every_fired_rule_is_in_plain_words_with_a_source():
    rec = run({"phq9": score("phq9", PHQ_SEVERE)}, hours=4, emotional=2, relapse=3)
    assert len(rec.rules) >= 4
    assert all(len(r.text) > 30 and r.source for r in rec.rules)


def test_bad_ratings_and_hours_are_refused_naming_the_field():
    with pytest.raises(LocInputError) as exc:
        recommend(screening={}, dimensions=CALM | {"emotional": 5, "relapse": None},
                  hours_available=-1)
    assert {"emotional", "relapse", "hours_available"} <= set(exc.value.errors)
    with pytest.raises(LocInputError) as exc:
        recommend(screening={}, dimensions=CALM | {"mood": 2}, hours_available=9)
    assert "mood" in exc.value.errors
