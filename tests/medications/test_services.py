"""Services: every write rule and refusal. A refused write changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from openiop.audit.models import AccessEvent
from openiop.core.exceptions import Conflict, InvalidTransition, NotPermitted
from openiop.medications import services
from openiop.medications.models import (
    Administration,
    DrugScreen,
    InteractionAcknowledgement,
    MedicationChange,
    MedicationOrder,
    Reconciliation,
)

from .conftest import order, outside

TODAY = timezone.localdate


def counts() -> tuple[int, ...]:
    return (MedicationOrder.objects.count(), MedicationChange.objects.count(),
            InteractionAcknowledgement.objects.count(), Administration.objects.count())


def field_of(exc: pytest.ExceptionInfo) -> set[str]:
    return set(exc.value.message_dict)


class TestOrders:
    def test_prescriber_creates_an_order_with_a_start_change_and_an_audit_event(self, med):
        o = order(med, "sertraline", dose="50")
        assert o.status == "active" and o.prescriber == med.prescriber and o.rxnorm == "36437"
        (change,) = o.changes.all()
        assert change.kind == "start" and change.dose == Decimal("50")
        assert AccessEvent.objects.filter(object_type="medication_order", object_id=str(o.code),
                                          action="create").exists()

    def test_non_prescriber_cannot_create_a_clinic_order(self, med):
        before = counts()
        with pytest.raises(NotPermitted):
            services.order_create(actor=med.nurse, participant=med.participant, data={
                "catalog_key": "sertraline", "source": "clinic", "prescriber": med.prescriber,
                "dose": Decimal("50"), "unit": "mg", "route": "oral", "frequency": "daily",
                "start_date": TODAY()})
        assert counts() == before

    def test_order_without_a_prescriber_is_refused_naming_the_field(self, med):
        before = counts()
        with pytest.raises(ValidationError) as exc:
            order(med, prescriber=None)
        assert field_of(exc) == {"prescriber"}
        assert counts() == before

    def test_prescriber_must_have_the_prescriber_role(self, med):
        with pytest.raises(ValidationError) as exc:
            order(med, prescriber=med.nurse)
        assert field_of(exc) == {"prescriber"}

    @pytest.mark.parametrize("dose", ["-5", "0", "5000"])
    def test_negative_zero_or_absurd_doses_are_refused(self, med, dose):
        before = counts()
        with pytest.raises(ValidationError) as exc:
            order(med, dose=dose)
        assert field_of(exc) == {"dose"}
        assert counts() == before

    def test_stop_before_start_is_refused(self, med):
        with pytest.raises(ValidationError) as exc:
            order(med, stop_date=TODAY() - timedelta(days=30))
        assert field_of(exc) == {"stop_date"}
        assert MedicationOrder.objects.count() == 0

    def test_schedule_ii_may_not_have_refills(self, med):
        with pytest.raises(ValidationError) as exc:
            order(med, "methylphenidate", dose="18", refills=2)
        assert field_of(exc) == {"refills"}

    def test_outside_prescription_needs_the_outside_prescribers_name(self, med):
        with pytest.raises(ValidationError) as exc:
            services.order_create(actor=med.w.clinician, participant=med.participant, data={
                "catalog_key": "methadone", "source": "outside", "dose": Decimal("80"),
                "unit": "mg", "route": "oral", "frequency": "daily", "start_date": TODAY()})
        assert field_of(exc) == {"outside_prescriber"}

    def test_clinician_records_an_outside_prescription(self, med):
        o = outside(med, "methadone", dose="80")
        assert o.source == "outside" and o.prescriber is None
        assert o.prescriber_label == "Dr. Lee, primary care"

    def test_cannot_order_for_another_organizations_participant(self, med):
        with pytest.raises(NotPermitted):
            services.order_create(actor=med.prescriber, participant=med.w.outsider_participant,
                                  data={"catalog_key": "sertraline", "source": "clinic",
                                        "prescriber": med.prescriber, "dose": Decimal("50"),
                                        "unit": "mg", "route": "oral", "frequency": "daily",
                                        "start_date": TODAY()})


class TestAdjustments:
    def test_every_adjustment_is_a_new_history_row_with_its_reason(self, med):
        o = order(med, "sertraline", dose="50")
        o = services.order_adjust(actor=med.prescriber, order=o, version=o.version,
                                  reason="dose_titration", dose="100")
        o = services.order_adjust(actor=med.prescriber, order=o, version=o.version,
                                  reason="side_effect", dose="75", note="GI upset")
        assert o.dose == Decimal("75") and o.version == 3
        history = [(c.kind, c.reason, c.dose, c.previous_dose) for c in o.changes.all()]
        assert history == [("start", "new", Decimal("50"), None),
                           ("adjust", "dose_titration", Decimal("100"), Decimal("50")),
                           ("adjust", "side_effect", Decimal("75"), Decimal("100"))]

    def test_adjustment_needs_a_reason_from_the_list(self, med):
        o = order(med)
        with pytest.raises(ValidationError) as exc:
            services.order_adjust(actor=med.prescriber, order=o, version=o.version,
                                  reason="felt like it", dose="100")
        assert field_of(exc) == {"reason"}
        o.refresh_from_db()
        assert o.dose == Decimal("50") and o.changes.count() == 1

    def test_non_prescriber_cannot_change_an_order(self, med):
        o = order(med)
        before = counts()
        for actor in (med.nurse, med.w.clinician):
            with pytest.raises(NotPermitted):
                services.order_adjust(actor=actor, order=o, version=o.version,
                                      reason="dose_titration", dose="100")
            with pytest.raises(NotPermitted):
                services.order_stop(actor=actor, order=o, version=o.version, reason="completed")
        o.refresh_from_db()
        assert counts() == before and o.dose == Decimal("50") and o.status == "active"

    def test_absurd_adjusted_dose_is_refused(self, med):
        o = order(med)
        with pytest.raises(ValidationError) as exc:
            services.order_adjust(actor=med.prescriber, order=o, version=o.version,
                                  reason="dose_titration", dose="-25")
        assert field_of(exc) == {"dose"}

    def test_stale_version_is_a_conflict_and_nothing_changes(self, med):
        o = order(med)
        services.order_adjust(actor=med.prescriber, order=o, version=1, reason="dose_titration",
                              dose="100")
        with pytest.raises(Conflict):
            services.order_adjust(actor=med.prescriber, order=o, version=1,
                                  reason="dose_titration", dose="150")
        o.refresh_from_db()
        assert o.dose == Decimal("100") and o.changes.count() == 2

    def test_stop_records_a_stop_change_and_refuses_later_changes(self, med):
        o = order(med)
        o = services.order_stop(actor=med.prescriber, order=o, version=o.version,
                                reason="not_effective")
        assert o.status == "stopped" and o.stop_date == TODAY()
        assert o.changes.last().kind == "stop"
        with pytest.raises(InvalidTransition):
            services.order_adjust(actor=med.prescriber, order=o, version=o.version,
                                  reason="dose_titration", dose="100")

    def test_stop_date_before_start_is_refused(self, med):
        o = order(med, days_ago=5)
        with pytest.raises(ValidationError) as exc:
            services.order_stop(actor=med.prescriber, order=o, version=o.version,
                                reason="completed", stop_date=TODAY() - timedelta(days=9))
        assert field_of(exc) == {"stop_date"}
        o.refresh_from_db()
        assert o.status == "active"


class TestInteractionAcknowledgement:
    def test_warning_is_raised_and_nothing_saved_until_acknowledged(self, med):
        order(med, "buprenorphine_naloxone", dose="16", route="sublingual")
        before = counts()
        with pytest.raises(services.InteractionWarningsPending) as exc:
            order(med, "clonazepam", dose="0.5", frequency="bid")
        assert [w.rule_id for w in exc.value.warnings] == ["opioid_benzodiazepine"]
        assert counts() == before

    def test_a_blank_or_token_reason_is_not_an_acknowledgement(self, med):
        order(med, "buprenorphine_naloxone", dose="16", route="sublingual")
        with pytest.raises(services.InteractionWarningsPending):
            order(med, "clonazepam", dose="0.5", acks={"opioid_benzodiazepine": " ok "})

    def test_acknowledged_warning_is_kept_with_the_order_and_audited(self, med):
        order(med, "buprenorphine_naloxone", dose="16", route="sublingual")
        o = order(med, "clonazepam", dose="0.5",
                  acks={"opioid_benzodiazepine": "Short taper over 2 weeks; naloxone given"})
        (ack,) = o.acknowledgements.all()
        assert ack.rule_id == "opioid_benzodiazepine" and ack.acknowledged_by == med.prescriber
        assert "Clonazepam" in ack.medications and "Buprenorphine" in ack.medications
        assert AccessEvent.objects.filter(object_type="interaction_ack").count() == 1

    def test_adjusting_does_not_re_ask_an_acknowledged_warning(self, med):
        order(med, "buprenorphine_naloxone", dose="16", route="sublingual")
        o = order(med, "clonazepam", dose="0.5",
                  acks={"opioid_benzodiazepine": "Short taper over 2 weeks; naloxone given"})
        o = services.order_adjust(actor=med.prescriber, order=o, version=o.version,
                                  reason="dose_titration", dose="0.25")
        assert o.dose == Decimal("0.25")

    def test_adjustment_that_adds_alcohol_raises_the_disulfiram_warning(self, med):
        order(med, "disulfiram", dose="250")
        o = order(med, "sertraline", dose="50")
        with pytest.raises(services.InteractionWarningsPending) as exc:
            services.order_adjust(actor=med.prescriber, order=o, version=o.version,
                                  reason="participant_preference", contains_alcohol=True)
        assert [w.rule_id for w in exc.value.warnings] == ["disulfiram_alcohol_preparation"]
        o.refresh_from_db()
        assert not o.contains_alcohol

    def test_no_warning_for_a_safe_combination(self, med):
        order(med, "naltrexone", dose="50")
        o = order(med, "acamprosate", dose="666", frequency="tid")
        assert o.acknowledgements.count() == 0

    def test_naltrexone_after_buprenorphine_warns(self, med):
        order(med, "buprenorphine", dose="8", route="sublingual")
        with pytest.raises(services.InteractionWarningsPending) as exc:
            order(med, "naltrexone_xr", dose="380", route="intramuscular", frequency="q4w")
        assert "naltrexone_opioid_agonist" in {w.rule_id for w in exc.value.warnings}


class TestReconciliation:
    def test_reconciliation_records_who_when_and_each_decision(self, med):
        keep = order(med, "sertraline")
        gone = outside(med, "zolpidem", dose="5", frequency="qhs")
        rec = services.reconciliation_record(
            actor=med.prescriber, participant=med.participant, point="admission",
            decisions={str(keep.code): "continue", str(gone.code): "stop"})
        assert rec.performed_by == med.prescriber and rec.performed_at
        assert {d["name"]: d["decision"] for d in rec.decisions} == {
            "Sertraline": "continue", "Zolpidem": "stop"}
        gone.refresh_from_db()
        keep.refresh_from_db()
        assert gone.status == "stopped" and keep.status == "active"

    def test_every_active_medication_needs_a_decision(self, med):
        order(med)
        with pytest.raises(ValidationError) as exc:
            services.reconciliation_record(actor=med.prescriber, participant=med.participant,
                                           point="discharge", decisions={})
        assert field_of(exc) == {"decisions"}
        assert Reconciliation.objects.count() == 0

    def test_nurse_may_not_stop_a_clinic_order_at_reconciliation(self, med):
        o = order(med)
        with pytest.raises(NotPermitted):
            services.reconciliation_record(actor=med.nurse, participant=med.participant,
                                           point="step_down", decisions={str(o.code): "stop"})
        o.refresh_from_db()
        assert o.status == "active" and Reconciliation.objects.count() == 0


class TestAdministration:
    def _xr(self, med):
        return order(med, "naltrexone_xr", dose="380", route="intramuscular", frequency="q4w")

    def test_nurse_records_a_dose_with_site_lot_time_and_who(self, med):
        o = self._xr(med)
        row = services.administration_record(
            actor=med.nurse, participant=med.participant, order=o,
            administered_at=timezone.now() - timedelta(minutes=5), dose="380", unit="mg",
            site="left gluteal", lot="XR1234")
        assert row.administered_by == med.nurse and row.site == "left gluteal"
        assert row.route == "intramuscular"

    def test_administering_without_an_order_is_refused(self, med):
        with pytest.raises(ValidationError) as exc:
            services.administration_record(
                actor=med.nurse, participant=med.participant, order=None,
                administered_at=timezone.now(), dose="380", unit="mg", site="left gluteal",
                lot="XR1")
        assert field_of(exc) == {"order"}
        assert Administration.objects.count() == 0

    def test_administering_against_a_stopped_order_is_refused(self, med):
        o = self._xr(med)
        o = services.order_stop(actor=med.prescriber, order=o, version=o.version,
                                reason="completed")
        with pytest.raises(ValidationError) as exc:
            services.administration_record(
                actor=med.nurse, participant=med.participant, order=o,
                administered_at=timezone.now(), dose="380", unit="mg", site="right gluteal",
                lot="XR1")
        assert field_of(exc) == {"order"}

    def test_clinician_without_administer_permission_is_refused(self, med):
        o = self._xr(med)
        with pytest.raises(NotPermitted):
            services.administration_record(
                actor=med.w.clinician, participant=med.participant, order=o,
                administered_at=timezone.now(), dose="380", unit="mg", site="left gluteal",
                lot="XR1")

    def test_missing_lot_and_absurd_dose_are_refused(self, med):
        o = self._xr(med)
        base = {"actor": med.nurse, "participant": med.participant, "order": o,
                "administered_at": timezone.now(), "unit": "mg", "site": "left gluteal"}
        with pytest.raises(ValidationError) as exc:
            services.administration_record(**base, dose="380", lot=" ")
        assert field_of(exc) == {"lot"}
        with pytest.raises(ValidationError) as exc:
            services.administration_record(**base, dose="3800", lot="XR1")
        assert field_of(exc) == {"dose"}
        assert Administration.objects.count() == 0


class TestScreensAndMonitoring:
    def test_screen_is_interpreted_against_what_was_prescribed(self, med):
        order(med, "buprenorphine_naloxone", dose="16", route="sublingual")
        screen = services.screen_record(actor=med.nurse, participant=med.participant,
                                        collected_on=TODAY(),
                                        results={"buprenorphine": True, "fentanyl": False})
        assert not screen.has_unexpected
        assert {r.substance: r.interpretation for r in screen.results.all()} == {
            "buprenorphine": "expected_positive", "fentanyl": "expected_negative"}

    def test_absent_buprenorphine_and_unexpected_fentanyl_are_flagged(self, med):
        order(med, "buprenorphine_naloxone", dose="16", route="sublingual")
        screen = services.screen_record(actor=med.nurse, participant=med.participant,
                                        collected_on=TODAY(),
                                        results={"buprenorphine": False, "fentanyl": True})
        assert screen.has_unexpected
        assert {r.substance: r.interpretation for r in screen.results.all()} == {
            "buprenorphine": "unexpected_negative", "fentanyl": "unexpected_positive"}

    def test_screen_before_the_prescription_started_expects_nothing(self, med):
        order(med, "buprenorphine", dose="8", route="sublingual", days_ago=3)
        screen = services.screen_record(actor=med.nurse, participant=med.participant,
                                        collected_on=TODAY() - timedelta(days=7),
                                        results={"buprenorphine": True})
        assert screen.results.get().interpretation == "unexpected_positive"

    def test_unknown_substance_and_future_date_are_refused(self, med):
        with pytest.raises(ValidationError) as exc:
            services.screen_record(actor=med.nurse, participant=med.participant,
                                   collected_on=TODAY(), results={"kryptonite": True})
        assert field_of(exc) == {"results"}
        with pytest.raises(ValidationError) as exc:
            services.screen_record(actor=med.nurse, participant=med.participant,
                                   collected_on=TODAY() + timedelta(days=1),
                                   results={"cocaine": False})
        assert field_of(exc) == {"collected_on"}
        assert DrugScreen.objects.count() == 0

    def test_adherence_side_effect_review_and_naloxone_are_recorded(self, med):
        o = order(med)
        a = services.adherence_record(actor=med.nurse, participant=med.participant,
                                      doses_missed=2, order=o)
        assert a.reporter == "staff"
        s = services.side_effect_record(actor=med.nurse, participant=med.participant,
                                        effect="Nausea", severity="mild", onset_on=TODAY(),
                                        order=o)
        assert s.get_severity_display() == "Mild"
        r = services.review_record(actor=med.prescriber, participant=med.participant)
        assert r.reviewer == med.prescriber
        n = services.naloxone_record(actor=med.nurse, participant=med.participant,
                                     on_hand=False, kit_dispensed=True)
        assert n.on_hand

    def test_bad_monitoring_input_is_refused(self, med):
        with pytest.raises(ValidationError) as exc:
            services.adherence_record(actor=med.nurse, participant=med.participant,
                                      doses_missed=-1)
        assert field_of(exc) == {"doses_missed"}
        with pytest.raises(ValidationError) as exc:
            services.side_effect_record(actor=med.nurse, participant=med.participant,
                                        effect="x", severity="apocalyptic", onset_on=TODAY())
        assert field_of(exc) == {"severity"}
        with pytest.raises(NotPermitted):
            services.review_record(actor=med.nurse, participant=med.participant)

    def test_participant_reports_only_their_own_adherence(self, med):
        from openiop.accounts.models import User
        from tests.factories import participant as make_participant

        user = User.objects.create_user(username="pt1", password="x" * 12, role="participant")
        med.participant.user = user
        med.participant.save(update_fields=["user"])
        row = services.adherence_record(actor=user, participant=med.participant, doses_missed=0)
        assert row.reporter == "participant"
        other = make_participant(med.w.org)
        with pytest.raises(NotPermitted):
            services.adherence_record(actor=user, participant=other, doses_missed=0)
