"""Pure rules: catalog integrity, free-text matching and the expected-versus-unexpected
screen logic with the immunoassay caveats (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from openiop.medications import rules


class TestCatalog:
    def test_every_entry_has_code_level_class_routes_dosing_and_a_source(self):
        cat = rules.catalog()
        assert len(cat) >= 70
        for e in cat.values():
            assert e.rxnorm.isdigit(), e.key
            assert e.rxnorm_level == ("MIN" if len(e.ingredients) > 1 else "IN"), e.key
            assert e.drug_class and e.forms and e.routes and e.dose_units, e.key
            assert "rxnav" in e.source.lower(), e.key
            assert e.verified == bool(e.verified_by), e.key
            # every route has dose limits, each with its source
            for route in e.routes:
                limit = e.limit_for(route)
                assert limit is not None and limit.source.strip(), (e.key, route)
                assert limit.max_daily is None or limit.max_daily >= limit.max_single, e.key

    @pytest.mark.parametrize("key", [
        "oxycodone", "hydrocodone", "morphine", "tramadol", "tapentadol", "phenelzine",
        "tranylcypromine", "selegiline_patch", "clozapine", "dextroamphetamine", "pregabalin",
        "carisoprodol", "cyclobenzaprine", "ondansetron", "ziprasidone", "ibuprofen",
        "naproxen", "lisinopril", "losartan", "hydrochlorothiazide", "metronidazole",
        "methadone_pain", "linezolid", "sumatriptan"])
    def test_the_medications_prescribed_alongside_treatment_are_in_the_catalog(self, key):
        assert key in rules.catalog()

    def test_verified_codes_are_the_published_ingredient_codes(self):
        # Confirmed against the CPIC drug table (RxNorm ingredient RXCUIs).
        cat = rules.catalog()
        expected = {"oxycodone": "7804", "morphine": "7052", "tramadol": "10689",
                    "clozapine": "2626", "carisoprodol": "2101", "ondansetron": "26225",
                    "methadone": "6813", "methadone_pain": "6813", "citalopram": "2556",
                    "hydrochlorothiazide": "5487", "fluvoxamine": "42355"}
        for key, code in expected.items():
            assert cat[key].rxnorm == code and cat[key].verified, key

    def test_schedules(self):
        cat = rules.catalog()
        assert cat["buprenorphine"].dea_schedule == "III"
        assert cat["methadone"].dea_schedule == "II" and cat["oxycodone"].dea_schedule == "II"
        assert cat["tramadol"].dea_schedule == "IV" and cat["pregabalin"].dea_schedule == "V"
        assert cat["naltrexone_xr"].dea_schedule is None

    def test_duration_of_effect_is_stated_per_entry(self):
        cat = rules.catalog()
        assert cat["naltrexone_xr"].effect_days == 28
        assert cat["phenelzine"].effect_days == 14
        assert cat["fluoxetine"].effect_days == 35
        assert cat["sertraline"].effect_days == 0

    def test_methadone_entries_differ_by_indication(self):
        cat = rules.catalog()
        assert cat["methadone"].otp_only and cat["methadone"].indication == "opioid_use_disorder"
        assert not cat["methadone_pain"].otp_only and "opioid" in cat["methadone_pain"].flags


class TestMatching:
    @pytest.mark.parametrize("text,key", [
        ("Oxycodone 10 mg", "oxycodone"),
        ("oxycodone/acetaminophen (Percocet) 5/325", "oxycodone"),
        ("NARDIL 15MG", "phenelzine"),
        ("Zoloft", "sertraline"),
        ("Suboxone 8/2 film", "buprenorphine_naloxone"),
        ("buprenorphine/naloxone", "buprenorphine_naloxone"),
        ("buprenorphine 8 mg SL", "buprenorphine"),
        ("naltrexone 50 mg", "naltrexone"),
        ("Vivitrol", "naltrexone_xr"),
        ("Dolophine 5 mg", "methadone_pain"),
        ("methadone 10 mg", "methadone_pain"),
        ("Methadose 60 mg", "methadone"),
        ("Methadone (opioid use disorder) 60 mg", "methadone"),
        ("Xanax XR", "alprazolam"),
    ])
    def test_generic_and_brand_names_match_the_catalog(self, text, key):
        assert rules.match_text(text).key == key

    @pytest.mark.parametrize("text", ["Omeprazole 20 mg", "vitamin D", "", "oxy"])
    def test_unknown_names_do_not_match(self, text):
        assert rules.match_text(text) is None


class TestScreens:
    def test_buprenorphine_prescribed_and_positive_is_expected(self):
        assert rules.interpret_result(substance="buprenorphine", positive=True,
                                      catalog_keys=["buprenorphine_naloxone"]) == (
            rules.EXPECTED_POSITIVE, "")

    def test_buprenorphine_prescribed_but_absent_is_flagged(self):
        assert rules.interpret_result(substance="buprenorphine", positive=False,
                                      catalog_keys=["buprenorphine_naloxone"]) == (
            rules.UNEXPECTED_NEGATIVE, "")

    def test_positive_not_prescribed_is_flagged(self):
        assert rules.interpret_result(substance="fentanyl", positive=True,
                                      catalog_keys=["buprenorphine"])[0] == rules.UNEXPECTED_POSITIVE

    def test_negative_not_prescribed_is_expected(self):
        assert rules.interpret_screen(substance="cocaine", positive=False,
                                      expected=set()) == rules.EXPECTED_NEGATIVE

    @pytest.mark.parametrize("key", ["lorazepam", "clonazepam"])
    def test_benzodiazepine_assays_often_miss_lorazepam_and_clonazepam(self, key):
        interpretation, caveat = rules.interpret_result(
            substance="benzodiazepines", positive=False, catalog_keys=[key])
        assert interpretation == rules.ASSAY_MAY_MISS
        assert rules.catalog()[key].name in caveat and "definitive test" in caveat
        assert "Mayo Clin Proc" in caveat
        assert not interpretation.startswith("unexpected")

    def test_a_negative_for_a_benzodiazepine_the_assay_detects_is_still_flagged(self):
        assert rules.interpret_result(substance="benzodiazepines", positive=False,
                                      catalog_keys=["diazepam"]) == (rules.UNEXPECTED_NEGATIVE, "")
        # with both, the detectable one should have shown: still flagged
        assert rules.interpret_result(substance="benzodiazepines", positive=False,
                                      catalog_keys=["diazepam", "lorazepam"])[0] == \
            rules.UNEXPECTED_NEGATIVE

    def test_opiate_assays_miss_hydrocodone(self):
        assert rules.interpret_result(substance="opiates", positive=False,
                                      catalog_keys=["hydrocodone"])[0] == rules.ASSAY_MAY_MISS

    def test_an_unexpected_positive_a_prescription_can_cause_carries_the_caveat(self):
        interpretation, caveat = rules.interpret_result(
            substance="amphetamines", positive=True, catalog_keys=["bupropion"])
        assert interpretation == rules.UNEXPECTED_POSITIVE
        assert "Bupropion" in caveat and "false-positive" in caveat
        assert rules.interpret_result(substance="amphetamines", positive=True,
                                      catalog_keys=["sertraline"]) == (rules.UNEXPECTED_POSITIVE, "")

    def test_medications_that_do_not_screen_add_nothing(self):
        assert rules.expected_substances(["sertraline", "naltrexone_xr", "methylphenidate"]) == set()
        assert rules.expected_substances(["lorazepam", "lisdexamfetamine"]) == {
            "benzodiazepines", "amphetamines"}

    def test_every_panel_substance_cites_its_source_and_lists_real_ingredients(self):
        ingredients = {i for e in rules.catalog().values() for i in e.ingredients}
        for key, panel in rules.screen_panel().items():
            for ingredient in (*panel["misses"], *panel["cross_reacts"]):
                assert ingredient in ingredients, (key, ingredient)
            if panel["misses"] or panel["cross_reacts"]:
                assert "doi:" in panel["source"], key


def test_review_due_counts_from_last_review_or_admission():
    assert rules.review_due(last_review=date(2026, 1, 1), admitted_on=date(2025, 12, 1),
                            cadence_days=28) == date(2026, 1, 29)
    assert rules.review_due(last_review=None, admitted_on=date(2026, 1, 1),
                            cadence_days=14) == date(2026, 1, 15)
    assert rules.review_due(last_review=None, admitted_on=None, cadence_days=28) is None
