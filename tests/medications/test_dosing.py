"""Dose checks (no database): unit, route, single dose, daily total, ten-fold changes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from openiop.medications import dosing

D = Decimal


def check(key: str, dose: str, unit: str = "mg", route: str = "oral", frequency: str = "daily",
          prn_max: int | None = None) -> dosing.DoseCheck:
    return dosing.check_dose(dose=D(dose), unit=unit, route=route, frequency=frequency,
                             catalog_key=key, max_doses_per_day=prn_max)


class TestRefusals:
    def test_negative_and_zero_doses_are_refused(self):
        assert check("sertraline", "-5").refusal[0] == "dose"
        assert check("sertraline", "0").refusal[0] == "dose"

    def test_absurd_dose_for_the_unit_is_refused_outside_the_catalog(self):
        result = dosing.check_dose(dose=D("50"), unit="tablet")
        assert result.refusal[0] == "dose" and "tablet" in result.refusal[1]
        assert dosing.check_dose(dose=D("2"), unit="tablet").refusal is None

    def test_unknown_and_wrong_units_are_refused(self):
        assert dosing.check_dose(dose=D("2"), unit="bucket").refusal[0] == "unit"
        result = check("sertraline", "2", unit="mL")
        assert result.refusal[0] == "unit" and "Sertraline is dosed in mg" in result.refusal[1]

    def test_a_route_the_medication_is_not_given_by_is_refused(self):
        assert check("sertraline", "50", route="intramuscular").refusal[0] == "route"

    def test_as_needed_orders_need_their_maximum_doses_per_day(self):
        assert check("hydroxyzine", "25", frequency="prn").refusal[0] == "max_doses_per_day"


class TestTheReviewedExamples:
    def test_escitalopram_80_mg_a_day_is_over_the_daily_maximum(self):
        result = check("escitalopram", "20", frequency="qid")
        assert result.refusal is None
        assert result.daily_total == D("80") and "maximum daily" in result.over_daily
        assert "20 mg" in result.over_daily

    def test_escitalopram_80_mg_as_one_dose_is_refused(self):
        assert check("escitalopram", "80").refusal[0] == "dose"

    def test_bupropion_1350_mg_a_day_is_over_the_daily_maximum(self):
        result = check("bupropion", "450", frequency="tid")
        assert result.daily_total == D("1350") and "450 mg" in result.over_daily

    def test_oral_haloperidol_400_mg_is_refused_though_the_injection_allows_it(self):
        refusal = check("haloperidol", "400").refusal
        assert refusal[0] == "dose" and "oral" in refusal[1]
        assert check("haloperidol", "400", route="intramuscular", frequency="q4w").refusal is None

    def test_sublingual_buprenorphine_240_mg_is_refused(self):
        refusal = check("buprenorphine", "240", route="sublingual").refusal
        assert refusal[0] == "dose" and "24 mg" in refusal[1]
        assert check("buprenorphine", "300", route="subcutaneous", frequency="q4w").refusal is None

    def test_clonidine_2_mg_as_one_dose_is_refused(self):
        assert check("clonidine", "2").refusal[0] == "dose"
        assert check("clonidine", "0.1", frequency="bid").refusal is None


class TestDailyTotals:
    def test_prn_counts_its_maximum_doses_per_day(self):
        ok = check("hydroxyzine", "50", frequency="prn", prn_max=4)
        assert ok.daily_total == D("200") and not ok.over_daily
        over = check("hydroxyzine", "100", frequency="prn", prn_max=6)
        assert over.daily_total == D("600") and over.over_daily

    def test_weekly_and_monthly_doses_have_no_daily_total(self):
        result = check("naltrexone_xr", "380", route="intramuscular", frequency="q4w")
        assert result.refusal is None and result.daily_total is None

    def test_usual_doses_pass(self):
        assert check("sertraline", "100").over_daily == ""
        assert check("sertraline", "100", frequency="bid").over_daily == ""
        assert check("sertraline", "150", frequency="bid").over_daily


class TestUnits:
    def test_mcg_is_converted_before_comparing(self):
        assert check("clonidine", "100", unit="mcg", frequency="bid").refusal is None
        assert check("clonidine", "2000", unit="mcg").refusal[0] == "dose"

    def test_convert(self):
        assert dosing.convert(D("1"), "g", "mg") == D("1000")
        assert dosing.convert(D("500"), "mcg", "mg") == D("0.5")
        assert dosing.convert(D("5"), "mL", "mg") is None


class TestTenfold:
    @pytest.mark.parametrize("previous,unit,new,new_unit", [
        ("10", "mg", "100", "mg"), ("100", "mg", "10", "mg"), ("0.5", "mg", "5", "mg"),
        ("0.1", "mg", "1000", "mcg")])
    def test_a_ten_fold_change_asks_for_confirmation(self, previous, unit, new, new_unit):
        assert dosing.tenfold_change(previous=D(previous), previous_unit=unit, dose=D(new),
                                     unit=new_unit)

    def test_a_unit_change_that_cannot_be_compared_asks_too(self):
        assert "unit changed" in dosing.tenfold_change(previous=D("10"), previous_unit="mg",
                                                       dose=D("10"), unit="mL")

    @pytest.mark.parametrize("previous,new", [("10", "20"), ("100", "50"), ("8", "16")])
    def test_ordinary_titration_does_not(self, previous, new):
        assert dosing.tenfold_change(previous=D(previous), previous_unit="mg", dose=D(new),
                                     unit="mg") == ""
        assert dosing.tenfold_change(previous=None, previous_unit="mg", dose=D(new),
                                     unit="mg") == ""
