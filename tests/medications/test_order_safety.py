"""Order safety through the services: coding, dose limits, controlled substances, the
opioid treatment program rule and recent exposure. A refused order saves nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.medications import controlled, services
from openiop.medications.models import MedicationChange, MedicationOrder

from .conftest import order, outside

TODAY = timezone.localdate


def fields(exc: pytest.ExceptionInfo) -> set[str]:
    return set(exc.value.message_dict)


def by_name(med, name: str, *, dose: str = "10", acks: dict | None = None, **extra):
    data = {"name": name, "source": "clinic", "prescriber": med.prescriber,
            "dose": Decimal(dose), "unit": "mg", "route": "oral", "frequency": "daily",
            "start_date": TODAY()} | extra
    return services.order_create(actor=med.prescriber, participant=med.participant, data=data,
                                 acknowledgements=acks)


def pending(call) -> set[str]:
    with pytest.raises(services.InteractionWarningsPending) as exc:
        call()
    return {w.rule_id for w in exc.value.warnings}


class TestCoding:
    def test_a_catalog_pick_fixes_ingredient_code_and_class(self, med):
        o = order(med, "sertraline")
        assert (o.coding, o.rxnorm, o.catalog_key) == ("catalog", "36437", "sertraline")
        assert o.checked_for_interactions

    def test_renaming_a_catalog_pick_is_refused(self, med):
        with pytest.raises(ValidationError) as exc:
            order(med, "sertraline", name="Oxycodone 10 mg")
        assert fields(exc) == {"name"} and "Sertraline" in exc.value.message_dict["name"][0]
        with pytest.raises(ValidationError):
            order(med, "sertraline", name="My evening pill")
        assert MedicationOrder.objects.count() == 0

    def test_a_brand_name_for_the_same_pick_is_kept(self, med):
        o = order(med, "sertraline", name="Zoloft 50 mg")
        assert o.name == "Zoloft 50 mg" and o.rxnorm == "36437"

    def test_free_text_oxycodone_next_to_alprazolam_warns(self, med):
        order(med, "alprazolam", dose="0.5", frequency="bid")
        assert "opioid_benzodiazepine" in pending(lambda: by_name(med, "Oxycodone 10 mg"))
        o = by_name(med, "Oxycodone 10 mg", acks={"opioid_benzodiazepine": "Short course, naloxone"})
        assert (o.coding, o.catalog_key, o.rxnorm) == ("matched", "oxycodone", "7804")

    def test_free_text_phenelzine_next_to_sertraline_warns(self, med):
        order(med, "sertraline")
        assert "maoi_serotonergic" in pending(lambda: by_name(med, "Nardil 15mg", dose="15"))

    def test_an_unmatched_name_is_saved_uncoded(self, med):
        order(med, "oxycodone", dose="5")
        o = by_name(med, "Omeprazole 20 mg", dose="20", rxnorm="12345")
        assert (o.coding, o.catalog_key, o.rxnorm) == ("uncoded", "", "")
        assert not o.checked_for_interactions
        assert AccessEvent.objects.filter(object_id=str(o.code),
                                          reason="coding: uncoded").exists()


class TestDoses:
    @pytest.mark.parametrize("key,dose,route,frequency,field", [
        ("escitalopram", "20", "oral", "qid", "dose_override_reason"),  # 80 mg/day
        ("escitalopram", "80", "oral", "daily", "dose"),
        ("bupropion", "450", "oral", "tid", "dose_override_reason"),  # 1,350 mg/day
        ("haloperidol", "400", "oral", "daily", "dose"),
        ("buprenorphine", "240", "sublingual", "daily", "dose"),
        ("clonidine", "2", "oral", "daily", "dose"),
    ])
    def test_the_reviewed_examples_are_caught(self, med, key, dose, route, frequency, field):
        with pytest.raises(ValidationError) as exc:
            order(med, key, dose=dose, route=route, frequency=frequency)
        assert fields(exc) == {field}
        assert MedicationOrder.objects.count() == 0

    def test_a_prescriber_can_document_an_override_of_the_daily_maximum(self, med):
        o = order(med, "bupropion", dose="300", frequency="bid",
                  dose_override_reason="Specialist plan, level-guided, seizure risk discussed")
        change = o.changes.get()
        assert change.override_reason.startswith("Specialist plan")
        assert AccessEvent.objects.filter(object_id=str(o.code),
                                          reason__contains="daily maximum overridden").exists()

    def test_only_a_prescriber_can_override(self, med):
        with pytest.raises(ValidationError) as exc:
            services.order_create(actor=med.w.clinician, participant=med.participant, data={
                "catalog_key": "escitalopram", "source": "outside", "outside_prescriber": "Dr. A",
                "dose": Decimal("20"), "unit": "mg", "route": "oral", "frequency": "qid",
                "start_date": TODAY(), "dose_override_reason": "Outside psychiatrist's plan"})
        assert "Only a prescriber" in exc.value.message_dict["dose"][0]

    def test_as_needed_needs_and_uses_its_maximum_doses(self, med):
        with pytest.raises(ValidationError) as exc:
            order(med, "hydroxyzine", dose="25", frequency="prn")
        assert fields(exc) == {"max_doses_per_day"}
        with pytest.raises(ValidationError) as exc:
            order(med, "hydroxyzine", dose="100", frequency="prn", max_doses_per_day=6)
        assert fields(exc) == {"dose_override_reason"}
        o = order(med, "hydroxyzine", dose="25", frequency="prn", max_doses_per_day=4)
        assert o.sig.endswith("at most 4 a day")

    def test_a_ten_fold_adjustment_asks_for_confirmation(self, med):
        o = order(med, "sertraline", dose="10")
        with pytest.raises(ValidationError) as exc:
            services.order_adjust(actor=med.prescriber, order=o, version=1,
                                  reason="dose_titration", dose="100")
        assert fields(exc) == {"confirm_dose_change"}
        assert MedicationOrder.objects.get().dose == Decimal("10")
        o = services.order_adjust(actor=med.prescriber, order=o, version=1,
                                  reason="dose_titration", dose="100", confirm_dose_change=True)
        assert o.dose == Decimal("100")

    def test_a_new_order_ten_times_the_previous_one_asks_too(self, med):
        old = order(med, "lorazepam", dose="0.2", days_ago=40)
        services.order_stop(actor=med.prescriber, order=old, version=1, reason="completed",
                            stop_date=TODAY() - timedelta(days=20))
        with pytest.raises(ValidationError) as exc:
            order(med, "lorazepam", dose="2")
        assert fields(exc) == {"confirm_dose_change"}
        assert order(med, "lorazepam", dose="2", confirm_dose_change=True).dose == Decimal("2")

    def test_units_are_checked_and_converted(self, med):
        with pytest.raises(ValidationError) as exc:
            order(med, "sertraline", dose="5", unit="mL")
        assert fields(exc) == {"unit"}
        o = order(med, "clonidine", dose="100", unit="mcg", frequency="bid")
        with pytest.raises(ValidationError) as exc:  # 100 mcg -> 1 mg: ten-fold
            services.order_adjust(actor=med.prescriber, order=o, version=1,
                                  reason="dose_titration", dose="1", unit="mg")
        assert fields(exc) == {"confirm_dose_change"}

    def test_the_daily_maximum_is_checked_on_adjustment(self, med):
        o = order(med, "escitalopram", dose="10")
        with pytest.raises(ValidationError) as exc:
            services.order_adjust(actor=med.prescriber, order=o, version=1,
                                  reason="not_effective", dose="20", frequency="bid")
        assert fields(exc) == {"dose_override_reason"}


class TestControlled:
    @pytest.mark.parametrize("key,dose,route", [("buprenorphine", "8", "sublingual"),
                                                ("alprazolam", "0.5", "oral"),
                                                ("tramadol", "50", "oral")])
    def test_schedule_iii_and_iv_allow_at_most_five_refills(self, med, key, dose, route):
        with pytest.raises(ValidationError) as exc:
            order(med, key, dose=dose, route=route, refills=12)
        assert fields(exc) == {"refills"} and "1306.22" in exc.value.message_dict["refills"][0]
        assert MedicationOrder.objects.count() == 0
        acks = {"opioid_benzodiazepine": "n/a"}
        assert order(med, key, dose=dose, route=route, refills=5, acks=acks).refills == 5

    def test_schedule_ii_refills_are_refused_on_creation_and_adjustment(self, med):
        with pytest.raises(ValidationError) as exc:
            order(med, "oxycodone", dose="5", refills=1)
        assert "1306.12" in exc.value.message_dict["refills"][0]
        o = order(med, "oxycodone", dose="5")
        with pytest.raises(ValidationError) as exc:
            services.order_adjust(actor=med.prescriber, order=o, version=1,
                                  reason="participant_preference", refills=2)
        assert fields(exc) == {"refills"}
        assert MedicationOrder.objects.get().refills == 0

    def test_schedule_iii_refills_are_limited_on_adjustment(self, med):
        o = order(med, "buprenorphine", dose="8", route="sublingual", refills=2)
        with pytest.raises(ValidationError):
            services.order_adjust(actor=med.prescriber, order=o, version=1,
                                  reason="adherence", refills=6)
        o = services.order_adjust(actor=med.prescriber, order=o, version=1,
                                  reason="adherence", refills=5)
        assert o.refills == 5

    def test_schedule_v_refills_are_as_the_prescriber_authorizes(self, med):
        assert order(med, "pregabalin", dose="75", frequency="bid", refills=11).refills == 11

    def test_a_stricter_state_limit_in_the_data_applies(self, med, monkeypatch):
        site = med.w.episode.program.site
        site.state = "ZZ"
        site.save(update_fields=["state"])
        data = dict(controlled.limits())
        data["states"] = {"ZZ": {"IV": {"max_refills": 2, "source": "Test state rule"}}}
        monkeypatch.setattr(controlled, "limits", lambda: data)
        with pytest.raises(ValidationError) as exc:
            order(med, "alprazolam", dose="0.5", refills=3)
        assert "Test state rule" in exc.value.message_dict["refills"][0]


class TestMethadone:
    def test_methadone_for_oud_is_refused_outside_a_certified_otp(self, med):
        with pytest.raises(ValidationError) as exc:
            order(med, "methadone", dose="30")
        message = exc.value.message_dict["catalog_key"][0]
        assert "42 CFR Part 8" in message and "certified opioid treatment program" in message
        with pytest.raises(ValidationError):
            by_name(med, "methadone 30 mg", dose="30", indication="Opioid use disorder")
        with pytest.raises(ValidationError):
            by_name(med, "Methadose 30 mg", dose="30")
        with pytest.raises(ValidationError):
            by_name(med, "methadone for opioid use disorder", dose="30")
        with pytest.raises(ValidationError):
            order(med, "methadone_pain", dose="5", indication="OUD maintenance")
        assert MedicationOrder.objects.count() == 0

    def test_a_certified_otp_may_order_it(self, med):
        program = med.w.episode.program
        program.settings = {**(program.settings or {}), "certified_otp": True}
        program.save(update_fields=["settings"])
        assert order(med, "methadone", dose="30").catalog_key == "methadone"

    def test_methadone_from_an_outside_otp_is_recorded(self, med):
        assert outside(med, "methadone", dose="80").source == "outside"

    def test_methadone_for_pain_is_checked_as_an_opioid(self, med):
        order(med, "alprazolam", dose="0.5")
        assert "opioid_benzodiazepine" in pending(
            lambda: order(med, "methadone_pain", dose="5", frequency="tid"))
        o = by_name(med, "Methadone 5 mg", dose="5", indication="chronic back pain",
                    acks={"opioid_benzodiazepine": "Pain team plan, naloxone"})
        assert o.catalog_key == "methadone_pain"


class TestRecentExposure:
    def _injected_then_stopped(self, med, *, given_days_ago: int):
        xr = order(med, "naltrexone_xr", dose="380", route="intramuscular", frequency="q4w",
                   days_ago=given_days_ago + 5)
        when = timezone.now() - timedelta(days=given_days_ago)
        services.administration_record(actor=med.nurse, participant=med.participant, order=xr,
                                       administered_at=when, dose="380", unit="mg",
                                       site="left gluteal", lot="AB1")
        services.order_stop(actor=med.prescriber, order=xr, version=xr.version,
                            reason="participant_preference",
                            stop_date=TODAY() - timedelta(days=given_days_ago))

    def test_an_extended_release_injection_10_days_ago_still_blocks_buprenorphine(self, med):
        self._injected_then_stopped(med, given_days_ago=10)
        with pytest.raises(services.InteractionWarningsPending) as exc:
            order(med, "buprenorphine", dose="8", route="sublingual", days_ago=0)
        (w,) = exc.value.warnings
        assert w.rule_id == "naltrexone_opioid_agonist" and w.severity == "severe"
        assert "stopped" in w.involved and "in effect until" in w.involved

    def test_after_its_duration_of_effect_it_no_longer_counts(self, med):
        self._injected_then_stopped(med, given_days_ago=30)
        assert order(med, "buprenorphine", dose="8", route="sublingual", days_ago=0).pk

    def test_a_stopped_medication_without_lasting_effect_does_not_count(self, med):
        o = order(med, "alprazolam", dose="0.5", days_ago=20)
        services.order_stop(actor=med.prescriber, order=o, version=1, reason="completed",
                            stop_date=TODAY() - timedelta(days=1))
        assert order(med, "oxycodone", dose="5", days_ago=0).pk
        assert MedicationChange.objects.filter(kind="stop").count() == 1
