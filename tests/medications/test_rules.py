"""Pure rules: catalog integrity, dose guards, each interaction rule firing and not firing,
and the expected-versus-unexpected screen logic (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from openiop.medications import rules


def facts(key: str, ref: str | None = None, alcohol: bool = False) -> rules.MedFacts:
    return rules.facts_for(ref=ref or key, name=rules.catalog()[key].name if key in rules.catalog()
                           else key, catalog_key=key if key in rules.catalog() else "",
                           contains_alcohol=alcohol)


def fired(candidate: str, *others: str, alcohol_other: bool = False) -> set[str]:
    other = [facts(o, alcohol=alcohol_other) for o in others]
    return {w.rule_id for w in rules.interaction_warnings(facts(candidate), other)}


class TestCatalog:
    def test_every_entry_has_code_class_forms_routes_and_a_source(self):
        cat = rules.catalog()
        assert len(cat) >= 40
        for e in cat.values():
            assert e.rxnorm.isdigit(), e.key
            assert e.drug_class and e.forms and e.routes and e.dose_units, e.key
            assert "rxnav" in e.source.lower(), e.key
            assert e.verified or not e.verified_by, e.key
            if e.verified:
                assert e.verified_by, e.key

    @pytest.mark.parametrize("category", ["antidepressant", "anxiolytic", "antipsychotic",
                                          "mood_stabilizer", "adhd", "sleep", "moud", "aud",
                                          "nicotine", "naloxone"])
    def test_each_required_category_is_present(self, category):
        assert any(e.category == category for e in rules.catalog().values())

    def test_moud_entries_and_schedules(self):
        cat = rules.catalog()
        assert cat["buprenorphine"].dea_schedule == "III"
        assert cat["buprenorphine_naloxone"].dea_schedule == "III"
        assert cat["methadone"].dea_schedule == "II"
        assert cat["naltrexone_xr"].dea_schedule is None
        assert cat["lorazepam"].controlled and not cat["sertraline"].controlled

    def test_every_interaction_rule_and_data_file_cites_a_source(self):
        for rule in rules.interaction_rules():
            assert rule["source"].strip()
        assert rules.screen_substances()["buprenorphine"] == "Buprenorphine"


class TestDoseGuards:
    def test_negative_dose_is_refused_naming_the_dose(self):
        assert rules.dose_problem(dose=Decimal("-5"), unit="mg")[0] == "dose"

    def test_zero_dose_is_refused(self):
        assert rules.dose_problem(dose=Decimal("0"), unit="mg")[0] == "dose"

    def test_absurd_dose_for_the_unit_is_refused(self):
        field, message = rules.dose_problem(dose=Decimal("50"), unit="tablet")
        assert field == "dose" and "tablet" in message

    def test_dose_above_the_catalog_label_maximum_is_refused(self):
        field, message = rules.dose_problem(dose=Decimal("500"), unit="mg", catalog_key="sertraline")
        assert field == "dose" and "Sertraline" in message and "200" in message

    def test_wrong_unit_for_a_catalog_medication_is_refused(self):
        assert rules.dose_problem(dose=Decimal("2"), unit="mL", catalog_key="sertraline")[0] == "unit"

    def test_unknown_unit_is_refused(self):
        assert rules.dose_problem(dose=Decimal("2"), unit="bucket")[0] == "unit"

    def test_usual_doses_pass(self):
        assert rules.dose_problem(dose=Decimal("100"), unit="mg", catalog_key="sertraline") is None
        assert rules.dose_problem(dose=Decimal("380"), unit="mg", catalog_key="naltrexone_xr") is None
        assert rules.dose_problem(dose=Decimal("2"), unit="tablet") is None


class TestInteractions:
    def test_opioid_with_benzodiazepine_fires(self):
        assert "opioid_benzodiazepine" in fired("buprenorphine_naloxone", "clonazepam")
        assert "opioid_benzodiazepine" in fired("lorazepam", "methadone")

    def test_opioid_with_benzodiazepine_does_not_fire_without_the_benzodiazepine(self):
        assert "opioid_benzodiazepine" not in fired("buprenorphine_naloxone", "sertraline")

    def test_opioid_with_gabapentinoid_fires_and_not_alone(self):
        assert "opioid_gabapentinoid" in fired("gabapentin", "buprenorphine")
        assert "opioid_gabapentinoid" not in fired("gabapentin", "sertraline")

    def test_serotonergic_combination_fires_with_two(self):
        ids = fired("trazodone", "sertraline")
        assert "serotonergic_combination" in ids

    def test_serotonergic_combination_does_not_fire_with_one(self):
        assert "serotonergic_combination" not in fired("sertraline", "bupropion")

    def test_serotonergic_rule_only_fires_when_the_candidate_is_serotonergic(self):
        assert "serotonergic_combination" not in fired("bupropion", "sertraline", "trazodone")

    def test_disulfiram_with_an_alcohol_containing_preparation_fires(self):
        ids = fired("disulfiram", "sertraline", alcohol_other=True)
        assert "disulfiram_alcohol_preparation" in ids
        cand = rules.facts_for(ref="new", name="Cough syrup", contains_alcohol=True)
        warnings = rules.interaction_warnings(cand, [facts("disulfiram")])
        assert [w.rule_id for w in warnings] == ["disulfiram_alcohol_preparation"]

    def test_disulfiram_without_alcohol_does_not_fire(self):
        assert "disulfiram_alcohol_preparation" not in fired("disulfiram", "sertraline")

    def test_naltrexone_with_an_opioid_agonist_fires(self):
        assert "naltrexone_opioid_agonist" in fired("naltrexone_xr", "buprenorphine")
        assert "naltrexone_opioid_agonist" in fired("methadone", "naltrexone")

    def test_naltrexone_without_an_agonist_does_not_fire(self):
        assert "naltrexone_opioid_agonist" not in fired("naltrexone", "acamprosate")

    def test_warning_names_the_medications_and_cites_its_source(self):
        (w,) = [w for w in rules.interaction_warnings(facts("naltrexone"), [facts("buprenorphine")])
                if w.rule_id == "naltrexone_opioid_agonist"]
        assert "Naltrexone (oral)" in w.involved and "Buprenorphine" in w.involved
        assert "dailymed" in w.source.lower()


class TestScreens:
    def test_buprenorphine_prescribed_and_positive_is_expected(self):
        expected = rules.expected_substances(["buprenorphine_naloxone"])
        assert rules.interpret_screen(substance="buprenorphine", positive=True,
                                      expected=expected) == rules.EXPECTED_POSITIVE

    def test_buprenorphine_prescribed_but_absent_is_flagged(self):
        expected = rules.expected_substances(["buprenorphine_naloxone"])
        assert rules.interpret_screen(substance="buprenorphine", positive=False,
                                      expected=expected) == rules.UNEXPECTED_NEGATIVE

    def test_positive_not_prescribed_is_flagged(self):
        expected = rules.expected_substances(["buprenorphine"])
        assert rules.interpret_screen(substance="fentanyl", positive=True,
                                      expected=expected) == rules.UNEXPECTED_POSITIVE

    def test_negative_not_prescribed_is_expected(self):
        assert rules.interpret_screen(substance="cocaine", positive=False,
                                      expected=set()) == rules.EXPECTED_NEGATIVE

    def test_medications_that_do_not_screen_add_nothing(self):
        assert rules.expected_substances(["sertraline", "naltrexone_xr", "methylphenidate"]) == set()
        assert rules.expected_substances(["lorazepam", "lisdexamfetamine"]) == {
            "benzodiazepines", "amphetamines"}


def test_review_due_counts_from_last_review_or_admission():
    assert rules.review_due(last_review=date(2026, 1, 1), admitted_on=date(2025, 12, 1),
                            cadence_days=28) == date(2026, 1, 29)
    assert rules.review_due(last_review=None, admitted_on=date(2026, 1, 1),
                            cadence_days=14) == date(2026, 1, 15)
    assert rules.review_due(last_review=None, admitted_on=None, cadence_days=28) is None
